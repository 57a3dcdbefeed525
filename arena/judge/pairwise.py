"""Pairwise judging for battles: both orders, and a disagreement is a tie.

A judge shown two answers favours one position more often than chance (the best
documented judge fault, MT-Bench section 3.3), so every pair is judged twice with the
order swapped, as FastChat's ``play_a_match_pair`` does. Where it marks the two verdicts
inconsistent, Parley records a tie: a preference that flips with the order is none.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from .grades import Case

__all__ = [
    "PAIR_SCHEMA",
    "PairJudge",
    "PairReply",
    "PairVerdict",
    "Preference",
    "Winner",
    "judge_pair",
]

Preference = Literal["first", "second", "tie"]
Winner = Literal["model_a", "model_b", "tie"]  # the battle export's names


class PairReply(BaseModel):
    """The shape a judge model replies in when comparing two answers."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    winner: Literal["A", "B", "tie"]


PAIR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "description": "One or two lines: which is better and why."},
        "winner": {"type": "string", "enum": ["A", "B", "tie"]},
    },
    "required": ["reason", "winner"],
    "additionalProperties": False,
}


class PairJudge(Protocol):
    """Says which of two answers to one question is better, or None when it could not."""

    name: str

    async def prefer(self, first: Case, second: Case) -> Preference | None: ...


@dataclass(frozen=True)
class PairVerdict:
    """The verdict on answer A against answer B, with the two orders' verdicts behind it.

    ``winner`` is None when either order went unmeasured.
    """

    winner: Winner | None
    a_first: Preference | None
    b_first: Preference | None

    @property
    def consistent(self) -> bool:
        """Both orders gave the same verdict (a tie by disagreement is not consistent)."""
        return (self.a_first, self.b_first) in _AS_WINNER


_AS_WINNER: dict[tuple[Preference, Preference], Winner] = {
    ("first", "second"): "model_a",
    ("second", "first"): "model_b",
    ("tie", "tie"): "tie",
}


async def judge_pair(judge: PairJudge, a: Case, b: Case) -> PairVerdict:
    """A against B, judged as (A, B) and as (B, A) concurrently."""
    a_first, b_first = await asyncio.gather(judge.prefer(a, b), judge.prefer(b, a))
    if a_first is None or b_first is None:
        return PairVerdict(None, a_first, b_first)
    return PairVerdict(_AS_WINNER.get((a_first, b_first), "tie"), a_first, b_first)
