"""The arena's database: every question, answer, battle, vote and thumb is a row.

Two engines, one SQL (``knowledge.sql``): an SQLite file in the data folder (the
default), or PostgreSQL when ``database_url`` names a server that several instances
share. ``Store.open`` takes either a path or a ``postgresql://`` URL; above it nothing
knows which. Queries are written once with ``?`` placeholders and ``"user"`` quoted (a
reserved word on PostgreSQL); where the engines spell something differently the
session's ``dialect`` says how (``arena.migrations`` for the schema).

Concurrency: on SQLite one connection in autocommit mode (WAL, foreign keys on); every
write is an explicit ``BEGIN IMMEDIATE`` transaction taken under one asyncio lock, so
tasks sharing the Store never interleave inside a transaction; short reads take the
same lock, so they never see half of one. Another process writing the same file waits
up to ``BUSY_TIMEOUT_MS``. On PostgreSQL a pool of connections: each transaction and
each read has one of its own. On both, long reads (exports) read one snapshot that
blocks no writer. Votes are group-committed (``arena.votes``): a vote and the pair
counts it moves commit together, and ``record_vote`` returns only after that commit, so
an acknowledged vote is never lost and never counted twice. A driver error (a full
disk, a PostgreSQL restart) is a StoreError, for which callers say "try again"; on
PostgreSQL the next request gets a fresh connection, without reopening the store.

Counting: each user's live vote on a battle is one outcome for the ratings (three users
voting on one battle are three outcomes); a changed mind moves the counts, it does not
add to them. Pair counts are kept per channel with the two models in name order.

The reads the ratings are made from live in ``arena.vote_counts``, the dashboard's in
``arena.insights``, bulk battle writes in ``arena.bulk_import``, the judge's rows in
``arena.grade_records`` and claims on work done once across instances in
``arena.claims``, documents attached in a conversation in ``arena.attachment_records``,
all mixed into ``Store``; the passages' SQL is in
``arena.passage_records``, the pipelines' (each answer's settings, the names
contestants are rated by) in ``arena.pipeline_records``. The store imports nothing of
the judge: the judge sits above it.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from arena.attachment_records import AttachedFile, AttachmentRecords
from arena.bulk_import import BattleRecord, BulkImport
from arena.claims import Claim, Claims, Orphan
from arena.errors import StoreError, VoteRefused
from arena.grade_records import GradeRecords, JudgeSummary
from arena.insights import InsightReads
from arena.migrations import MIGRATIONS, applied, migrate
from arena.passage_records import AnswerRecord, read_answer, save_answer_passages, save_hits
from arena.pipeline_records import identities, latest_settings, save_pipeline
from arena.style import style_features
from arena.types import Answer, Choice, Turn
from arena.vote_counts import PairCount, VoteCounts
from arena.votes import VoteBatcher, VoteResult
from knowledge.errors import DatabaseUnavailable
from knowledge.sql import (
    AsyncDatabase,
    AsyncSession,
    DatabaseUrl,
    Dialect,
    is_database_url,
    open_async,
)
from knowledge.types import Hit

__all__ = [
    "BUSY_TIMEOUT_MS",
    "AnswerRecord",
    "AttachedFile",
    "BattleRecord",
    "Claim",
    "JudgeSummary",
    "Orphan",
    "PairCount",
    "Store",
    "VoteResult",
]

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000  # an SQLite writer's wait for another process's write lock
_PLACES_REMEMBERED = 10_000  # battles whose place is kept (the live ones, voted on now)


def _where(target: Path | str | DatabaseUrl) -> str:
    """The database as messages name it: the file, or the URL without its password."""
    return str(DatabaseUrl(str(target))) if is_database_url(target) else str(target)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


async def _check_current(database: AsyncDatabase, where: str) -> None:
    """A read-only open cannot migrate: an older schema is named, not half-read."""
    done = set(await applied(database))
    if not done:
        raise StoreError(f"there is no arena in {where} yet (nothing has been asked there)")
    if any(m.name not in done for m in MIGRATIONS):
        raise StoreError(
            f"the arena database at {where} was made by an older Parley; run a command that"
            " writes (parley chat, parley index) once to upgrade it"
        )


class Store(VoteCounts, BulkImport, GradeRecords, InsightReads, Claims, AttachmentRecords):
    """Async access to the arena database. Open with ``await Store.open(path_or_url)``."""

    def __init__(self, database: AsyncDatabase, instance: str = "", where: str = "") -> None:
        self.where = where  # the file, or the server's URL without its password
        self._database = database
        self._dialect = database.dialect
        self._instance = instance
        self._read_only = database.read_only
        self._votes = VoteBatcher(self._transaction)
        self._places: OrderedDict[int, tuple[str, str]] = OrderedDict()

    @classmethod
    async def open(cls, target: Path | str | DatabaseUrl, *, read_only: bool = False) -> Store:
        """Open (creating and migrating) the database: an SQLite file (or ``":memory:"``)
        or a ``postgresql://`` URL. ``read_only`` never writes a byte, so reports work on
        a read-only mount (on PostgreSQL: read-only transactions), and fails on a
        missing file or an older schema. Instances opening one server at once take
        turns at the migrations."""
        where = _where(target)
        if not is_database_url(target):
            if str(target) != ":memory:" and not Path(target).parent.is_dir():
                raise StoreError(f"cannot open the arena database at {where}: no such folder")
            if read_only and not Path(target).is_file():
                raise StoreError(f"there is no arena database at {where}")
        try:
            database = await open_async(
                target, name="parley-arena", read_only=read_only, busy_timeout_ms=BUSY_TIMEOUT_MS
            )
        except DatabaseUnavailable as exc:  # one line: the host and the fix
            raise StoreError(str(exc)) from None
        except Exception as exc:  # sqlite3.Error: not a database, unreadable
            raise StoreError(f"cannot open the arena database at {where}: {exc}") from exc
        try:
            if read_only:
                await _check_current(database, where)
            else:
                await migrate(database)
            async with database.read() as session:
                instance = await session.scalar("SELECT value FROM meta WHERE key = 'instance'")
        except BaseException as exc:
            await database.close()
            if isinstance(exc, database.errors):
                raise StoreError(
                    f"cannot open the arena database at {where}: {_one_line(exc)}"
                ) from exc
            raise
        return cls(database, instance, where)

    @property
    def dialect(self) -> Dialect:
        """The engine's answers (``SQLITE`` or ``POSTGRESQL``), for SQL that must differ."""
        return self._dialect

    async def close(self) -> None:
        try:
            await self._votes.drain()
        finally:
            await self._database.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction; a driver error (the commit's too) is a StoreError."""
        try:
            async with self._database.transaction() as session:
                yield session
        except self._database.errors as exc:
            raise StoreError(f"arena database write failed: {_one_line(exc)}") from exc

    async def _write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self._transaction() as session:
            return await work(session)

    async def _rows(
        self, sql: str, params: Iterable[object] = (), *, writing: bool = False
    ) -> list[tuple[Any, ...]]:
        """One statement on its own, which sees one commit (never half of one): a short
        read, or (``writing``) a lone write committed as it runs, one trip to the
        database where a transaction takes three."""
        try:
            async with self._database.read() as session:
                return await session.fetchall(sql, tuple(params))
        except self._database.errors as exc:
            done = "write" if writing else "read"
            raise StoreError(f"arena database {done} failed: {_one_line(exc)}") from exc

    @asynccontextmanager
    async def _snapshot(self) -> AsyncIterator[AsyncSession]:
        """A long read: one consistent view that blocks no vote."""
        try:
            async with self._database.snapshot() as session:
                yield session
        except self._database.errors as exc:
            raise StoreError(f"arena database read failed: {_one_line(exc)}") from exc

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
        async def insert(s: AsyncSession) -> int:
            question_id = await s.scalar(
                'INSERT INTO questions (platform, channel, "user", thread, text, created_at)'
                " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (platform, channel, user, thread, text, time.time()),
            )
            await save_hits(s, question_id, hits)
            return int(question_id)

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

        async def insert(s: AsyncSession) -> int:
            digest = await save_pipeline(s, answer.model, pipeline) if pipeline else None
            answer_id = await s.scalar(
                "INSERT INTO answers (question_id, model, text, citations, input_tokens,"
                " output_tokens, latency_ms, cost_usd, error, created_at, style_tokens,"
                " style_headers, style_lists, style_bold, pipeline)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
            await save_answer_passages(s, answer_id, answer.shown)
            return int(answer_id)

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

        async def insert(s: AsyncSession) -> int:
            rows = await s.fetchall(
                "SELECT id, model FROM answers WHERE question_id = ? AND id IN (?, ?)",
                (question_id, left_answer_id, right_answer_id),
            )
            models = dict(rows)
            if len(models) != 2 or len(set(models.values())) != 2:
                raise StoreError(
                    f"a battle needs two answers to question {question_id} from two different"
                    f" models; got answers {left_answer_id} and {right_answer_id}"
                )
            battle_id = await s.scalar(
                "INSERT INTO battles (question_id, answer_a, answer_b, channel, created_at,"
                " excluded) SELECT id, ?, ?, channel, ?, ? FROM questions WHERE id = ?"
                " RETURNING id",
                (left_answer_id, right_answer_id, time.time(), excluded, question_id),
            )
            return int(battle_id)

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

        async def thumb(s: AsyncSession) -> None:
            if await s.fetchone("SELECT 1 FROM answers WHERE id = ?", (answer_id,)) is None:
                raise VoteRefused(f"there is no answer {answer_id}")
            await s.execute(
                'INSERT INTO thumbs (answer_id, "user", value, reason, created_at)'
                ' VALUES (?, ?, ?, ?, ?) ON CONFLICT (answer_id, "user") DO UPDATE SET'
                " value = excluded.value, reason = excluded.reason,"
                " created_at = excluded.created_at",
                (answer_id, user, value, reason, time.time()),
            )

        await self._write(thumb)

    # --- reading -----------------------------------------------------------------------

    async def pipeline_identities(self, wanted: Sequence[tuple[str, str]]) -> dict[str, str]:
        """The name each (configured name, settings hash) is rated under; see
        ``arena.pipeline_records``."""
        async with self._snapshot() as s:
            return await identities(s, wanted)

    async def pipeline_settings(self) -> dict[str, dict[str, object]]:
        """Each rated name's pipeline settings (the latest it answered with)."""
        async with self._snapshot() as s:
            return await latest_settings(s)

    async def answer_record(self, answer_id: int) -> AnswerRecord | None:
        """An answer with its question and exactly the passages it was shown."""
        async with self._snapshot() as s:
            return await read_answer(s, answer_id)

    async def battle_place(self, battle_id: int) -> tuple[str, str] | None:
        """(platform, channel) of the question a battle answered, or None for no battle:
        a vote is only taken where the battle was shown. A battle's place never changes,
        so the recent ones are remembered: the votes on a battle cost one read in all."""
        if (known := self._places.get(battle_id)) is not None:
            self._places.move_to_end(battle_id)
            return known
        rows = await self._rows(
            "SELECT q.platform, q.channel FROM battles b JOIN questions q ON q.id = b.question_id"
            " WHERE b.id = ?",
            (battle_id,),
        )
        if not rows:
            return None  # not remembered: a battle may yet be stored under that id
        self._places[battle_id] = place = (rows[0][0], rows[0][1])
        if len(self._places) > _PLACES_REMEMBERED:
            self._places.popitem(last=False)
        return place

    async def votes_stored(self) -> int:
        """Live votes stored (each user's one vote per battle)."""
        return int((await self._rows("SELECT COUNT(*) FROM votes"))[0][0])

    async def thumb_reasons(self, answer_id: int) -> list[tuple[str, int, str | None]]:
        """(user, value, reason) of every thumb on one answer."""
        rows = await self._rows(
            'SELECT "user", value, reason FROM thumbs WHERE answer_id = ? ORDER BY created_at',
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
        async with self._snapshot() as s:
            async for rows in s.stream(
                "SELECT qa.model, qb.model, v.choice, v.updated_at, b.channel, v.user,"
                " b.question_id, b.source_key, b.excluded, b.id FROM votes v"
                " JOIN battles b ON b.id = v.battle_id"
                " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
                " ORDER BY v.updated_at, v.id"
            ):
                for *fields, key, excluded, battle_id in rows:
                    user = fields[5]
                    yield BattleRecord(
                        *fields,
                        source_key=key or self._live_key(battle_id, user),
                        excluded=excluded,
                    )
