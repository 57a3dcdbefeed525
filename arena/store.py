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

The reads the ratings are made from live in ``arena.vote_counts``, the dashboard's in
``arena.insights``, bulk battle writes in ``arena.bulk_import`` and the judge's rows in
``arena.grade_records``, all mixed into ``Store``; the passages' SQL is in
``arena.passage_records``, the pipelines' (each answer's settings, the names
contestants are rated by) in ``arena.pipeline_records``. The store imports nothing of
the judge: the judge sits above it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import aiosqlite

from arena.bulk_import import BattleRecord, BulkImport
from arena.errors import StoreError, VoteRefused
from arena.grade_records import GradeRecords, JudgeSummary
from arena.insights import InsightReads
from arena.migrations import MIGRATIONS, migrate
from arena.passage_records import AnswerRecord, read_answer, save_answer_passages, save_hits
from arena.pipeline_records import identities, latest_settings, save_pipeline
from arena.style import style_features
from arena.types import Answer, Choice, Turn
from arena.vote_counts import PairCount, VoteCounts
from arena.votes import VoteBatcher, VoteResult
from knowledge import read_only_uri
from knowledge.types import Hit

__all__ = [
    "AnswerRecord",
    "BattleRecord",
    "JudgeSummary",
    "PairCount",
    "Store",
    "VoteResult",
]

T = TypeVar("T")


async def _check_current(db: aiosqlite.Connection, path: Path | str) -> None:
    """A read-only open cannot migrate: an older schema is named, not half-read."""
    async with db.execute("SELECT name FROM _parley_migrations") as cursor:
        done = {row[0] async for row in cursor}
    if any(name not in done for name, _ in MIGRATIONS):
        raise StoreError(
            f"the arena database at {path} was made by an older Parley; run a command that"
            " writes (parley chat, parley index) once to upgrade it"
        )


class Store(VoteCounts, BulkImport, GradeRecords, InsightReads):
    """Async access to the arena database. Open with ``await Store.open(path)``."""

    def __init__(
        self, db: aiosqlite.Connection, path: str = ":memory:", instance: str = ""
    ) -> None:
        self._db = db
        self._path = path
        self._instance = instance
        self._read_only = False
        self._lock = asyncio.Lock()
        self._votes = VoteBatcher(self._transaction)

    @classmethod
    async def open(cls, path: Path | str, *, read_only: bool = False) -> Store:
        """Open (creating and migrating) the database; ``read_only`` never writes a byte,
        so reports work on a read-only mount, and fails on a missing file."""
        if str(path) != ":memory:" and not Path(path).parent.is_dir():
            raise StoreError(f"cannot open the arena database at {path}: no such folder")
        if read_only and not Path(path).is_file():
            raise StoreError(f"there is no arena database at {path}")
        target = read_only_uri(path) if read_only else str(path)
        try:
            db = await aiosqlite.connect(target, isolation_level=None, uri=read_only)
        except aiosqlite.Error as exc:
            raise StoreError(f"cannot open the arena database at {path}: {exc}") from exc
        try:
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            if read_only:
                await _check_current(db, path)
            else:
                await db.execute("PRAGMA journal_mode=WAL")
                await db.execute("PRAGMA synchronous=NORMAL")
                await migrate(db)
            async with db.execute("SELECT value FROM meta WHERE key = 'instance'") as cursor:
                (instance,) = await cursor.fetchone()
        except (aiosqlite.Error, StoreError) as exc:
            await db.close()
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot open the arena database at {path}: {exc}") from exc
        store = cls(db, str(path), instance)
        store._read_only = read_only
        return store

    async def close(self) -> None:
        await self._votes.drain()
        await self._db.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                await self._db.commit()  # a failed commit (disk full) is rolled back too
            except BaseException:
                await self._db.rollback()
                raise

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
        if self._read_only:
            db = await aiosqlite.connect(read_only_uri(self._path), uri=True)
        else:
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
        async def insert(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "INSERT INTO questions (platform, channel, user, thread, text, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (platform, channel, user, thread, text, time.time()),
            )
            question_id = int(cursor.lastrowid)
            await save_hits(db, question_id, hits)
            return question_id

        return await self._write(insert)

    async def record_answer(
        self, question_id: int, answer: Answer, pipeline: Mapping[str, object] | None = None
    ) -> int:
        """Store an answer with the passages it was shown and ``pipeline``, the settings
        of the pipeline that gave it (None: not known, as for an import)."""
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

        style = style_features(answer.text).as_tuple()  # once, for style control

        async def insert(db: aiosqlite.Connection) -> int:
            digest = await save_pipeline(db, answer.model, pipeline) if pipeline else None
            cursor = await db.execute(
                "INSERT INTO answers (question_id, model, text, citations, input_tokens,"
                " output_tokens, latency_ms, cost_usd, error, created_at, style_tokens,"
                " style_headers, style_lists, style_bold, pipeline)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    *style,
                    digest,
                ),
            )
            answer_id = int(cursor.lastrowid)
            await save_answer_passages(db, answer_id, answer.shown)
            return answer_id

        return await self._write(insert)

    async def record_battle(
        self,
        question_id: int,
        left_answer_id: int,
        right_answer_id: int,
        *,
        excluded: str | None = None,
    ) -> int:
        """A battle between two stored answers; the left one is shown as "Model A".

        ``excluded`` says why the battle must not count (e.g. an answer names its own
        model, see ``arena.hygiene``): it is stored and can be voted on, but its votes
        stay out of the pair counts read for ratings and matchmaking.
        """

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
                "INSERT INTO battles (question_id, answer_a, answer_b, channel, created_at,"
                " excluded) SELECT ?, ?, ?, channel, ?, ? FROM questions WHERE id = ?",
                (question_id, left_answer_id, right_answer_id, time.time(), excluded, question_id),
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

    async def record_thumb(
        self, answer_id: int, user: str, value: int, reason: str | None = None
    ) -> None:
        """+1 or -1, with an optional reason; a user's later thumb on the same answer
        replaces the earlier one (a thumb up clears an earlier reason)."""
        if value not in (-1, 1):
            raise VoteRefused("a thumb is +1 or -1")

        async def thumb(db: aiosqlite.Connection) -> None:
            async with db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise VoteRefused(f"there is no answer {answer_id}")
            await db.execute(
                "INSERT INTO thumbs (answer_id, user, value, reason, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (answer_id, user) DO UPDATE SET"
                " value = excluded.value, reason = excluded.reason,"
                " created_at = excluded.created_at",
                (answer_id, user, value, reason, time.time()),
            )

        await self._write(thumb)

    # --- reading -----------------------------------------------------------------------

    async def pipeline_identities(self, wanted: Sequence[tuple[str, str]]) -> dict[str, str]:
        """The name each (configured name, settings hash) is rated under; see
        ``arena.pipeline_records``."""
        try:
            async with self._lock:
                return await identities(self._db, wanted)
        except aiosqlite.Error as exc:
            raise StoreError(f"arena database read failed: {exc}") from exc

    async def pipeline_settings(self) -> dict[str, dict[str, object]]:
        """Each rated name's pipeline settings (the latest it answered with)."""
        try:
            async with self._lock:
                return await latest_settings(self._db)
        except aiosqlite.Error as exc:
            raise StoreError(f"arena database read failed: {exc}") from exc

    async def answer_record(self, answer_id: int) -> AnswerRecord | None:
        """An answer with its question and exactly the passages it was shown."""
        try:
            async with self._lock:
                return await read_answer(self._db, answer_id)
        except aiosqlite.Error as exc:
            raise StoreError(f"arena database read failed: {exc}") from exc

    async def battle_place(self, battle_id: int) -> tuple[str, str] | None:
        """(platform, channel) of the question a battle answered, or None for no battle:
        a vote is only taken where the battle was shown."""
        rows = await self._rows(
            "SELECT q.platform, q.channel FROM battles b JOIN questions q ON q.id = b.question_id"
            " WHERE b.id = ?",
            (battle_id,),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    async def thumb_reasons(self, answer_id: int) -> list[tuple[str, int, str | None]]:
        """(user, value, reason) of every thumb on one answer."""
        rows = await self._rows(
            "SELECT user, value, reason FROM thumbs WHERE answer_id = ? ORDER BY created_at",
            (answer_id,),
        )
        return [(user, int(value), reason) for user, value, reason in rows]

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

    def _live_key(self, battle_id: int, user: str) -> str:
        """The stable key of one user's vote on a battle voted here, as exports carry it."""
        return f"parley:{self._instance}:{battle_id}:{user}"

    async def iter_battles(self) -> AsyncIterator[BattleRecord]:
        """Every live vote as a battle record, in the order the votes were last cast; each
        carries its key (an imported battle's own, or this database's id, battle and user).

        Read from a snapshot, so votes cast during a long export neither block on it nor
        appear in it twice.
        """
        try:
            async with (
                self._snapshot() as db,
                db.execute(
                    "SELECT qa.model, qb.model, v.choice, v.updated_at, b.channel, v.user,"
                    " b.question_id, b.source_key, b.excluded, b.id FROM votes v"
                    " JOIN battles b ON b.id = v.battle_id"
                    " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
                    " ORDER BY v.updated_at, v.id"
                ) as cursor,
            ):
                async for *fields, key, excluded, battle_id in cursor:
                    user = fields[5]
                    yield BattleRecord(
                        *fields,
                        source_key=key or self._live_key(battle_id, user),
                        excluded=excluded,
                    )
        except aiosqlite.Error as exc:
            raise StoreError(f"arena database read failed: {exc}") from exc
