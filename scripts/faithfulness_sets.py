"""The human-labelled faithfulness sets of ../shared/data/faithfulness, read for the judge's
benchmark, and the word-support baseline measured beside Parley's support check; the
flag rates and the check's latency.

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
import time
from collections import Counter
from pathlib import Path

import numpy as np

from arena.judge.canaries import auc
from arena.judge.facts import content_words, numbers_in
from arena.judge.support import SupportCheck, check_support, support_check

__all__ = [
    "BEGIN_SETS",
    "begin_rows",
    "flag_rate",
    "halueval_pairs",
    "latency_ms",
    "run_begin",
    "run_halueval",
    "word_support",
]

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


def _pairwise(right: list[float], wrong: list[float]) -> float:
    """The share of pairs in which the right response scores above the wrong one (ties half)."""
    wins = [1.0 if r > w else 0.5 if r == w else 0.0 for r, w in zip(right, wrong, strict=True)]
    return round(float(np.mean(wins)), 4)


def _value(check: SupportCheck) -> float:
    """The check's value; an answer that claims nothing has nothing unsupported (1.0)."""
    return 1.0 if check.value is None else check.value


def run_begin(rows: list[tuple[list[str], str, bool]]) -> dict:
    """AUC of attributable against not, Parley beside the baseline, on the rows whose
    response makes a claim and on all rows (a response that claims nothing at 1.0)."""
    checks = [support_check(response, passages) for passages, response, _ in rows]
    labels = [label for *_, label in rows]
    ours = [_value(c) for c in checks]
    base = [word_support(passages, response) for passages, response, _ in rows]
    claimed = [c.claims != [] for c in checks]

    def split(values: list[float], keep: list[bool]) -> float:
        pos = [v for v, lab, k in zip(values, labels, keep, strict=True) if k and lab]
        neg = [v for v, lab, k in zip(values, labels, keep, strict=True) if k and not lab]
        return round(auc(pos, neg), 4)

    everything = [True] * len(rows)
    return {
        "rows": len(rows),
        "attributable": sum(labels),
        "no_claims": claimed.count(False),
        "no_claims_attributable": sum(lab for lab, k in zip(labels, claimed, strict=True) if not k),
        "auc_with_claims": {"parley": split(ours, claimed), "baseline": split(base, claimed)},
        "auc_all_rows": {"parley": split(ours, everything), "baseline": split(base, everything)},
    }


def run_halueval(pairs: list[tuple[list[str], str, str]]) -> dict:
    """Pairwise preference for the right response, Parley beside the baseline, and the
    flag rates: sentences of right responses flagged, hallucinated responses with a flag."""
    right = [support_check(r, passages) for passages, r, _ in pairs]
    wrong = [support_check(h, passages) for passages, _, h in pairs]
    right_sentences = [s for c in right for s in c.sentences]
    return {
        "pairs": len(pairs),
        "pairwise": {
            "parley": _pairwise([_value(c) for c in right], [_value(c) for c in wrong]),
            "baseline": _pairwise(
                [word_support(p, r) for p, r, _ in pairs], [word_support(p, h) for p, _, h in pairs]
            ),
        },
        "right_sentences": len(right_sentences),
        "false_alarms": round(float(np.mean([s.flagged for s in right_sentences])), 4),
        "hallucinated_flagged": round(
            float(np.mean([any(s.flagged for s in c.sentences) for c in wrong])), 4
        ),
    }


def flag_rate(answers: list[tuple[list[str], str]]) -> dict:
    """Sentences of right answers flagged (false alarms), and the verdicts' counts."""
    sentences = [s for passages, a in answers for s in check_support(a, passages)]
    return {
        "sentences": len(sentences),
        "false_alarms": round(float(np.mean([s.flagged for s in sentences])), 4),
        "verdicts": dict(Counter(s.support for s in sentences)),
    }


def latency_ms(answers: list[tuple[list[str], str]]) -> dict:
    """p50 and p99 of one ``check_support`` call, each answer's passages prepared anew:
    wall time, and the thread's CPU time (what the call costs when no other work shares
    the core; the check is single-threaded Python)."""
    wall, cpu = [], []
    for passages, answer in answers:
        fresh = [f"{p} " for p in passages]  # new texts: no cached preparation
        started, started_cpu = time.perf_counter(), time.thread_time()
        check_support(answer, fresh)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    return {
        "answers": len(wall),
        "mean_words": round(float(np.mean([len(a.split()) for _, a in answers])), 1),
        "p50": round(float(np.percentile(wall, 50)), 2),
        "p99": round(float(np.percentile(wall, 99)), 2),
        "cpu_p50": round(float(np.percentile(cpu, 50)), 2),
        "cpu_p99": round(float(np.percentile(cpu, 99)), 2),
    }
