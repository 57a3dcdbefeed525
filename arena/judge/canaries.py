"""Canaries: deliberately bad answers made from real ones, which a judge must score lower.

From each audited answer come an off-topic answer (another question's answer), answers
that contradict the passages (one number changed, one name swapped for a name the
passages do not contain, one claim negated) and a refusal. The report says whether each
canary scored below its real answer and how well scores tell real from canary (AUC).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from arena.compose import NOT_FOUND

from .facts import NUMBER, WORD, names_in, numbers_in

__all__ = [
    "CONTRADICTIONS",
    "FAIL_AUC",
    "FAIL_BELOW",
    "Canary",
    "CanaryKind",
    "CanaryReport",
    "auc",
    "canary_report",
    "make_canaries",
]

CanaryKind = Literal["off_topic", "swapped_number", "swapped_name", "negated", "refusal"]
CONTRADICTIONS: tuple[CanaryKind, ...] = ("swapped_number", "swapped_name", "negated")
# A judge is flagged when its real answers and canaries overlap more than this, or when
# fewer than this share of one kind of canary score below their real answers.
FAIL_AUC = 0.9
FAIL_BELOW = 0.9
AUXILIARIES = re.compile(
    r"\b(is|are|was|were|can|could|will|would|should|has|have|had|does|do|did|may|might|must)"
    r"\b(?! not\b)",
    re.IGNORECASE,
)
# a verb in the past tense with no auxiliary before it: "defeated" becomes "never defeated"
PAST_VERB = re.compile(
    r"(?<=\w )(\w+ed|won|lost|became|began|made|led|took|gave|held|wrote|built|found|left|"
    r"went|came|saw|knew|grew|rose|fell|met|paid|sold|told|brought|bought|thought|fought)\b"
)
ALREADY_NEGATED = re.compile(r"\b(is|are|was|were|can|could|will|would|does|do|did) not\b")


@dataclass(frozen=True)
class Canary:
    kind: CanaryKind
    answer: str


def make_canaries(
    answer: str, passages: Sequence[str], others: Sequence[str], rng: random.Random
) -> list[Canary]:
    """Every canary this answer allows; ``others`` are answers to other questions."""
    context = " ".join(passages)
    canaries = [Canary("refusal", NOT_FOUND)]
    if others:
        canaries.append(Canary("off_topic", rng.choice(list(others))))
    for kind, changed in (
        ("swapped_number", _swap_number(answer, context, rng)),
        ("swapped_name", _swap_name(answer, context, others, rng)),
        ("negated", _negate(answer)),
    ):
        if changed and changed != answer:
            canaries.append(Canary(kind, changed))
    return canaries


def _swap_number(answer: str, context: str, rng: random.Random) -> str | None:
    """One number changed to a nearby one the passages do not state."""
    known = numbers_in(context)
    spots = [m for m in NUMBER.finditer(answer) if m.group().isdigit()]
    if not spots:
        return None
    spot = rng.choice(spots)
    value = int(spot.group())
    for delta in rng.sample([1, 2, 3, 5, -1, -2, -3, -5], 8):
        new = str(value + delta)
        if value + delta >= 0 and new not in known:
            return answer[: spot.start()] + new + answer[spot.end() :]
    return None


def _swap_name(answer: str, context: str, others: Sequence[str], rng: random.Random) -> str | None:
    """One name replaced by a name from another answer that the passages do not state."""
    ours = names_in(answer)
    known = {w.lower() for w in WORD.findall(context)}
    pool = sorted({n for other in others for n in names_in(other)} - known)
    spots = [m for m in WORD.finditer(answer) if m.group().lower() in ours]
    if not spots or not pool:
        return None
    spot = rng.choice(spots)
    new = rng.choice(pool)
    return answer[: spot.start()] + new[0].upper() + new[1:] + answer[spot.end() :]


def _negate(answer: str) -> str | None:
    """The first claim negated: "was" becomes "was not", "defeated" becomes "never
    defeated", or a "not" is taken away."""
    negated = ALREADY_NEGATED.search(answer)
    if negated:
        return answer[: negated.end(1)] + answer[negated.end() :]
    auxiliary = AUXILIARIES.search(answer)
    verb = PAST_VERB.search(answer)
    if verb and (auxiliary is None or verb.start() < auxiliary.start()):
        return answer[: verb.start()] + "never " + answer[verb.start() :]
    if auxiliary is None:
        return None
    return answer[: auxiliary.end()] + " not" + answer[auxiliary.end() :]


def auc(real: Sequence[float], canary: Sequence[float]) -> float:
    """The chance a random real answer outscores a random canary (ties count half)."""
    if not real or not canary:
        return float("nan")
    r = np.asarray(real, dtype=float)[:, None]
    c = np.asarray(canary, dtype=float)[None, :]
    return float((r > c).mean() + 0.5 * (r == c).mean())


@dataclass(frozen=True)
class CanaryReport:
    """How a judge did on its canaries; ``flagged`` says it cannot be trusted as it is."""

    auc: float
    below: dict[str, float]  # per kind: share of canaries scored below their real answer
    counts: dict[str, int]
    flagged: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def canary_report(scored: Sequence[tuple[object, str, float | None, float | None]]) -> CanaryReport:
    """From (case key, kind, real answer's score, canary's score); unmeasured left out.

    The AUC compares each measured real answer (once per case key) with every measured
    canary; "below" is per pair, so each canary is held to its own real answer.
    """
    measured = [(key, k, r, c) for key, k, r, c in scored if r is not None and c is not None]
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for _, kind, real, canary in measured:
        by_kind[kind].append(canary < real)
    below = {kind: float(np.mean(hits)) for kind, hits in by_kind.items()}
    reals = {key: real for key, _, real, _ in measured}
    value = auc(list(reals.values()), [c for *_, c in measured])
    flagged = not measured or value < FAIL_AUC or any(b < FAIL_BELOW for b in below.values())
    return CanaryReport(value, below, {k: len(v) for k, v in by_kind.items()}, flagged)
