"""The human-labelled faithfulness sets of ../shared/data/faithfulness, read for the judge's
benchmark, and the word-support baseline measured beside Parley's support check.

BEGIN dev rows (``Generic`` left out) become (passages, response, attributable); each
row's passages are its knowledge alone, what the response is judged against. HaluEval
dialogue items become (passages, right, hallucinated) with the knowledge as the one
passage; they are shuffled with a fixed seed and halved: the first half is the tuning
slice, the second the reported one.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from arena.judge.facts import content_words, numbers_in

__all__ = ["BEGIN_SETS", "begin_rows", "halueval_pairs", "word_support"]

BEGIN_SETS = {"begin-wow": "wow", "begin-cmu": "cmu", "begin-tc": "tc"}
HALUEVAL_SEED = 26


def word_support(passages: list[str], answer: str) -> float:
    """The baseline: the share of the answer's content words (and numbers) found in its
    passages, as ../shared/data/README.md describes it."""
    context = "\n".join(passages)
    known = content_words(context) | numbers_in(context)
    words = content_words(answer) | numbers_in(answer)
    return len(words & known) / len(words) if words else 1.0


def begin_rows(root: Path, name: str) -> list[tuple[list[str], str, bool]]:
    path = root / "faithfulness" / f"begin_dev_{BEGIN_SETS[name]}.tsv"
    with path.open(encoding="utf-8", newline="") as lines:
        rows = list(csv.DictReader(lines, delimiter="\t"))
    return [
        ([r["knowledge"]], r["response"], r["begin_label"] == "Fully attributable")
        for r in rows
        if r["begin_label"] != "Generic"
    ]


def halueval_pairs(root: Path, part: str) -> list[tuple[list[str], str, str]]:
    path = root / "faithfulness" / "halueval_dialogue_2000.jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    random.Random(HALUEVAL_SEED).shuffle(items)
    half = len(items) // 2
    chosen = items[:half] if part == "tune" else items[half:]
    return [([i["knowledge"]], i["right_response"], i["hallucinated_response"]) for i in chosen]
