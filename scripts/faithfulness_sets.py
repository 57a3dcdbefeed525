"""The human-labelled faithfulness sets of ../shared/data/faithfulness, read for the judge's
benchmark, and the word-support baseline measured beside Parley's support check; the
flag rates and the check's latency.

BEGIN dev rows (``Generic`` left out) become (passages, response, attributable); each
row's passages are its knowledge alone, what the response is judged against. HaluEval
dialogue items become (passages, right, hallucinated) with the knowledge as the one
passage. The knowledge is a knowledge-graph path whose triples were glued without a
space ("... wrote Where We BelongWhere We Belong was released 2012"); each glue point
becomes a sentence break. (The dialogue history, which HaluEval's own judge reads, was
measured as a second passage and left out: docs/benchmarks.md.) Items are shuffled with
a fixed seed and halved: the first half is the tuning slice, the second the reported
one. A check that could not be measured (the response in another language than its
knowledge) counts as a tie in a pair and is left out of an AUC; the runs count them.
"""

from __future__ import annotations

import csv
import json
import random
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from arena.judge.canaries import auc
from arena.judge.facts import content_words, numbers_in
from arena.judge.support import check_support, support_check

__all__ = [
    "BEGIN_SETS",
    "begin_rows",
    "flag_rate",
    "halueval_context",
    "halueval_pairs",
    "latency_ms",
    "run_begin",
    "run_halueval",
    "word_support",
]

BEGIN_SETS = {"begin-wow": "wow", "begin-cmu": "cmu", "begin-tc": "tc"}
HALUEVAL_SEED = 26
# Where HaluEval's triples were glued: a lower-case letter or ")" straight before a
# capital ("BelongWhere", "Film)The"), but not a name's own capital ("McKay", "DiCaprio",
# "LaHaye"); and a year glued to itself ("18471847")
_GLUED = re.compile(r"(?<=[a-z)])(?<!\bMc)(?<!\bMac)(?<!\b[A-Z][a-z])(?=[A-Z])")
_GLUED_YEAR = re.compile(r"\b(\d{4})(?=\1\b)")
_TURN = re.compile(r"\s*\[(?:Human|Assistant)\]:\s*")


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


def halueval_pairs(
    root: Path, part: str, history: bool = False
) -> list[tuple[list[str], str, str]]:
    """(passages, right, hallucinated) of one half; ``history`` adds the dialogue
    history as a second passage, one turn a line (measured, not the default)."""
    path = root / "faithfulness" / "halueval_dialogue_2000.jsonl"
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    random.Random(HALUEVAL_SEED).shuffle(items)
    half = len(items) // 2
    chosen = items[:half] if part == "tune" else items[half:]
    return [
        (halueval_context(i, history), i["right_response"], i["hallucinated_response"])
        for i in chosen
    ]


def halueval_context(item: dict, history: bool = False) -> list[str]:
    """The passages of one HaluEval item: its knowledge, its triples apart, and with
    ``history`` the dialogue's turns."""
    knowledge = _GLUED_YEAR.sub(r"\1. ", _GLUED.sub(". ", item["knowledge"]))
    if not history:
        return [knowledge]
    turns = [t.strip() for t in _TURN.split(item["dialogue_history"]) if t.strip()]
    return [knowledge, "\n".join(turns)]


def _pairwise(right: list[float | None], wrong: list[float | None]) -> float:
    """The share of pairs in which the right response scores above the wrong one (ties,
    and pairs with an unmeasured check, half)."""
    wins = [
        0.5 if r is None or w is None or r == w else float(r > w)
        for r, w in zip(right, wrong, strict=True)
    ]
    return round(float(np.mean(wins)), 4)


def run_begin(rows: list[tuple[list[str], str, bool]]) -> dict:
    """AUC of attributable against not, Parley beside the baseline, on all rows (a
    response that states nothing at ``NOTHING_CLAIMED``) and on the rows whose response
    makes a claim; rows the check could not measure are left out of both and counted."""
    checks = [support_check(response, passages) for passages, response, _ in rows]
    labels = [label for *_, label in rows]
    ours = [c.value for c in checks]
    base = [word_support(passages, response) for passages, response, _ in rows]
    measured = [v is not None for v in ours]
    claimed = [m and c.claims != [] for m, c in zip(measured, checks, strict=True)]

    def split(values: list, keep: list[bool]) -> float:
        pos = [v for v, lab, k in zip(values, labels, keep, strict=True) if k and lab]
        neg = [v for v, lab, k in zip(values, labels, keep, strict=True) if k and not lab]
        return round(auc(pos, neg), 4)

    stated_nothing = [m and not c for m, c in zip(measured, claimed, strict=True)]
    return {
        "rows": len(rows),
        "attributable": sum(labels),
        "unmeasured": measured.count(False),
        "no_claims": sum(stated_nothing),
        "no_claims_attributable": sum(
            lab for lab, k in zip(labels, stated_nothing, strict=True) if k
        ),
        "auc_all_rows": {"parley": split(ours, measured), "baseline": split(base, measured)},
        "auc_with_claims": {"parley": split(ours, claimed), "baseline": split(base, claimed)},
    }


# Flag rules measured side by side: the live one (``SentenceSupport.flagged``), and those
# it was chosen against. The weight rule's threshold is the one with the fewest false
# alarms that still catches 70% on the HaluEval tuning half (6.0, 6.25, 6.5 tried).
UNHELD_WEIGHT = 6.25


def _unheld(sentence) -> bool:
    return sentence.support == "contradicted" or any(
        c.support == "unverifiable" and c.missing >= UNHELD_WEIGHT for c in sentence.claims
    )


_FLAG_RULES = {
    "live: contradicted, or a number or name the passages never state": lambda s: s.flagged,
    "every contradicted or unverifiable sentence": lambda s: (
        s.support in ("contradicted", "unverifiable")
    ),
    "contradicted only": lambda s: s.support == "contradicted",
    f"contradicted, or {UNHELD_WEIGHT} weighted words not in the passages": _unheld,
}


def run_halueval(pairs: list[tuple[list[str], str, str]]) -> dict:
    """Pairwise preference for the right response, Parley beside the baseline, and the
    flag rates under each rule: sentences of right responses flagged (false alarms),
    hallucinated responses with a flag (caught)."""
    right = [support_check(r, passages) for passages, r, _ in pairs]
    wrong = [support_check(h, passages) for passages, _, h in pairs]
    right_sentences = [s for c in right for s in c.sentences]

    def rates(flag) -> dict:
        return {
            "false_alarms": round(float(np.mean([flag(s) for s in right_sentences])), 4),
            "caught": round(float(np.mean([any(flag(s) for s in c.sentences) for c in wrong])), 4),
        }

    return {
        "pairs": len(pairs),
        "unmeasured": sum(c.value is None for c in right + wrong),
        "pairwise": {
            "parley": _pairwise([c.value for c in right], [c.value for c in wrong]),
            "baseline": _pairwise(
                [word_support(p, r) for p, r, _ in pairs], [word_support(p, h) for p, _, h in pairs]
            ),
        },
        "right_sentences": len(right_sentences),
        "flags": {rule: rates(flag) for rule, flag in _FLAG_RULES.items()},
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
