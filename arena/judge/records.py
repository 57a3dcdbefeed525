"""How grades, pairwise verdicts and audit reports are stored (the SQL behind ``Store``).

The tables come from migration ``006_judge``. An unmeasured grade keeps its raw reply and
error and never a score (the schema refuses one), and summaries average measured grades
only. Canary grades carry the answer they were made from and their kind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .grades import LEVEL_VALUE, Grade
from .pairwise import PairVerdict

__all__ = [
    "AUDIT_CANDIDATES",
    "BATTLES_TO_JUDGE",
    "INSERT_AUDIT",
    "INSERT_GRADE",
    "INSERT_PAIR_VERDICT",
    "LATEST_AUDIT",
    "JudgeSummary",
    "grade_row",
    "pair_verdict_row",
    "summaries",
    "summary_query",
    "votes_query",
]

INSERT_GRADE = (
    "INSERT INTO grades (answer_id, kind, judge, criteria, context_relevance, legacy_score,"
    " score, unmeasured, error, raw, latency_ms, cost_usd, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_PAIR_VERDICT = (
    "INSERT INTO pair_verdicts (battle_id, judge, winner, a_first, b_first, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_AUDIT = "INSERT INTO audits (judge, report, created_at) VALUES (?, ?, ?)"
LATEST_AUDIT = "SELECT report FROM audits ORDER BY id DESC LIMIT 1"
# Answers this judge has not graded, that did not fail, since a time: thumbs-down first
# (an answer someone disliked is the one worth a look), then newest first.
AUDIT_CANDIDATES = (
    "SELECT a.id FROM answers a WHERE a.error IS NULL AND a.text != '' AND a.created_at >= ?"
    " AND NOT EXISTS (SELECT 1 FROM grades g WHERE g.answer_id = a.id AND g.kind = 'answer'"
    " AND g.judge = ?)"
    " ORDER BY EXISTS (SELECT 1 FROM thumbs t WHERE t.answer_id = a.id AND t.value < 0) DESC,"
    " a.id DESC LIMIT ?"
)

# Voted battles between two stored answers (imported battles have no text) that this
# judge has not compared yet, newest first.
BATTLES_TO_JUDGE = (
    "SELECT b.id, b.answer_a, b.answer_b FROM battles b"
    " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
    " WHERE b.created_at >= ? AND qa.text != '' AND qb.text != ''"
    " AND EXISTS (SELECT 1 FROM votes v WHERE v.battle_id = b.id)"
    " AND NOT EXISTS (SELECT 1 FROM pair_verdicts p WHERE p.battle_id = b.id AND p.judge = ?)"
    " ORDER BY b.id DESC LIMIT ?"
)


def votes_query(battle_ids: Sequence[int]) -> str:
    """(battle, model shown as A, model shown as B, choice, user) of the battles' votes."""
    marks = ",".join("?" * len(battle_ids))
    return (
        "SELECT v.battle_id, qa.model, qb.model, v.choice, v.user FROM votes v"
        " JOIN battles b ON b.id = v.battle_id"
        " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
        f" WHERE v.battle_id IN ({marks}) ORDER BY v.id"
    )


def grade_row(grade: Grade, answer_id: int | None, kind: str) -> tuple:
    context = grade.context_relevance
    return (
        answer_id,
        kind,
        grade.judge,
        json.dumps({c: j.model_dump() for c, j in grade.criteria.items()}),
        context and context.model_dump_json(),
        grade.legacy_score,
        grade.score,
        int(grade.unmeasured),
        grade.error,
        grade.raw,
        grade.latency_ms,
        grade.cost_usd,
        time.time(),
    )


def pair_verdict_row(battle_id: int, judge: str, verdict: PairVerdict) -> tuple:
    return (battle_id, judge, verdict.winner, verdict.a_first, verdict.b_first, time.time())


@dataclass(frozen=True)
class JudgeSummary:
    """One model's judge grades: means over measured grades only (levels worth 5..1)."""

    model: str
    graded: int
    unmeasured: int
    score: float | None
    legacy_score: float | None
    criteria: dict[str, float]


def summary_query(judge: str | None) -> tuple[str, tuple]:
    """Every grade of a model's own answers (canaries left out), by model name."""
    where, params = ("AND g.judge = ?", (judge,)) if judge is not None else ("", ())
    sql = (
        "SELECT a.model, g.criteria, g.score, g.legacy_score, g.unmeasured FROM grades g"
        f" JOIN answers a ON a.id = g.answer_id WHERE g.kind = 'answer' {where}"
        " ORDER BY a.model"
    )
    return sql, params


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summaries(rows: Sequence[Sequence]) -> list[JudgeSummary]:
    """Per model, from the rows of ``summary_query``."""
    by_model: dict[str, list[Sequence]] = {}
    for row in rows:
        by_model.setdefault(row[0], []).append(row)
    out = []
    for model, graded in by_model.items():
        measured = [r for r in graded if not r[4]]
        levels: dict[str, list[int]] = {}
        for r in measured:
            for criterion, judged in json.loads(r[1]).items():
                levels.setdefault(criterion, []).append(LEVEL_VALUE[judged["level"]])
        out.append(
            JudgeSummary(
                model,
                len(measured),
                len(graded) - len(measured),
                _mean([r[2] for r in measured]),
                _mean([r[3] for r in measured]),
                {c: sum(v) / len(v) for c, v in levels.items()},
            )
        )
    return out
