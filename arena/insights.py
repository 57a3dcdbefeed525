"""The reads a dashboard is made of, mixed into ``Store``: recent questions with their
answers, sources, votes and thumbs; text search; questions the knowledge base could not
answer; one model's answers and thumbs-down reasons; stored audits; votes per period.

Every table in these reads is small per request (a page of questions, a model's recent
answers) or grouped in SQL (votes per period and pair), so a million stored battles cost
a page what a hundred do, except ``vote_periods``, which reads every counted vote once.
Imported battles have questions and answers without text; the text reads skip them.
The SQL is plain (``?`` placeholders), so it runs on both engines; the one cast that
differs comes from the dialect.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from arena.compose import NOT_FOUND
from arena.vote_counts import PairCount
from arena.votes import outcome_column
from knowledge.sql import Dialect

__all__ = [
    "MAX_SEARCH_CHARS",
    "AuditRecord",
    "BattleTally",
    "InsightReads",
    "QuestionRecord",
    "StoredAnswer",
    "StoredSource",
    "UnansweredQuestion",
    "VotePeriods",
    "like_pattern",
]

# the longest text a search looks for: a phrase, not a page (SQLite refuses a LIKE
# pattern over 50,000 bytes, and matching a long one costs every row that much)
MAX_SEARCH_CHARS = 500
# a refusal, whatever else the answer says: the knowledge base had nothing to say
_REFUSAL = f"%{NOT_FOUND.lower()}%"
# each answer with its thumbs, from ``FROM answers a``
_ANSWER_COLUMNS = (
    "a.id, a.question_id, a.model, a.text, a.error, a.citations, a.created_at,"
    " (SELECT COUNT(*) FROM thumbs t WHERE t.answer_id = a.id AND t.value > 0),"
    " (SELECT COUNT(*) FROM thumbs t WHERE t.answer_id = a.id AND t.value < 0)"
)


@dataclass(frozen=True)
class StoredSource:
    """A passage an answer cited: its number in the answer, its file and its place."""

    number: int
    source: str
    location: str


@dataclass(frozen=True)
class StoredAnswer:
    """A stored answer with the question it answered, its citations and its thumbs."""

    answer_id: int
    question_id: int
    question: str
    model: str
    text: str
    error: str | None
    sources: list[StoredSource]
    thumbs_up: int
    thumbs_down: int
    created_at: float


@dataclass(frozen=True)
class BattleTally:
    """A battle's two answers (A shown first) and its live votes by choice."""

    battle_id: int
    answer_a: int
    answer_b: int
    votes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionRecord:
    """A question as asked, with every answer it got and its battle, if it had one."""

    question_id: int
    platform: str
    channel: str
    text: str
    created_at: float
    answers: list[StoredAnswer]
    battle: BattleTally | None


@dataclass(frozen=True)
class UnansweredQuestion:
    """A question every working answer refused, or someone marked as not in the docs."""

    question_id: int
    channel: str
    text: str
    created_at: float


@dataclass(frozen=True)
class AuditRecord:
    """A stored audit report (``arena.judge.audit.run_audit``'s dict) and when it ran."""

    audit_id: int
    judge: str
    created_at: float
    report: dict


@dataclass(frozen=True)
class VotePeriods:
    """Counted votes in ``count`` periods of ``width`` seconds from ``start``, as
    (period, counts) with periods numbered from 0."""

    start: float
    width: float
    count: int
    counts: list[tuple[int, PairCount]]


def like_pattern(text: str) -> str:
    """A LIKE pattern (with ``ESCAPE '\\'``) matching ``text`` anywhere, lowercased; its
    own % and _ match only themselves."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _sources(citations: str) -> list[StoredSource]:
    try:
        cited = json.loads(citations or "[]")
    except ValueError:
        return []
    return [
        StoredSource(int(c.get("number", 0)), str(c.get("source", "")), str(c.get("location", "")))
        for c in cited
        if isinstance(c, dict)
    ]


def _answer(row: Sequence[Any], question: str = "") -> StoredAnswer:
    answer_id, question_id, model, text, error, citations, created_at, up, down = row[:9]
    return StoredAnswer(
        answer_id,
        question_id,
        question,
        model,
        text,
        error,
        _sources(citations),
        int(up),
        int(down),
        created_at,
    )


class InsightReads:
    """Dashboard reads over the store's database (``Store`` provides ``_rows``,
    ``_dialect`` and ``_counted_votes``)."""

    _rows: Callable[..., Awaitable[list[tuple[Any, ...]]]]
    _dialect: Dialect
    _counted_votes: Callable[[str | None, int | None], tuple[str, list]]

    async def recent_questions(
        self, limit: int = 50, *, before: int | None = None, search: str | None = None
    ) -> list[QuestionRecord]:
        """The newest questions (older than question ``before``, when given), each with
        its answers, citations, thumbs and battle votes; ``search`` keeps those whose
        question or an answer holds the text (any case); ValueError when it is longer
        than MAX_SEARCH_CHARS."""
        if search and len(search) > MAX_SEARCH_CHARS:
            raise ValueError(f"a search is at most {MAX_SEARCH_CHARS} characters: {len(search)}")
        where, params = ["q.text != ''"], []
        if before is not None:
            where.append("q.id < ?")
            params.append(before)
        if search:
            pattern = like_pattern(search)
            where.append(
                "(LOWER(q.text) LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM answers a"
                " WHERE a.question_id = q.id AND LOWER(a.text) LIKE ? ESCAPE '\\'))"
            )
            params += [pattern, pattern]
        questions = await self._rows(
            "SELECT q.id, q.platform, q.channel, q.text, q.created_at FROM questions q"
            f" WHERE {' AND '.join(where)} ORDER BY q.id DESC LIMIT ?",
            [*params, limit],
        )
        if not questions:
            return []
        ids = [row[0] for row in questions]
        marks = ",".join("?" * len(ids))
        answers: dict[int, list[StoredAnswer]] = {}
        texts = {row[0]: row[3] for row in questions}
        for row in await self._rows(
            f"SELECT {_ANSWER_COLUMNS} FROM answers a WHERE a.question_id IN ({marks})"
            " ORDER BY a.id",
            ids,
        ):
            answers.setdefault(row[1], []).append(_answer(row, texts[row[1]]))
        battles: dict[int, BattleTally] = {}
        for question_id, battle_id, left, right, choice, votes in await self._rows(
            "SELECT b.question_id, b.id, b.answer_a, b.answer_b, v.choice, COUNT(v.battle_id)"
            " FROM battles b LEFT JOIN votes v ON v.battle_id = b.id"
            f" WHERE b.question_id IN ({marks})"
            " GROUP BY b.question_id, b.id, b.answer_a, b.answer_b, v.choice ORDER BY b.id",
            ids,
        ):
            tally = battles.setdefault(question_id, BattleTally(battle_id, left, right))
            if choice is not None and tally.battle_id == battle_id:
                tally.votes[choice] = int(votes)
        return [
            QuestionRecord(
                question_id,
                platform,
                channel,
                text,
                created_at,
                answers.get(question_id, []),
                battles.get(question_id),
            )
            for question_id, platform, channel, text, created_at in questions
        ]

    async def unanswered_questions(
        self, limit: int = 500, *, reasons: Sequence[str] = ()
    ) -> list[UnansweredQuestion]:
        """The newest questions the knowledge base could not answer: every answer that did
        not fail said it found nothing, or a thumbs-down gave one of ``reasons`` (such
        as "not in the docs"). A question whose models all failed is not a gap."""
        marks = ",".join("?" * len(reasons)) or "NULL"
        rows = await self._rows(
            "SELECT q.id, q.channel, q.text, q.created_at FROM questions q"
            " WHERE q.text != '' AND ((EXISTS (SELECT 1 FROM answers a"
            "  WHERE a.question_id = q.id AND a.error IS NULL)"
            "  AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.question_id = q.id"
            "  AND a.error IS NULL AND LOWER(a.text) NOT LIKE ?))"
            " OR EXISTS (SELECT 1 FROM thumbs t JOIN answers a ON a.id = t.answer_id"
            f"  WHERE a.question_id = q.id AND t.value < 0 AND t.reason IN ({marks})))"
            " ORDER BY q.id DESC LIMIT ?",
            [_REFUSAL, *reasons, limit],
        )
        return [UnansweredQuestion(*row) for row in rows]

    async def model_answers(self, model: str, limit: int = 20) -> list[StoredAnswer]:
        """One model's newest answers with text (imports have none), newest first."""
        rows = await self._rows(
            f"SELECT {_ANSWER_COLUMNS}, q.text FROM answers a"
            " JOIN questions q ON q.id = a.question_id"
            " WHERE a.model = ? AND (a.text != '' OR a.error IS NOT NULL)"
            " ORDER BY a.id DESC LIMIT ?",
            (model, limit),
        )
        return [_answer(row, row[9]) for row in rows]

    async def model_thumbs_down(self, model: str) -> list[tuple[str | None, int]]:
        """(reason, thumbs) of the thumbs-down on one model's answers, most given first;
        None for a thumbs-down that gave no reason."""
        rows = await self._rows(
            "SELECT t.reason, COUNT(*) FROM thumbs t JOIN answers a ON a.id = t.answer_id"
            " WHERE a.model = ? AND t.value < 0 GROUP BY t.reason"
            " ORDER BY COUNT(*) DESC, t.reason NULLS FIRST",
            (model,),
        )
        return [(reason, int(n)) for reason, n in rows]

    async def model_known(self, model: str) -> bool:
        """Whether any answer by this model is stored."""
        return bool(await self._rows("SELECT 1 FROM answers WHERE model = ? LIMIT 1", (model,)))

    async def audits(self, limit: int = 50) -> list[AuditRecord]:
        """The newest stored audit reports, newest first."""
        rows = await self._rows(
            "SELECT id, judge, report, created_at FROM audits ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [
            AuditRecord(i, judge, created, json.loads(report)) for i, judge, report, created in rows
        ]

    async def vote_channels(self) -> list[str]:
        """The channels whose votes a board can be filtered to."""
        rows = await self._rows("SELECT DISTINCT channel FROM pair_counts ORDER BY channel")
        return [row[0] for row in rows]

    async def votes_version(self) -> tuple:
        """Changes whenever a vote or thumb is cast, changed or imported: a board made at
        one version is current while it holds (cheap: two index lookups and a count)."""
        rows = await self._rows(
            "SELECT (SELECT MAX(id) FROM votes), (SELECT MAX(updated_at) FROM votes),"
            " (SELECT COUNT(*) FROM thumbs), (SELECT MAX(created_at) FROM thumbs),"
            " (SELECT COUNT(*) FROM battles WHERE excluded IS NOT NULL)"
        )
        return tuple(rows[0])

    async def vote_periods(
        self,
        periods: int,
        channel: str | None = None,
        *,
        daily_cap: int | None = None,
        min_width: float = 60.0,
    ) -> VotePeriods:
        """The votes that count (as ``pair_counts`` counts them), by when each was last
        cast, in at most ``periods`` periods of equal width (at least ``min_width`` s,
        so votes cast within a minute make one period, not many)."""
        (first, last) = (await self._rows("SELECT MIN(updated_at), MAX(updated_at) FROM votes"))[0]
        if first is None:
            return VotePeriods(0.0, min_width, 0, [])
        width = max((last - first) / periods, min_width)
        used = min(periods, int((last - first) // width) + 1)
        clause, params = self._counted_votes(channel, daily_cap)
        period = self._dialect.truncate("(v.updated_at - ?) / ?")
        rows = await self._rows(
            f"SELECT {period}, qa.model, qb.model, v.choice,"
            " COUNT(*) FROM battles b JOIN votes v ON v.battle_id = b.id"
            " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
            f" WHERE {clause} GROUP BY 1, 2, 3, 4",
            [first, width, *params],
        )
        counts = []
        for period, model_a, model_b, choice, n in rows:
            first_model, second_model, column = outcome_column(model_a, model_b, choice)
            pair = PairCount(first_model, second_model, **{column: int(n)})
            counts.append((min(int(period), used - 1), pair))  # the last vote: last edge
        return VotePeriods(first, width, used, counts)
