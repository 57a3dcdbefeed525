"""The judge and its support check, against canaries and against human-labelled sets.

    python scripts/bench_judge.py ../shared/data [--set squad|pacific] [--slice tune|report]
                                  [--questions 500] [--json]
    python scripts/bench_judge.py ../shared/data --set begin-wow|begin-cmu|begin-tc
    python scripts/bench_judge.py ../shared/data --set halueval-dialogue [--slice tune|report]
                                  [--history]
    python scripts/bench_judge.py ../shared/data --audit [--concurrency 100] [--canaries 10]

BEGIN and HaluEval (``faithfulness_sets``): the support check's value beside the
word-support baseline in the same run (AUC of attributable against not; the share of
pairs preferring the right response), and the flag rates under the live flag rule and
two others; ``--history`` adds HaluEval's dialogue history as a passage. SQuAD and PACIFIC: the
canaries below, the baseline's canary AUC beside the judge's, the share of the gold
answers' sentences flagged, and the check's latency for an offline-sized answer and a
300-word one with eight passages.

Real answers are extractive and right: for SQuAD v1.1 dev, the sentence of the gold
paragraph that contains a gold answer; for PACIFIC, the sentence of a conversation's
paragraphs that contains a text span answer. Each is shown with its gold paragraph and
two neighbouring paragraphs of the same article (PACIFIC: all of the conversation's
paragraphs). Canaries come from ``arena.judge.canaries`` (another article's answer, a
number changed, a name swapped, a claim negated, a refusal). Questions are shuffled
with a fixed seed; SQuAD's first ``--questions`` are the tuning slice the judge's
thresholds were chosen on, the next ``--questions`` are the reported slice. Prints the
AUC of real against canary scores, per kind the share of canaries scored strictly below
their real answer, and grades per second (embedding included, one process; also per
CPU second of the process, which does not depend on what else the machine runs).

``--audit`` times ``run_audit`` over 50 stored SQuAD answers with a stand-in LLM judge:
an OpenAI-compatible server on 127.0.0.1 that replies with a valid grade after a random
0.5-5 s, behind the real ``LLMJudge`` with ``--concurrency`` slots. It prints the audit's
wall time against the slowest single grade (target: at most twice).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from bench_retrieval import read_jsonl, read_qrels
from faithfulness_sets import (
    BEGIN_SETS,
    begin_rows,
    flag_rate,
    halueval_pairs,
    latency_ms,
    run_begin,
    run_halueval,
    word_support,
)

from arena.judge.audit import run_audit
from arena.judge.canaries import canary_report, make_canaries
from arena.judge.grades import GRADE_SCHEMA, Case
from arena.judge.llm import LLMJudge
from arena.judge.offline import OfflineJudge
from arena.roster import build_roster
from arena.store import Store
from arena.types import Answer, ModelSpec
from knowledge.chunking import split_sentences
from knowledge.types import Hit, Passage

SEED = 14
BATCH = 64  # questions graded per embedding call


def answer_sentence(paragraph: str, golds: list[str]) -> str | None:
    """The first sentence of the paragraph holding a gold answer word for word."""
    for sentence in split_sentences(paragraph):
        if any(g and g in sentence for g in golds):
            return sentence
    return None


def squad_items(root: Path) -> list[tuple[str, str, list[str], str]]:
    """(group, question, passages, real answer) for every usable SQuAD question."""
    folder = root / "squad-v1.1-dev"
    corpus = {d["_id"]: d for d in read_jsonl(folder / "corpus.jsonl")}
    qrels = read_qrels(folder / "qrels" / "test.tsv")
    by_title: dict[str, list[str]] = defaultdict(list)
    for doc_id, doc in corpus.items():
        by_title[doc["title"]].append(doc_id)
    items = []
    for query in read_jsonl(folder / "queries.jsonl"):
        gold = next(iter(qrels.get(query["_id"], {})), None)
        if gold is None:
            continue
        doc = corpus[gold]
        answer = answer_sentence(doc["text"], query.get("answers", []))
        if answer is None:
            continue
        siblings = by_title[doc["title"]]
        at = siblings.index(gold)
        neighbours = [siblings[i] for i in (at - 1, at + 1) if 0 <= i < len(siblings)]
        passages = [doc["text"], *(corpus[n]["text"] for n in neighbours)]
        items.append((doc["title"], query["text"], passages, answer))
    return items


def pacific_items(root: Path) -> list[tuple[str, str, list[str], str]]:
    """(group, question, passages, real answer) for PACIFIC's text span answers."""
    items = []
    conversations = json.loads((root / "pacific" / "validation.json").read_text())
    for n, conversation in enumerate(conversations):
        paragraphs = [p["text"] for p in conversation["paragraphs"]]
        for turn in conversation["questions"]:
            if turn["answer_from"] != "text" or turn["answer_type"] not in ("span", "multi-span"):
                continue
            golds = [str(a) for a in turn["answer"]]
            answer = next(filter(None, (answer_sentence(p, golds) for p in paragraphs)), None)
            if answer:
                items.append((f"conversation {n}", turn["original_question"], paragraphs, answer))
    return items


def run(items, judge: OfflineJudge) -> dict:
    rng = random.Random(SEED)
    cases: list[Case] = []
    owners: list[tuple[int, str]] = []  # (item index, kind) per case
    for i, (group, question, passages, answer) in enumerate(items):
        others = [a for g, _, _, a in rng.sample(items, min(40, len(items))) if g != group][:20]
        cases.append(Case(question, passages, answer))
        owners.append((i, "real"))
        for canary in make_canaries(answer, passages, others, rng):
            cases.append(Case(question, passages, canary.answer))
            owners.append((i, canary.kind))
    started, cpu = time.perf_counter(), time.process_time()
    grades = []
    step = BATCH * 5
    for at in range(0, len(cases), step):
        grades += judge.grade_now(cases[at : at + step])
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    real = {i: g.score for (i, kind), g in zip(owners, grades, strict=True) if kind == "real"}
    scored = [
        (i, kind, real[i], g.score)
        for (i, kind), g in zip(owners, grades, strict=True)
        if kind != "real"
    ]
    report = canary_report(scored)
    baseline = canary_report(
        [
            (i, kind, word_support(items[i][2], items[i][3]), word_support(c.passages, c.answer))
            for (i, kind), c in zip(owners, cases, strict=True)
            if kind != "real"
        ]
    )
    contradictions = [
        s
        for s in scored
        if s[1] in ("swapped_number", "swapped_name", "negated") and None not in s[2:]
    ]
    return {
        "questions": len(items),
        "grades": len(cases),
        "auc": round(report.auc, 4),
        "baseline_auc": round(baseline.auc, 4),
        "below": {k: round(v, 4) for k, v in sorted(report.below.items())},
        "contradictions_below": round(float(np.mean([c < r for _, _, r, c in contradictions])), 4),
        "counts": report.counts,
        "real_score_mean": round(float(np.mean(list(real.values()))), 1),
        "grades_per_s": round(len(cases) / seconds, 1),
        # CPU seconds of this process (all its threads): what the grades cost when the
        # machine's two cores are shared with other work, as they were here
        "grades_per_cpu_s": round(len(cases) / cpu_seconds, 1),
        "flagged": report.flagged,
        "gold_flags": flag_rate([(passages, answer) for _, _, passages, answer in items]),
    }


def long_answers(items, rng: random.Random, words: int = 300) -> list[tuple[list[str], str]]:
    """(eight passages, a ~300-word answer made of their sentences), as a hosted model's
    answer is long and shown more passages."""
    out = []
    for _, _, passages, _ in items:
        shown = [*passages, *(p for _, _, ps, _ in rng.sample(items, 3) for p in ps)][:8]
        sentences = [s for p in shown for s in split_sentences(p)]
        answer: list[str] = []
        while sum(len(s.split()) for s in answer) < words:
            answer.append(rng.choice(sentences))
        out.append((shown, " ".join(answer)))
    return out


def check_latency(items) -> dict:
    rng = random.Random(SEED)
    return {
        "offline_answer": latency_ms([(p, a) for _, _, p, a in items]),
        "hosted_300_words": latency_ms(long_answers(items, rng)),
    }


def slow_judge_server(rng: random.Random) -> ThreadingHTTPServer:
    """An OpenAI-compatible stand-in judge: a valid grade after a random 0.5-5 s."""
    grade = {c: {"reason": "stand-in", "level": "Good"} for c in GRADE_SCHEMA["required"]}
    body = json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "stand-in",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": json.dumps(grade)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 500, "completion_tokens": 150, "total_tokens": 650},
        }
    ).encode()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                delay = rng.uniform(0.5, 5.0)
            time.sleep(delay)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default backlog of 5 refuses a burst of connections

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


async def time_audit(items, concurrency: int, canaries: int) -> dict:
    """One audit of 50 stored answers by the stand-in judge; wall time against its grades."""
    server = slow_judge_server(random.Random(SEED))
    store = await Store.open(":memory:")
    try:
        for n, (group, question, passages, answer) in enumerate(items[:50]):
            passage = Passage(f"p{n}", passages[0], f"/squad/{group}", group)
            q = await store.record_question(
                platform="bench",
                channel="audit",
                user="u",
                thread=None,
                text=question,
                hits=[Hit(passage, 1.0)],
            )
            await store.record_answer(q, Answer(model="extractive", text=answer, shown=[passage]))
        spec = ModelSpec(
            name="stand-in",
            provider="openai",
            model="stand-in",
            max_retries=0,
            base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
            concurrency=concurrency,
            price_in=2.5,
            price_out=10.0,
        )
        judge = LLMJudge(build_roster([spec]).get("stand-in"), timeout=30.0)
        report = await run_audit(
            store, judge, sample=50, canary_answers=canaries, rng=random.Random(SEED)
        )
    finally:
        await store.close()
        server.shutdown()
    slowest = report["latency_ms"]["max"] / 1000
    return {
        "answers": report["answers"],
        "grades": report["answers"]
        + sum((report["canaries"] or {"counts": {}})["counts"].values()),
        "concurrency": concurrency,
        "wall_s": report["wall_s"],
        "slowest_grade_s": round(slowest, 2),
        "ratio": round(report["wall_s"] / slowest, 2),
        "unmeasured": report["unmeasured"],
        "cost_usd": report["cost_usd"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="the shared data folder")
    parser.add_argument(
        "--set",
        choices=["squad", "pacific", *BEGIN_SETS, "halueval-dialogue"],
        default="squad",
    )
    parser.add_argument("--slice", choices=["tune", "report"], default="report")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument(
        "--history", action="store_true", help="HaluEval: the dialogue history as a passage too"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--audit", action="store_true", help="time an audit instead")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--canaries", type=int, default=10)
    args = parser.parse_args(argv)
    if args.audit:
        items = squad_items(args.data)
        random.Random(SEED).shuffle(items)
        result = asyncio.run(time_audit(items, args.concurrency, args.canaries))
        print(json.dumps(result, indent=None if args.json else 2))
        return 0
    if args.set in BEGIN_SETS:
        result = {"set": args.set, **run_begin(begin_rows(args.data, args.set))}
        print(json.dumps(result, indent=None if args.json else 2))
        return 0
    if args.set == "halueval-dialogue":
        pairs = halueval_pairs(args.data, args.slice, history=args.history)
        result = {
            "set": args.set,
            "slice": args.slice,
            "history": args.history,
            **run_halueval(pairs),
        }
        print(json.dumps(result, indent=None if args.json else 2))
        return 0
    if args.set == "squad":
        items = squad_items(args.data)
        random.Random(SEED).shuffle(items)
        start = 0 if args.slice == "tune" else args.questions
        items = items[start : start + args.questions]
    else:
        items = pacific_items(args.data)
        random.Random(SEED).shuffle(items)
        items = items[: args.questions]
    judge = OfflineJudge()
    judge.grade_now([Case("warm up", ["the model loads"], "once")])
    result = {"set": args.set, "slice": args.slice, **run(items, judge)}
    result["latency_ms"] = check_latency(items)
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
