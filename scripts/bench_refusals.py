"""How often the offline answerers say "not found" when the knowledge base lacks the answer.

    python scripts/bench_refusals.py DATASET_DIR [--slice tune|report|check]
                                     [--tune 500] [--limit 1000] [--work DIR] [--json]

Half of the data set's documents are indexed, chosen with a fixed seed by whole SQuAD
article (its title) or whole PACIFIC conversation (its table and paragraphs), so no
sibling paragraph of a left-out one remains. The slice's questions (the slices of
``bench_answers.py``) are asked against that half: a question whose gold documents were
all left out should be refused with "I could not find this in the knowledge base.", one
whose gold documents were kept should be answered. For each offline answerer and each
kind: the share refused, and for the kept kind the share whose answer contains a gold
answer. A question with gold documents on both sides is not asked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
from pathlib import Path

from bench_answers import load_questions, measure, print_table, slice_of
from bench_retrieval import doc_id, read_jsonl

from knowledge.base import KnowledgeBase
from knowledge.embed import default_embedder

KEPT_SHARE = 0.5
SEED = 1


def group_of(dataset: Path) -> dict[str, str]:
    """Document id -> the group it is kept or left out with: a SQuAD paragraph's article;
    a PACIFIC conversation's two files are one document id already."""
    corpus = dataset / "corpus.jsonl"
    if not corpus.exists():
        return {}
    return {doc["_id"]: doc.get("title") or doc["_id"] for doc in read_jsonl(corpus)}


def keep_half(docs: Path, kept_folder: Path, groups: dict[str, str]) -> set[str]:
    """Link a seeded half of the groups' files into ``kept_folder``; the kept document ids."""
    by_group: dict[str, list[Path]] = {}
    for path in sorted(docs.iterdir()):
        by_group.setdefault(groups.get(doc_id(str(path)), doc_id(str(path))), []).append(path)
    names = sorted(by_group)
    random.Random(SEED).shuffle(names)
    kept_folder.mkdir(parents=True, exist_ok=True)
    kept: set[str] = set()
    for name in names[: round(len(names) * KEPT_SHARE)]:
        for path in by_group[name]:
            target = kept_folder / path.name
            if not target.exists():
                os.link(path, target)
            kept.add(doc_id(str(path)))
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="a BEIR folder with answers, or PACIFIC")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--slice", choices=["report", "tune", "check"], default="report")
    parser.add_argument("--work", type=Path, default=Path("/tmp/parley-bench-refusals"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    dataset = args.dataset.resolve()
    questions, qrels = load_questions(dataset, args.work / "docs")
    kept = keep_half(args.work / "docs", args.work / "kept", group_of(dataset))
    chosen = slice_of(questions, args.slice, args.tune, args.limit)
    left_out = [q for q in chosen if not set(qrels[q["_id"]]) & kept]
    answerable = [q for q in chosen if set(qrels[q["_id"]]) <= kept]
    with KnowledgeBase.open(args.work / "index", embedder=default_embedder()) as kb:
        report = kb.index([args.work / "kept"])
        print(f"index: {report.passages} passages ({report.seconds:.1f} s)", file=sys.stderr)
        figures = {
            "left_out": asyncio.run(measure(kb, left_out, qrels)),
            "kept": asyncio.run(measure(kb, answerable, qrels)),
        }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for kind, asked in (("left_out", left_out), ("kept", answerable)):
        print(
            f"\n{dataset.name}, {args.slice} slice: {len(asked)} questions, gold documents {kind}"
        )
        print_table(figures[kind])


if __name__ == "__main__":
    main()
