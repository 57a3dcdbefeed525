"""What a judge returns: five graded criteria, the context's relevance, and two scores.

Each criterion is one of five levels worth 5..1. The legacy score is the old system's
weighted sum (weights fitted to its log) times 20, so all Excellent is 100 and all
Worse is 20. Parley's score is the same sum capped by faithfulness (the cap is the
faithfulness level times 20): with the legacy weights an answer that invents its facts
still kept 80 of 100 points, so an unfaithful answer could score well.

A grade that could not be measured (the judge timed out, or replied twice in a shape
that does not validate) has no levels and no scores and is left out of every average:
a parse failure never becomes a number. One criterion can be unmeasured while the others
are graded (the offline judge's faithfulness of an answer that states nothing): the
scores then weigh the graded criteria only, their weights scaled to sum to one, and no
faithfulness cap applies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from arena.grade_records import LEVEL_VALUE

from .support import SupportCheck

__all__ = [
    "CRITERIA",
    "GRADE_SCHEMA",
    "LEGACY_WEIGHTS",
    "LEVELS",
    "LEVEL_VALUE",
    "LOWEST_SCORE",
    "Case",
    "Criterion",
    "Grade",
    "GradeReply",
    "Judged",
    "Level",
    "legacy_score",
    "parley_score",
]

Level = Literal["Excellent", "Good", "Fair", "Bad", "Worse"]
LEVELS: tuple[Level, ...] = get_args(Level)  # best first, as LEVEL_VALUE counts them
Criterion = Literal["relevance", "faithfulness", "completeness", "clarity", "conciseness"]
CRITERIA: tuple[Criterion, ...] = get_args(Criterion)
LEGACY_WEIGHTS: dict[str, float] = {
    "relevance": 0.5,
    "faithfulness": 0.2,
    "completeness": 0.1,
    "clarity": 0.1,
    "conciseness": 0.1,
}
POINTS_PER_LEVEL = 20
LOWEST_SCORE = float(POINTS_PER_LEVEL)  # every level Worse, or faithfulness Worse


@dataclass(frozen=True)
class Case:
    """One thing to grade: the question, the passages the answer was shown, the answer."""

    question: str
    passages: list[str]
    answer: str


class Judged(BaseModel):
    """One criterion's verdict; the reason comes first so the level follows from it."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    level: Level


class GradeReply(BaseModel):
    """The shape a judge model must reply in, validated before any number is taken."""

    model_config = ConfigDict(extra="forbid")

    context_relevance: Judged
    relevance: Judged
    faithfulness: Judged
    completeness: Judged
    clarity: Judged
    conciseness: Judged


def _judged_schema(what: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": what,
        "properties": {
            "reason": {"type": "string", "description": "One line: why this level."},
            "level": {"type": "string", "enum": list(LEVELS)},
        },
        "required": ["reason", "level"],
        "additionalProperties": False,
    }


# Written out rather than generated, so field order (reason before level) and the strict
# mode's rules (every field required, no extra properties) are plain to see.
GRADE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "context_relevance": _judged_schema("Are the passages about the question?"),
        "relevance": _judged_schema("Does the answer address the question?"),
        "faithfulness": _judged_schema(
            "Is every claim, number and name in the answer supported by the passages?"
        ),
        "completeness": _judged_schema("Does it cover what the question asks?"),
        "clarity": _judged_schema("Is it easy to read and understand?"),
        "conciseness": _judged_schema("Is it free of padding and repetition?"),
    },
    "required": list(GradeReply.model_fields),
    "additionalProperties": False,
}


def legacy_score(levels: dict[str, str]) -> float:
    """The old system's weighted score out of 100: all Excellent 100, all Worse 20 (over
    the graded criteria, where one is unmeasured)."""
    graded = [c for c in CRITERIA if c in levels]
    total = sum(LEGACY_WEIGHTS[c] * LEVEL_VALUE[levels[c]] for c in graded)
    weight = sum(LEGACY_WEIGHTS[c] for c in graded)
    return round(total / weight * POINTS_PER_LEVEL, 6)


def parley_score(levels: dict[str, str]) -> float:
    """The legacy score capped by faithfulness, so an unfaithful answer cannot score well."""
    if "faithfulness" not in levels:
        return legacy_score(levels)
    cap = LEVEL_VALUE[levels["faithfulness"]] * POINTS_PER_LEVEL
    return min(legacy_score(levels), float(cap))


@dataclass
class Grade:
    """One judge's grade of one Case, with what it cost to get.

    ``criteria`` maps each criterion to its verdict; it is empty when ``unmeasured``.
    ``raw`` is the judge's reply as received (the offline judge records its signals).
    ``support`` is the support check of the same answer, run beside whichever judge
    graded it (None where none ran: cases graded from a file by an LLM judge).
    ``unmeasured_criteria`` names a criterion left out of ``criteria`` and why.
    """

    judge: str
    criteria: dict[str, Judged] = field(default_factory=dict)
    context_relevance: Judged | None = None
    unmeasured: bool = False
    error: str | None = None
    raw: str = ""
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    support: SupportCheck | None = None
    unmeasured_criteria: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_reply(cls, judge: str, reply: GradeReply, **accounting: Any) -> Grade:
        criteria = {c: getattr(reply, c) for c in CRITERIA}
        return cls(judge, criteria, reply.context_relevance, **accounting)

    @classmethod
    def failed(cls, judge: str, error: str, **accounting: Any) -> Grade:
        return cls(judge, unmeasured=True, error=error, **accounting)

    @property
    def levels(self) -> dict[str, str]:
        return {c: j.level for c, j in self.criteria.items()}

    @property
    def legacy_score(self) -> float | None:
        return None if self.unmeasured else legacy_score(self.levels)

    @property
    def score(self) -> float | None:
        return None if self.unmeasured else parley_score(self.levels)

    @property
    def support_record(self) -> tuple[str | None, float | None]:
        """(the support check as JSON, its flagged share) as the grade's row keeps them."""
        if self.support is None:
            return None, None
        return json.dumps(self.support.as_dict()), self.support.flagged_share

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of ``parley judge``."""
        return {
            "criteria": {c: j.model_dump() for c, j in self.criteria.items()},
            "unmeasured_criteria": self.unmeasured_criteria,
            "context_relevance": self.context_relevance and self.context_relevance.model_dump(),
            "legacy_score": self.legacy_score,
            "score": self.score,
            "unmeasured": self.unmeasured,
            "error": self.error,
            "judge": self.judge,
            "latency_ms": round(self.latency_ms, 1),
            "cost_usd": self.cost_usd,
            "support": self.support and self.support.as_dict(),
        }
