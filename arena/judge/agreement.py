"""Agreement between two sets of pairwise verdicts, computed as FastChat's llm_judge does.

Verdicts are matched on (question, turn, model pair); the pair is put in name order and
a verdict for the swapped order is mirrored, so A-vs-B and B-vs-A are one match. Every
verdict of one set is paired with every verdict of the other on the same match (within
one set: every two verdicts of different judges). "With ties" counts all such pairs, any
two ties agreeing (any winner naming a tie: "tie", "tie (bothbad)", "tie (inconsistent)");
"without ties" drops every pair in which either verdict is a tie. This is how the
MT-Bench paper's table was computed (GPT-4 and experts agreed 66% with ties, 85% without;
experts with each other 63% and 81%), so a judge can be checked against public labelled
sets. Cohen's kappa is computed on the same pairs, which FastChat does not report.

MT-Bench's human judgments hold the experts' votes (judges ``expert_N``) and the paper's
authors' own (``author_N``); FastChat groups judges by that prefix and its published
table sets GPT-4 against the experts only. Counting the authors too gives 1,689 turn-1
pairs with ties and 1,060 without instead of the published 1,343 and 859, so
``experts_only`` leaves the authors' votes out (``parley judge agreement`` does unless
told ``--with-authors``).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from itertools import combinations, product
from pathlib import Path

from arena.jsonl import read_jsonl

__all__ = [
    "Agreement",
    "PairwiseVerdict",
    "TurnAgreement",
    "agreement",
    "cohen_kappa",
    "experts_only",
    "read_verdicts",
    "verdict_of",
]

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")  # any winner naming a tie is a tie
AUTHOR = re.compile(r"author_\d+")  # how MT-Bench names its paper's authors as judges


@dataclass(frozen=True)
class PairwiseVerdict:
    """One line of the battle export format (``turn`` defaults to 1)."""

    question_id: str
    model_a: str
    model_b: str
    winner: str
    turn: int = 1
    judge: str = ""

    @property
    def match(self) -> tuple[str, int, str, str]:
        first, second = sorted((self.model_a, self.model_b))
        return (self.question_id, self.turn, first, second)

    @property
    def outcome(self) -> str:
        """The winner for the models in name order; every kind of tie is "tie"."""
        if "tie" in self.winner:
            return "tie"
        if self.model_a < self.model_b:
            return self.winner
        return "model_b" if self.winner == "model_a" else "model_a"


def verdict_of(row: object) -> PairwiseVerdict:
    """A verdict from one decoded line; ValueError, KeyError or TypeError if it is bad."""
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object")
    verdict = PairwiseVerdict(
        question_id=str(row["question_id"]),
        model_a=str(row["model_a"]),
        model_b=str(row["model_b"]),
        winner=str(row["winner"]),
        turn=int(row.get("turn", 1)),
        judge=_judge_name(row.get("judge", "")),
    )
    if verdict.winner not in WINNERS and "tie" not in verdict.winner:
        raise ValueError(f"winner must be one of {', '.join(WINNERS)} or name a tie")
    if verdict.model_a == verdict.model_b:
        raise ValueError("a model cannot battle itself")
    return verdict


def read_verdicts(path: Path) -> list[PairwiseVerdict]:
    """Verdicts from a JSONL file; a bad line stops the read with its number and why."""
    return read_jsonl(path, verdict_of)


def _judge_name(judge: object) -> str:
    """A judge as text: a name as written, anything else (GPT-4's ["gpt-4", "pair-v2"])
    as JSON."""
    return judge if isinstance(judge, str) else json.dumps(judge)


def experts_only(verdicts: Iterable[PairwiseVerdict]) -> list[PairwiseVerdict]:
    """The verdicts less those of judges named ``author_N`` (MT-Bench's own authors)."""
    return [v for v in verdicts if not AUTHOR.fullmatch(v.judge)]


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of the first labels against the second; None when chance explains all."""
    if not pairs:
        return None
    labels = {label for pair in pairs for label in pair}
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    expected = sum(
        (sum(a == label for a, _ in pairs) / n) * (sum(b == label for _, b in pairs) / n)
        for label in labels
    )
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class Agreement:
    agree: int
    total: int
    kappa: float | None

    @property
    def ratio(self) -> float | None:
        return self.agree / self.total if self.total else None

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass(frozen=True)
class TurnAgreement:
    turn: int
    with_ties: Agreement
    without_ties: Agreement

    def as_dict(self) -> dict[str, object]:
        return {
            "turn": self.turn,
            "with_ties": self.with_ties.as_dict(),
            "without_ties": self.without_ties.as_dict(),
        }


def _by_match(verdicts: Iterable[PairwiseVerdict]) -> dict[tuple, list[PairwiseVerdict]]:
    matches: dict[tuple, list[PairwiseVerdict]] = defaultdict(list)
    for verdict in verdicts:
        matches[verdict.match].append(verdict)
    return matches


def _summary(pairs: list[tuple[str, str]]) -> Agreement:
    return Agreement(sum(a == b for a, b in pairs), len(pairs), cohen_kappa(pairs))


def agreement(
    first: list[PairwiseVerdict], second: list[PairwiseVerdict] | None = None
) -> list[TurnAgreement]:
    """Per turn, how often the two sets agree (``second`` None: the set with itself)."""
    one = _by_match(first)
    two = one if second is None else _by_match(second)
    pairs: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for match, mine in one.items():
        theirs = two.get(match)
        if not theirs:
            continue
        if second is None:
            couples = [
                (a, b) for a, b in combinations(mine, 2) if a.judge != b.judge or not a.judge
            ]
        else:
            couples = list(product(mine, theirs))
        pairs[match[1]] += [(a.outcome, b.outcome) for a, b in couples]
    return [
        TurnAgreement(
            turn,
            _summary(found),
            _summary([(a, b) for a, b in found if a != "tie" and b != "tie"]),
        )
        for turn, found in sorted(pairs.items())
    ]
