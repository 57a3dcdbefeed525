"""The judge's rows, mixed into ``Store``: grades, pairwise verdicts and audit reports.

The tables come from migrations ``006_judge`` and ``007_support_check``. The store only
keeps what a judge hands it (anything shaped like ``StoredGrade`` or ``StoredVerdict``),
so it imports nothing of the judge, which sits above it and imports the store. An
unmeasured grade keeps its raw reply and error and never a score (the schema refuses
one), and summaries average measured grades only. Canary grades carry the answer they
were made from and their kind. Each grade row names the judge that made it and, beside
it, the support check's verdicts on the same answer (``support``, ``flagged_share``). A
criterion the judge could not grade is kept with its reason and no level, and left out
of that criterion's average.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from knowledge.sql import AsyncSession, Dialect

__all__ = [
    "LEVEL_VALUE",
    "GradeRecords",
    "JudgeSummary",
    "StoredGrade",
    "StoredVerdict",
]

# What a stored level is worth, best first (all Excellent is 5 per criterion)
LEVEL_VALUE: dict[str, int] = {"Excellent": 5, "Good": 4, "Fair": 3, "Bad": 2, "Worse": 1}

_INSERT_GRADE = (
    "INSERT INTO grades (answer_id, kind, judge, criteria, context_relevance, legacy_score,"
    " score, unmeasured, error, raw, latency_ms, cost_usd, created_at, support, flagged_share)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_PAIR_VERDICT = (
    "INSERT INTO pair_verdicts (battle_id, judge, winner, a_first, b_first, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_AUDIT = "INSERT INTO audits (judge, report, created_at) VALUES (?, ?, ?)"


def _latest_audit(d: Dialect) -> str:
    """The last report that graded something: an audit with nothing new to grade is not
    one (older Parleys stored such empty reports; they are passed over)."""
    return (
        f"SELECT report FROM audits WHERE CAST({d.json_value('report', 'answers')} AS"
        f" {d.float_type}) > 0 OR {d.json_value('report', 'agreement')} IS NOT NULL"
        " ORDER BY id DESC LIMIT 1"
    )


# Answers this judge has not graded, that did not fail, since a time: thumbs-down first
# (an answer someone disliked is the one worth a look), then newest first.
_AUDIT_CANDIDATES = (
    "SELECT a.id FROM answers a WHERE a.error IS NULL AND a.text != '' AND a.created_at >= ?"
    " AND NOT EXISTS (SELECT 1 FROM grades g WHERE g.answer_id = a.id AND g.kind = 'answer'"
    " AND g.judge = ?)"
    " ORDER BY EXISTS (SELECT 1 FROM thumbs t WHERE t.answer_id = a.id AND t.value < 0) DESC,"
    " a.id DESC LIMIT ?"
)
# Voted battles between two stored answers (imported battles have no text) that this
# judge has not compared yet, newest first.
_BATTLES_TO_JUDGE = (
    "SELECT b.id, b.answer_a, b.answer_b FROM battles b"
    " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
    " WHERE b.created_at >= ? AND qa.text != '' AND qb.text != ''"
    " AND EXISTS (SELECT 1 FROM votes v WHERE v.battle_id = b.id)"
    " AND NOT EXISTS (SELECT 1 FROM pair_verdicts p WHERE p.battle_id = b.id AND p.judge = ?)"
    " ORDER BY b.id DESC LIMIT ?"
)


class _Dumps(Protocol):
    def model_dump(self) -> dict[str, Any]: ...

    def model_dump_json(self) -> str: ...


class StoredGrade(Protocol):
    """What a grade row is made of (``arena.judge.grades.Grade`` is one)."""

    judge: str
    criteria: Mapping[str, _Dumps]
    context_relevance: _Dumps | None
    unmeasured: bool
    error: str | None
    raw: str
    latency_ms: float
    cost_usd: float
    unmeasured_criteria: Mapping[str, str]

    @property
    def legacy_score(self) -> float | None: ...

    @property
    def score(self) -> float | None: ...

    @property
    def support_record(self) -> tuple[str | None, float | None]: ...


class StoredVerdict(Protocol):
    """What a pairwise verdict row is made of (``arena.judge.pairwise.PairVerdict``)."""

    winner: str | None
    a_first: str | None
    b_first: str | None


def _grade_row(grade: StoredGrade, answer_id: int | None, kind: str) -> tuple:
    context = grade.context_relevance
    support, flagged_share = grade.support_record
    criteria = {c: j.model_dump() for c, j in grade.criteria.items()}
    criteria |= {c: {"reason": why, "level": None} for c, why in grade.unmeasured_criteria.items()}
    return (
        answer_id,
        kind,
        grade.judge,
        json.dumps(criteria),
        context and context.model_dump_json(),
        grade.legacy_score,
        grade.score,
        int(grade.unmeasured),
        grade.error,
        grade.raw,
        grade.latency_ms,
        grade.cost_usd,
        time.time(),
        support,
        flagged_share,
    )


@dataclass(frozen=True)
class JudgeSummary:
    """One model's judge grades: means over measured grades only (levels worth 5..1), and
    the mean share of its answers' sentences the support check flagged (None: no check)."""

    model: str
    graded: int
    unmeasured: int
    score: float | None
    legacy_score: float | None
    criteria: dict[str, float]
    flagged_share: float | None = None


def _summary_query(judge: str | None) -> tuple[str, tuple]:
    """Every grade of a model's own answers (canaries left out), by model name."""
    where, params = ("AND g.judge = ?", (judge,)) if judge is not None else ("", ())
    sql = (
        "SELECT a.model, g.criteria, g.score, g.legacy_score, g.unmeasured, g.flagged_share"
        f" FROM grades g JOIN answers a ON a.id = g.answer_id WHERE g.kind = 'answer' {where}"
        " ORDER BY a.model"
    )
    return sql, params


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _summaries(rows: Sequence[Sequence]) -> list[JudgeSummary]:
    by_model: dict[str, list[Sequence]] = {}
    for row in rows:
        by_model.setdefault(row[0], []).append(row)
    out = []
    for model, graded in by_model.items():
        measured = [r for r in graded if not r[4]]
        levels: dict[str, list[int]] = {}
        for r in measured:
            for criterion, judged in json.loads(r[1]).items():
                if judged["level"] is not None:  # None: the criterion was not graded
                    levels.setdefault(criterion, []).append(LEVEL_VALUE[judged["level"]])
        out.append(
            JudgeSummary(
                model,
                len(measured),
                len(graded) - len(measured),
                _mean([r[2] for r in measured]),
                _mean([r[3] for r in measured]),
                {c: sum(v) / len(v) for c, v in levels.items()},
                _mean([r[5] for r in graded if r[5] is not None]),
            )
        )
    return out


class GradeRecords:
    """The judge's reads and writes; ``Store`` supplies ``_write``, ``_rows`` and
    ``_dialect``."""

    _write: Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
    _rows: Callable[..., Awaitable[list[tuple[Any, ...]]]]
    _dialect: Dialect

    async def record_grade(
        self, grade: StoredGrade, answer_id: int | None = None, kind: str = "answer"
    ) -> int:
        """Store a grade with its raw reply, latency and cost; ``kind`` names a canary."""
        row = _grade_row(grade, answer_id, kind)
        return await self._write(lambda db: _insert(db, _INSERT_GRADE, row))

    async def record_pair_verdict(self, battle_id: int, judge: str, verdict: StoredVerdict) -> int:
        """A judge's both-orders verdict on a battle (``winner`` None: unmeasured)."""
        row = (battle_id, judge, verdict.winner, verdict.a_first, verdict.b_first, time.time())
        return await self._write(lambda db: _insert(db, _INSERT_PAIR_VERDICT, row))

    async def judge_summary(self, judge: str | None = None) -> list[JudgeSummary]:
        """Per model, the judge grades of its answers (canaries left out), by model name."""
        return _summaries(await self._rows(*_summary_query(judge)))

    async def answers_to_audit(self, judge: str, limit: int, since: float = 0.0) -> list[int]:
        """Ids of answers ``judge`` has not graded, thumbs-down first, then newest."""
        return [row[0] for row in await self._rows(_AUDIT_CANDIDATES, (since, judge, limit))]

    async def battles_to_judge(
        self, judge: str, limit: int, since: float = 0.0
    ) -> list[tuple[int, int, int]]:
        """(battle, answer A, answer B) of voted battles ``judge`` has not compared yet."""
        rows = await self._rows(_BATTLES_TO_JUDGE, (since, judge, limit))
        return [(b, a, c) for b, a, c in rows]

    async def battle_votes(self, battle_ids: list[int]) -> list[tuple[int, str, str, str, str]]:
        """(battle, model A, model B, choice, user) of every live vote on the battles."""
        if not battle_ids:
            return []
        marks = ",".join("?" * len(battle_ids))
        sql = (
            "SELECT v.battle_id, qa.model, qb.model, v.choice, v.user FROM votes v"
            " JOIN battles b ON b.id = v.battle_id"
            " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
            f" WHERE v.battle_id IN ({marks}) ORDER BY v.id"
        )
        return [tuple(row) for row in await self._rows(sql, battle_ids)]

    async def record_audit(self, judge: str, report: dict) -> int:
        row = (judge, json.dumps(report), time.time())
        return await self._write(lambda db: _insert(db, _INSERT_AUDIT, row))

    async def latest_audit(self) -> dict | None:
        """The last stored audit that graded something, or None before the first."""
        rows = await self._rows(_latest_audit(self._dialect))
        return json.loads(rows[0][0]) if rows else None


async def _insert(s: AsyncSession, sql: str, row: tuple) -> int:
    return int(await s.scalar(f"{sql} RETURNING id", row))
