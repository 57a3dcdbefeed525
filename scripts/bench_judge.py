"""The offline judge against canaries: does every made-up wrong answer score below the real one?

    python scripts/bench_judge.py ../shared/data [--set squad|pacific] [--slice tune|report]
                                  [--questions 500] [--json]

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
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from bench_retrieval import read_jsonl, read_qrels

from arena.judge.canaries import canary_report, make_canaries
from arena.judge.grades import Case
from arena.judge.offline import OfflineJudge
from knowledge.chunking import split_sentences

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
    contradictions = [s for s in scored if s[1] in ("swapped_number", "swapped_name", "negated")]
    return {
        "questions": len(items),
        "grades": len(cases),
        "auc": round(report.auc, 4),
        "below": {k: round(v, 4) for k, v in sorted(report.below.items())},
        "contradictions_below": round(float(np.mean([c < r for _, _, r, c in contradictions])), 4),
        "counts": report.counts,
        "real_score_mean": round(float(np.mean(list(real.values()))), 1),
        "real_below_refusal": sum(r <= 50 for r in real.values()),
        "grades_per_s": round(len(cases) / seconds, 1),
        # CPU seconds of this process (all its threads): what the grades cost when the
        # machine's two cores are shared with other work, as they were here
        "grades_per_cpu_s": round(len(cases) / cpu_seconds, 1),
        "flagged": report.flagged,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="the shared data folder")
    parser.add_argument("--set", choices=["squad", "pacific"], default="squad")
    parser.add_argument("--slice", choices=["tune", "report"], default="report")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
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
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
