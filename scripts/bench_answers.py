"""How often the offline answerers get SQuAD questions right, with citations and latency.

    python scripts/bench_answers.py DATASET_DIR [--limit 1000] [--work DIR] [--json]
    python scripts/bench_answers.py DATASET_DIR --titles line [--work DIR]
    python scripts/bench_answers.py PACIFIC_DIR --tune 0 --limit 700 [--work DIR]

The corpus is indexed through Parley's own indexer exactly as ``bench_retrieval.py``
does (pass the same ``--work`` folder to reuse its index), each document a Markdown file
with its title as a heading; ``--titles line`` writes each as a plain-text file whose first
line is its title instead, as many exported corpora are (the layout in which a title line
can end up quoted in front of the first sentence). A PACIFIC folder (one holding
``validation.json``) is the second data set, for confirming constants tuned on SQuAD:
each conversation's table becomes a CSV file and its paragraphs a Markdown file, and its
span-answer turns are asked in their standalone form (``original_question``); a citation
of either file of the conversation counts as citing the gold passage. Questions are shuffled with a
fixed seed; the first ``--tune`` of them are the slice the answerers' constants were
chosen on and are never reported; the next ``--limit`` are measured. ``--slice check``
measures the ``--limit`` after those: SQuAD questions neither tuned on nor reported, for
confirming a change on the same kind of text before the reported run. For each offline
answerer: the share of answers containing a gold answer string (normalised as the SQuAD
evaluation script does), the share whose lead (the text before its first citation
marker: what a reader sees first) does, the share whose citations include the gold
paragraph, the mean answer length in words, and latency (retrieval plus answer)
p50/p95. ``--definitions`` keeps only the questions that ask what a thing is ("What is a
SEV1?", as ``asked_about`` reads them), before the slices are cut.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import random
import re
import string
import sys
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np
from bench_retrieval import doc_id, read_jsonl, read_qrels, write_corpus

from arena.answers import answer_question
from arena.citations import MARKER
from arena.compose import NOT_FOUND
from arena.models.definitions import asked_about
from arena.roster import build_roster
from arena.types import Question
from knowledge.base import KnowledgeBase
from knowledge.embed import default_embedder

TOP_K = 5


def pacific(dataset: Path, folder: Path) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """The span-answer questions of a PACIFIC split and their qrels; writes the files."""
    folder.mkdir(parents=True, exist_ok=True)
    questions, qrels = [], {}
    for conversation in json.loads((dataset / "validation.json").read_text(encoding="utf-8")):
        stem = conversation["table"]["uid"]
        _write_if_changed(folder / f"{stem}.csv", _csv_text(conversation["table"]["table"]))
        paragraphs = sorted(conversation["paragraphs"], key=lambda p: p["order"])
        _write_if_changed(folder / f"{stem}.md", "\n\n".join(p["text"] for p in paragraphs))
        for turn in conversation["questions"]:
            if turn["answer_type"] == "span":
                text, answers = turn["original_question"], turn["answer"]
                questions.append({"_id": turn["uid"], "text": text, "answers": answers})
                qrels[turn["uid"]] = {stem: 1}
    return questions, qrels


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _write_if_changed(path: Path, text: str) -> None:
    """Unchanged files keep their hash, so a rerun skips their embedding."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def normalise(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (the SQuAD convention)."""
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def without_markers(answer: str) -> str:
    """The answer's words alone: a marker like [2] must neither count as a word nor match
    a gold answer "2"."""
    return MARKER.sub("", answer)


def contains_gold(answer: str, golds: list[str]) -> bool:
    said = normalise(without_markers(answer))
    return any(normalise(g) and normalise(g) in said for g in golds)


async def measure(
    kb: KnowledgeBase, questions: list[dict], qrels: dict, only: str | None = None
) -> dict[str, dict]:
    roster = build_roster([])
    figures: dict[str, dict] = {}
    for contestant in roster.entries:
        if only and contestant.name != only:
            continue
        hits_gold = lead_gold = cited_gold = refused = 0
        words, latencies = [], []
        for q in questions:
            started = time.perf_counter()
            hits = kb.search(q["text"], TOP_K)
            answer = await answer_question(contestant, Question(q["text"], hits))
            latencies.append((time.perf_counter() - started) * 1000)
            hits_gold += contains_gold(answer.text, q["answers"])
            lead_gold += contains_gold(MARKER.split(answer.text, 1)[0], q["answers"])
            refused += NOT_FOUND in answer.text
            cited = {doc_id(c.passage.source) for c in answer.citations}
            cited_gold += bool(cited & set(qrels[q["_id"]]))
            words.append(len(without_markers(answer.text).split()))
        n = len(questions)
        figures[contestant.name] = {
            "contains_gold": hits_gold / n,
            "lead_contains_gold": lead_gold / n,
            "cites_gold_paragraph": cited_gold / n,
            "mean_words": float(np.mean(words)),
            "refused": refused / n,
            "p50_ms": float(np.percentile(latencies, 50)),
            "p95_ms": float(np.percentile(latencies, 95)),
        }
    return figures


def load_questions(
    dataset: Path, folder: Path, titles: str = "heading"
) -> tuple[list[dict], dict[str, dict[str, int]]]:
    """The data set's questions with answers and their qrels; its documents are written to
    ``folder``, one file each (a PACIFIC conversation: its table and its paragraphs; a
    BEIR document: Markdown under its title, or with ``titles="line"`` plain text after it)."""
    if (dataset / "validation.json").exists():
        return pacific(dataset, folder)
    if titles == "line":
        write_titled_text(dataset / "corpus.jsonl", folder)
    else:
        write_corpus(dataset / "corpus.jsonl", folder)
    questions = [q for q in read_jsonl(dataset / "queries.jsonl") if q.get("answers")]
    return questions, read_qrels(dataset / "qrels" / "test.tsv")


def write_titled_text(corpus: Path, folder: Path) -> None:
    """One .txt file per document: its title on the first line, its text below."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc in read_jsonl(corpus):
        title = " ".join(doc.get("title", "").split())
        path = folder / f"{quote(doc['_id'], safe='')}.txt"
        _write_if_changed(path, f"{title}\n{doc['text']}\n" if title else f"{doc['text']}\n")


def slice_of(questions: list[dict], name: str, tune: int, limit: int) -> list[dict]:
    """The named slice of the questions shuffled with seed 0: ``tune`` (the first ``tune``),
    ``report`` (the ``limit`` after those) or ``check`` (the ``limit`` after those)."""
    shuffled = list(questions)
    random.Random(0).shuffle(shuffled)
    start = {"tune": 0, "report": tune, "check": tune + limit}[name]
    return shuffled[start : start + (tune if name == "tune" else limit)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a BEIR folder whose queries carry answers")
    parser.add_argument("--limit", type=int, default=1000, help="questions measured")
    parser.add_argument("--tune", type=int, default=500, help="questions set aside for tuning")
    parser.add_argument("--slice", choices=["report", "tune", "check"], default="report")
    parser.add_argument(
        "--titles", choices=["heading", "line"], default="heading", help="how titles are written"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/parley-bench-answers"))
    parser.add_argument("--only", help="measure this answerer alone (offline-sentences)")
    parser.add_argument(
        "--definitions", action="store_true", help="only questions asking what a thing is"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    dataset = args.dataset.resolve()
    questions, qrels = load_questions(dataset, args.work / "docs", args.titles)
    if args.definitions:
        questions = [q for q in questions if asked_about(q["text"])]
    chosen = slice_of(questions, args.slice, args.tune, args.limit)
    with KnowledgeBase.open(args.work / "index", embedder=default_embedder()) as kb:
        report = kb.index([args.work / "docs"])
        print(f"index: {report.passages} passages ({report.seconds:.1f} s)", file=sys.stderr)
        figures = asyncio.run(measure(kb, chosen, qrels, args.only))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    layout = ", titles as first lines" if args.titles == "line" else ""
    print(
        f"{dataset.name}: {len(chosen)} questions ({args.slice} slice{layout}),"
        f" top {TOP_K} passages"
    )
    print_table(figures)


def print_table(figures: dict[str, dict]) -> None:
    header = ("gold in answer", "in lead", "cites gold", "refused", "words", "p50 ms", "p95 ms")
    print(f"{'answerer':20}" + "".join(f"{h:>{max(8, len(h) + 1)}}" for h in header))
    for name, f in figures.items():
        print(
            f"{name:20}{f['contains_gold']:15.1%}{f['lead_contains_gold']:8.1%}"
            f"{f['cites_gold_paragraph']:11.1%}"
            f"{f['refused']:8.1%}{f['mean_words']:8.1f}{f['p50_ms']:8.1f}{f['p95_ms']:8.1f}"
        )


if __name__ == "__main__":
    main()
