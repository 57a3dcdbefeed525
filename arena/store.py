"""The arena's SQLite database: every question, answer, battle, vote and thumb is a row.

Concurrency: one aiosqlite connection in autocommit mode (WAL, foreign keys on). Every
write is an explicit ``BEGIN IMMEDIATE`` transaction taken under one asyncio lock, so
tasks sharing the Store never interleave inside a transaction; short reads take the same
lock, so they never see half of one. Exports read a WAL snapshot on a second connection
and block no writer. Votes are group-committed (``arena.votes``): a vote and the pair
counts it moves commit together, and ``record_vote`` returns only after that commit, so
an acknowledged vote is never lost and never counted twice. Another process writing the
same file waits up to ``busy_timeout``.

Counting: each user's live vote on a battle is one outcome for the ratings (three users
voting on one battle are three outcomes); a changed mind moves the counts, it does not
add to them. Pair counts are kept per channel with the two models in name order.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import aiosqlite

from arena.errors import StoreError, VoteRefused
from arena.migrations import migrate
from arena.types import CHOICES, Answer, Choice, Turn
from arena.votes import OUTCOME_COLUMNS, VoteBatcher, VoteResult, outcome_column
from knowledge.types import Hit

if TYPE_CHECKING:
    from arena.judge.grades import Grade
    from arena.judge.pairwise import PairVerdict

__all__ = ["BattleRecord", "JudgeSummary", "PairCount", "Store", "VoteResult"]

T = TypeVar("T")


@dataclass(frozen=True)
class PairCount:
    """Outcomes between two models, ``model_a < model_b`` by name."""

    model_a: str
    model_b: str
    a_wins: int = 0
    b_wins: int = 0
    ties: int = 0
    both_bad: int = 0

    @property
    def total(self) -> int:
        return self.a_wins + self.b_wins + self.ties + self.both_bad


@dataclass(frozen=True)
class BattleRecord:
    """One voted battle as export, import and simulation see it (A = left, shown first)."""

    model_a: str
    model_b: str
    choice: Choice
    tstamp: float
    channel: str = "import"
    user: str = "import"
    question_id: int | None = None
    source_key: str | None = None


@dataclass(frozen=True)
class JudgeSummary:
    """One model's judge grades: means over measured grades only (levels worth 5..1)."""

    model: str
    graded: int
    unmeasured: int
    score: float | None
    legacy_score: float | None
    criteria: dict[str, float]


class Store:
    """Async access to the arena database. Open with ``await Store.open(path)``."""

    def __init__(self, db: aiosqlite.Connection, path: str = ":memory:") -> None:
        self._db = db
        self._path = path
        self._lock = asyncio.Lock()
        self._votes = VoteBatcher(self._transaction)

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        if str(path) != ":memory:" and not Path(path).parent.is_dir():
            raise StoreError(f"cannot open the arena database at {path}: no such folder")
        try:
            db = await aiosqlite.connect(str(path), isolation_level=None)
        except aiosqlite.Error as exc:
            raise StoreError(f"cannot open the arena database at {path}: {exc}") from exc
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            await db.execute("PRAGMA synchronous=NORMAL")
            await migrate(db)
        except aiosqlite.Error as exc:
            await db.close()
            raise StoreError(f"cannot open the arena database at {path}: {exc}") from exc
        return cls(db, str(path))

    async def close(self) -> None:
        await self._votes.drain()
        await self._db.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.rollback()
                raise
            await self._db.commit()

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        try:
            async with self._transaction() as db:
                return await work(db)
        except aiosqlite.Error as exc:
            raise StoreError(f"arena database write failed: {exc}") from exc

    async def _rows(self, sql: str, params: Iterable[object] = ()) -> list[aiosqlite.Row]:
        """A short read, taken between write transactions so it never sees half of one."""
        try:
            async with self._lock, self._db.execute(sql, tuple(params)) as cursor:
                return list(await cursor.fetchall())
        except aiosqlite.Error as exc:
            raise StoreError(f"arena database read failed: {exc}") from exc

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A long read on its own connection: one consistent view (WAL) that blocks no vote.

        An in-memory database has only its one connection, so it is read there.
        """
        if self._path == ":memory:":
            yield self._db
            return
        db = await aiosqlite.connect(self._path)
        try:
            await db.execute("BEGIN")
            yield db
        finally:
            await db.close()

    # --- questions and answers ---------------------------------------------------------

    async def record_question(
        self,
        *,
        platform: str,
        channel: str,
        user: str,
        thread: str | None,
        text: str,
        hits: list[Hit],
    ) -> int:
        passages = json.dumps(
            [
                {
                    "id": h.passage.id,
                    "source": h.passage.source,
                    "location": h.passage.place,
                    "score": round(h.score, 6),
                }
                for h in hits
            ]
        )

        async def insert(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "INSERT INTO questions (platform, channel, user, thread, text, passages,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (platform, channel, user, thread, text, passages, time.time()),
            )
            return int(cursor.lastrowid)

        return await self._write(insert)

    async def record_answer(self, question_id: int, answer: Answer) -> int:
        citations = json.dumps(
            [
                {
                    "number": c.number,
                    "id": c.passage.id,
                    "source": c.passage.source,
                    "location": c.passage.place,
                }
                for c in answer.citations
            ]
        )

        async def insert(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "INSERT INTO answers (question_id, model, text, citations, input_tokens,"
                " output_tokens, latency_ms, cost_usd, error, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    question_id,
                    answer.model,
                    answer.text,
                    citations,
                    answer.input_tokens,
                    answer.output_tokens,
                    answer.latency_ms,
                    answer.cost_usd,
                    answer.error,
                    time.time(),
                ),
            )
            return int(cursor.lastrowid)

        return await self._write(insert)

    async def record_battle(
        self, question_id: int, left_answer_id: int, right_answer_id: int
    ) -> int:
        """A battle between two stored answers; the left one is shown as "Model A"."""

        async def insert(db: aiosqlite.Connection) -> int:
            async with db.execute(
                "SELECT id, model FROM answers WHERE question_id = ? AND id IN (?, ?)",
                (question_id, left_answer_id, right_answer_id),
            ) as cursor:
                models = {answer_id: model async for answer_id, model in cursor}
            if len(models) != 2 or len(set(models.values())) != 2:
                raise StoreError(
                    f"a battle needs two answers to question {question_id} from two different"
                    f" models; got answers {left_answer_id} and {right_answer_id}"
                )
            cursor = await db.execute(
                "INSERT INTO battles (question_id, answer_a, answer_b, channel, created_at)"
                " SELECT ?, ?, ?, channel, ? FROM questions WHERE id = ?",
                (question_id, left_answer_id, right_answer_id, time.time(), question_id),
            )
            return int(cursor.lastrowid)

        return await self._write(insert)

    # --- votes and thumbs --------------------------------------------------------------

    async def record_vote(self, battle_id: int, user: str, choice: Choice) -> VoteResult:
        """Store or replace ``user``'s vote; the pair counts move in the same transaction.

        Concurrent votes are group-committed (see ``arena.votes``); this returns once the
        vote's transaction has committed.
        """
        return await self._votes.submit(battle_id, user, choice)

    async def record_thumb(self, answer_id: int, user: str, value: int) -> None:
        """+1 or -1; a user's later thumb on the same answer replaces the earlier one."""
        if value not in (-1, 1):
            raise VoteRefused("a thumb is +1 or -1")

        async def thumb(db: aiosqlite.Connection) -> None:
            async with db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise VoteRefused(f"there is no answer {answer_id}")
            await db.execute(
                "INSERT INTO thumbs (answer_id, user, value, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user) DO UPDATE SET value = excluded.value,"
                " created_at = excluded.created_at",
                (answer_id, user, value, time.time()),
            )

        await self._write(thumb)

    # --- reading -----------------------------------------------------------------------

    async def pair_counts(self, channel: str | None = None) -> list[PairCount]:
        """Outcome counts per model pair, for one channel or summed over all."""
        where, params = ("WHERE channel = ?", (channel,)) if channel is not None else ("", ())
        rows = await self._rows(
            "SELECT model_a, model_b, SUM(a_wins), SUM(b_wins), SUM(ties), SUM(both_bad)"
            f" FROM pair_counts {where} GROUP BY model_a, model_b ORDER BY model_a, model_b",
            params,
        )
        return [PairCount(*row) for row in rows if sum(row[2:])]

    async def thumb_counts(self, channel: str | None = None) -> dict[str, tuple[int, int]]:
        """Per model: (thumbs up, thumbs down)."""
        where, params = ("WHERE q.channel = ?", (channel,)) if channel is not None else ("", ())
        rows = await self._rows(
            "SELECT a.model, SUM(t.value > 0), SUM(t.value < 0) FROM thumbs t"
            " JOIN answers a ON a.id = t.answer_id JOIN questions q ON q.id = a.question_id"
            f" {where} GROUP BY a.model",
            params,
        )
        return {model: (int(up), int(down)) for model, up, down in rows}

    async def thread_history(
        self, platform: str, channel: str, thread: str, limit: int = 20
    ) -> list[Turn]:
        """The thread's last ``limit`` questions and their answers as turns, oldest first.

        A question's answer is, for a battle, the side its asker voted for ("Model B" only
        if they chose B; a tie, both bad or no vote keeps "Model A"), otherwise the first
        answer that did not fail. A question with no such answer gives only its turn.
        """
        if limit <= 0:
            return []
        rows = await self._rows(
            "SELECT q.text, a.text FROM ("
            "  SELECT q.id, q.text, COALESCE("
            "    (SELECT CASE v.choice WHEN 'b' THEN b.answer_b ELSE b.answer_a END"
            "     FROM battles b LEFT JOIN votes v ON v.battle_id = b.id AND v.user = q.user"
            "     WHERE b.question_id = q.id ORDER BY b.id LIMIT 1),"
            "    (SELECT id FROM answers WHERE question_id = q.id AND error IS NULL"
            "     ORDER BY id LIMIT 1)) AS answer_id"
            "  FROM questions q WHERE q.platform = ? AND q.channel = ? AND q.thread = ?"
            "  ORDER BY q.id DESC LIMIT ?) q"
            " LEFT JOIN answers a ON a.id = q.answer_id ORDER BY q.id",
            (platform, channel, thread, limit),
        )
        turns: list[Turn] = []
        for question, answer in rows:
            turns.append(Turn("user", question))
            if answer:
                turns.append(Turn("assistant", answer))
        return turns

    async def iter_battles(self) -> AsyncIterator[BattleRecord]:
        """Every live vote as a battle record, in the order the votes were last cast.

        Read from a snapshot, so votes cast during a long export neither block on it nor
        appear in it twice.
        """
        try:
            async with (
                self._snapshot() as db,
                db.execute(
                    "SELECT qa.model, qb.model, v.choice, v.updated_at, b.channel, v.user,"
                    " b.question_id, b.source_key FROM votes v"
                    " JOIN battles b ON b.id = v.battle_id"
                    " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
                    " ORDER BY v.updated_at, v.id"
                ) as cursor,
            ):
                async for row in cursor:
                    yield BattleRecord(*row)
        except aiosqlite.Error as exc:
            raise StoreError(f"arena database read failed: {exc}") from exc

    # --- judge grades -----------------------------------------------------------------

    async def record_grade(
        self, grade: Grade, answer_id: int | None = None, kind: str = "answer"
    ) -> int:
        """Store a grade with its raw reply, latency and cost; ``kind`` names a canary."""
        context = grade.context_relevance
        row = (
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

        async def insert(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "INSERT INTO grades (answer_id, kind, judge, criteria, context_relevance,"
                " legacy_score, score, unmeasured, error, raw, latency_ms, cost_usd, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid)

        return await self._write(insert)

    async def record_pair_verdict(self, battle_id: int, judge: str, verdict: PairVerdict) -> int:
        """A judge's both-orders verdict on a battle (``winner`` None: unmeasured)."""

        async def insert(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "INSERT INTO pair_verdicts (battle_id, judge, winner, a_first, b_first,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (battle_id, judge, verdict.winner, verdict.a_first, verdict.b_first, time.time()),
            )
            return int(cursor.lastrowid)

        return await self._write(insert)

    async def judge_summary(self, judge: str | None = None) -> list[JudgeSummary]:
        """Per model, the judge grades of its answers (canaries left out), by model name."""
        from arena.judge.grades import LEVEL_VALUE

        where, params = ("AND g.judge = ?", (judge,)) if judge is not None else ("", ())
        rows = await self._rows(
            "SELECT a.model, g.criteria, g.score, g.legacy_score, g.unmeasured FROM grades g"
            f" JOIN answers a ON a.id = g.answer_id WHERE g.kind = 'answer' {where}"
            " ORDER BY a.model",
            params,
        )
        by_model: dict[str, list[aiosqlite.Row]] = {}
        for row in rows:
            by_model.setdefault(row[0], []).append(row)
        summaries = []
        for model, graded in by_model.items():
            measured = [r for r in graded if not r[4]]
            levels: dict[str, list[int]] = {}
            for r in measured:
                for criterion, judged in json.loads(r[1]).items():
                    levels.setdefault(criterion, []).append(LEVEL_VALUE[judged["level"]])
            summaries.append(
                JudgeSummary(
                    model,
                    len(measured),
                    len(graded) - len(measured),
                    _mean([r[2] for r in measured]),
                    _mean([r[3] for r in measured]),
                    {c: sum(v) / len(v) for c, v in levels.items()},
                )
            )
        return summaries

    # --- bulk --------------------------------------------------------------------------

    async def bulk_record_battles(
        self, records: Iterable[BattleRecord], batch: int = 50_000
    ) -> int:
        """Store voted battles fast (import, simulation), keeping pair counts exact.

        Records whose ``source_key`` is already stored are skipped, so importing the same
        file twice counts nothing twice. Each batch is one transaction; a record that
        cannot count (bad choice, a model against itself) raises VoteRefused and stops
        the run, with the batches before it kept. Returns how many were stored.
        """
        stored = 0
        chunk: list[BattleRecord] = []
        for record in records:
            if record.choice not in CHOICES:
                raise VoteRefused(f"unknown choice {record.choice!r}")
            if record.model_a == record.model_b:
                raise VoteRefused(f"{record.model_a!r} cannot battle itself")
            chunk.append(record)
            if len(chunk) >= batch:
                stored += await self._write(lambda db, c=chunk: self._bulk(db, c))
                chunk = []
        if chunk:
            stored += await self._write(lambda db: self._bulk(db, chunk))
        return stored

    async def _bulk(self, db: aiosqlite.Connection, records: list[BattleRecord]) -> int:
        keys = [r.source_key for r in records if r.source_key]
        known: set[str] = set()
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            marks = ",".join("?" * len(part))
            async with db.execute(
                f"SELECT source_key FROM battles WHERE source_key IN ({marks})", part
            ) as cursor:
                known |= {row[0] async for row in cursor}
        fresh = [r for r in records if not r.source_key or r.source_key not in known]
        fresh = list({r.source_key or id(r): r for r in fresh}.values())
        if not fresh:
            return 0
        base = {}
        for table in ("questions", "answers", "battles"):
            async with db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}") as cursor:
                base[table] = (await cursor.fetchone())[0]
        questions, answers, battles, votes = [], [], [], []
        counts: dict[tuple[str, str, str], list[int]] = {}
        for n, r in enumerate(fresh, 1):
            q_id, a_id, b_id = (
                base["questions"] + n,
                base["answers"] + 2 * n - 1,
                base["battles"] + n,
            )
            questions.append((q_id, "import", r.channel, r.user, None, "", "[]", r.tstamp))
            answers += [
                (a_id, q_id, r.model_a, "", r.tstamp),
                (a_id + 1, q_id, r.model_b, "", r.tstamp),
            ]
            battles.append((b_id, q_id, a_id, a_id + 1, r.channel, r.tstamp, r.source_key))
            votes.append((b_id, r.user, r.choice, r.tstamp, r.tstamp))
            first, second, column = outcome_column(r.model_a, r.model_b, r.choice)
            cell = counts.setdefault((r.channel, first, second), [0, 0, 0, 0])
            cell[OUTCOME_COLUMNS.index(column)] += 1
        await db.executemany(
            "INSERT INTO questions (id, platform, channel, user, thread, text, passages,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            questions,
        )
        await db.executemany(
            "INSERT INTO answers (id, question_id, model, text, created_at) VALUES (?, ?, ?, ?, ?)",
            answers,
        )
        await db.executemany(
            "INSERT INTO battles (id, question_id, answer_a, answer_b, channel, created_at,"
            " source_key) VALUES (?, ?, ?, ?, ?, ?, ?)",
            battles,
        )
        await db.executemany(
            "INSERT INTO votes (battle_id, user, choice, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            votes,
        )
        await db.executemany(
            "INSERT INTO pair_counts (channel, model_a, model_b, a_wins, b_wins, ties, both_bad)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, model_a, model_b) DO UPDATE SET"
            " a_wins = a_wins + excluded.a_wins, b_wins = b_wins + excluded.b_wins,"
            " ties = ties + excluded.ties, both_bad = both_bad + excluded.both_bad",
            [(*key, *cell) for key, cell in counts.items()],
        )
        return len(fresh)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
