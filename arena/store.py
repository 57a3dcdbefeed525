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
from arena.judge.records import (
    AUDIT_CANDIDATES,
    BATTLES_TO_JUDGE,
    INSERT_AUDIT,
    INSERT_GRADE,
    INSERT_PAIR_VERDICT,
    LATEST_AUDIT,
    JudgeSummary,
    grade_row,
    pair_verdict_row,
    summaries,
    summary_query,
    votes_query,
)
from arena.migrations import MIGRATIONS, migrate
from arena.passage_records import AnswerRecord, read_answer, save_answer_passages, save_hits
from arena.ratings import online_elo
from arena.style import StyleRow, style_features
from arena.types import CHOICES, Answer, Choice, Turn
from arena.votes import OUTCOME_COLUMNS, VoteBatcher, VoteResult, outcome_column
from knowledge.types import Hit

if TYPE_CHECKING:
    from arena.judge.grades import Grade
    from arena.judge.pairwise import PairVerdict

__all__ = ["AnswerRecord", "BattleRecord", "JudgeSummary", "PairCount", "Store", "VoteResult"]

T = TypeVar("T")

# a battle's votes with both answers' models (after ``FROM battles b``)
_VOTES_AND_MODELS = (
    "JOIN votes v ON v.battle_id = b.id JOIN answers qa ON qa.id = b.answer_a"
    " JOIN answers qb ON qb.id = b.answer_b"
)
# each counted vote's place among its user's votes that UTC day, by when it was first cast
_DAILY_RANK = (
    "SELECT v.id, v.battle_id, ROW_NUMBER() OVER (PARTITION BY v.user,"
    " CAST(v.created_at / 86400 AS INTEGER) ORDER BY v.created_at, v.id) AS n"
    " FROM votes v JOIN battles b ON b.id = v.battle_id WHERE b.excluded IS NULL"
)
# votes up to an id that sit on excluded battles (CROSS JOIN: from the few excluded
# battles to their votes); it grows when a battle is excluded after its votes were
# replayed into the cached Elo
_EXCLUDED_UP_TO = (
    "SELECT COUNT(*) FROM battles b CROSS JOIN votes v ON v.battle_id = b.id"
    " WHERE b.excluded IS NOT NULL AND v.id <= ?"
)


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
    excluded: str | None = None  # why the battle is left out of the ratings, if it is


def _read_only_uri(path: Path | str) -> str:
    return f"{Path(path).absolute().as_uri()}?mode=ro"


async def _check_current(db: aiosqlite.Connection, path: Path | str) -> None:
    """A read-only open cannot migrate: an older schema is named, not half-read."""
    async with db.execute("SELECT name FROM _parley_migrations") as cursor:
        done = {row[0] async for row in cursor}
    if any(name not in done for name, _ in MIGRATIONS):
        raise StoreError(
            f"the arena database at {path} was made by an older Parley; run a command that"
            " writes (parley chat, parley index) once to upgrade it"
        )


class Store:
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
        target = _read_only_uri(path) if read_only else str(path)
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
            db = await aiosqlite.connect(_read_only_uri(self._path), uri=True)
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

        style = style_features(answer.text).as_tuple()  # once, for style control

        async def insert(db: aiosqlite.Connection) -> int:
            cursor = await db.execute(
                "INSERT INTO answers (question_id, model, text, citations, input_tokens,"
                " output_tokens, latency_ms, cost_usd, error, created_at, style_tokens,"
                " style_headers, style_lists, style_bold)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

    async def pair_counts(
        self, channel: str | None = None, *, daily_cap: int | None = None
    ) -> list[PairCount]:
        """Outcome counts per model pair that count for ratings, for one channel or all.

        The running counts less the votes left out (``left_out_counts``): votes on
        battles marked excluded, and with ``daily_cap`` each user's votes past that many
        in a UTC day (by when each vote was first cast; across channels, so a vote
        counts on every board or on none).
        """
        where, params = ("WHERE channel = ?", (channel,)) if channel is not None else ("", ())
        rows = await self._rows(
            "SELECT model_a, model_b, SUM(a_wins), SUM(b_wins), SUM(ties), SUM(both_bad)"
            f" FROM pair_counts {where} GROUP BY model_a, model_b ORDER BY model_a, model_b",
            params,
        )
        cells = {(a, b): list(rest) for a, b, *rest in rows}
        for _, left in await self.left_out_counts(channel, daily_cap=daily_cap):
            cell = cells[left.model_a, left.model_b]
            for n, value in enumerate((left.a_wins, left.b_wins, left.ties, left.both_bad)):
                cell[n] -= value
        return [PairCount(a, b, *cell) for (a, b), cell in cells.items() if sum(cell)]

    async def left_out_counts(
        self, channel: str | None = None, *, daily_cap: int | None = None
    ) -> list[tuple[str, PairCount]]:
        """Votes kept but left out of the ratings, as (reason, pair counts): a battle's
        ``excluded`` reason, or ``"daily_cap"`` for votes past the cap."""
        if daily_cap is not None and daily_cap < 0:
            raise StoreError(f"the daily vote cap must be 0 or more, not {daily_cap}")
        where, params = ("AND b.channel = ?", [channel]) if channel is not None else ("", [])
        parts = [
            "SELECT b.excluded AS reason, v.choice, qa.model AS ma, qb.model AS mb"
            f" FROM battles b {_VOTES_AND_MODELS} WHERE b.excluded IS NOT NULL {where}"
        ]
        if daily_cap is not None:
            parts.append(
                f"SELECT 'daily_cap', v.choice, qa.model, qb.model FROM ({_DAILY_RANK}) r"
                f" JOIN battles b ON b.id = r.battle_id {_VOTES_AND_MODELS}"
                f" WHERE v.id = r.id AND r.n > ? {where}"
            )
            params = [*params, daily_cap, *params]
        rows = await self._rows(
            "SELECT reason, MIN(ma, mb), MAX(ma, mb),"
            " SUM(choice IN ('a', 'b') AND (choice = 'a') = (ma < mb)),"
            " SUM(choice IN ('a', 'b') AND (choice = 'b') = (ma < mb)),"
            " SUM(choice = 'tie'), SUM(choice = 'both_bad')"
            f" FROM ({' UNION ALL '.join(parts)})"
            " GROUP BY reason, MIN(ma, mb), MAX(ma, mb) ORDER BY 1, 2, 3",
            params,
        )
        return [(reason, PairCount(*rest)) for reason, *rest in rows]

    async def style_rows(
        self, channel: str | None = None, *, daily_cap: int | None = None
    ) -> list[StyleRow]:
        """The votes that count (the same as ``pair_counts``), for style control: those
        whose answers both have style features grouped by models, outcome and features,
        and the rest (imports have no text) as featureless rows taken from the pair
        counts, so a million imported battles cost what their pair counts do."""
        capped, params = self._counted_votes(channel, daily_cap)
        rows = await self._rows(
            "SELECT qa.model, qb.model, v.choice, qa.style_tokens, qa.style_headers,"
            " qa.style_lists, qa.style_bold, qb.style_tokens, qb.style_headers,"
            " qb.style_lists, qb.style_bold, COUNT(*)"
            # from the answers with features (a partial index) to their battles and votes
            " FROM answers qa INDEXED BY answers_styled"
            " CROSS JOIN battles b ON b.question_id = qa.question_id AND b.answer_a = qa.id"
            " JOIN answers qb ON qb.id = b.answer_b JOIN votes v ON v.battle_id = b.id"
            f" WHERE qa.style_tokens IS NOT NULL AND qb.style_tokens IS NOT NULL AND {capped}"
            " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11",
            params,
        )
        styled = [
            StyleRow(a, b, choice, tuple(features[:4]), tuple(features[4:8]), features[8])
            for a, b, choice, *features in rows
        ]
        rest = {
            (c.model_a, c.model_b): [c.a_wins, c.b_wins, c.ties, c.both_bad]
            for c in await self.pair_counts(channel, daily_cap=daily_cap)
        }
        for row in styled:
            first, second, column = outcome_column(row.model_a, row.model_b, row.choice)
            rest[first, second][OUTCOME_COLUMNS.index(column)] -= row.count
        featureless = [
            StyleRow(first, second, choice, None, None, count)
            for (first, second), cells in rest.items()
            for choice, count in zip(CHOICES, cells, strict=True)
            if count
        ]
        return styled + featureless

    def _counted_votes(self, channel: str | None, daily_cap: int | None) -> tuple[str, list]:
        """A WHERE clause (over battles b and votes v) for the votes that count."""
        clause, params = "b.excluded IS NULL", []
        if channel is not None:
            clause, params = clause + " AND b.channel = ?", [channel]
        if daily_cap is not None:
            clause += f" AND v.id NOT IN (SELECT id FROM ({_DAILY_RANK}) WHERE n > ?)"
            params.append(daily_cap)
        return clause, params

    async def elo_ratings(
        self, channel: str | None = None, *, daily_cap: int | None = None
    ) -> dict[str, float]:
        """Online Elo over the votes that count, in the order they were last cast.

        The result is cached in the database with how far it got; a later call replays
        only votes added since, unless something earlier changed (a changed vote, a
        vote imported with an older time, a battle excluded after its votes were
        counted, a daily cap), when it replays them all.
        """
        scope = json.dumps([channel, daily_cap])
        cached = await self._rows("SELECT state FROM elo_cache WHERE scope = ?", (scope,))
        state = json.loads(cached[0][0]) if cached else None
        (last_id, last_time) = (
            await self._rows(
                "SELECT COALESCE((SELECT MAX(id) FROM votes), 0),"
                " COALESCE((SELECT MAX(updated_at) FROM votes), 0)"
            )
        )[0]
        clause, params = self._counted_votes(channel, daily_cap)
        since_id = 0
        ratings: dict[str, float] = {}
        if state and daily_cap is None:
            (changed, older, excluded) = (
                await self._rows(
                    "SELECT (SELECT COUNT(*) FROM votes WHERE updated_at > ? AND +id <= ?),"
                    " (SELECT COUNT(*) FROM votes WHERE id > ? AND +updated_at < ?),"
                    f" ({_EXCLUDED_UP_TO})",
                    (state["time"], state["id"], state["id"], state["time"], state["id"]),
                )
            )[0]
            if not changed and not older and excluded == state["excluded"]:
                since_id, ratings = state["id"], state["ratings"]
        if since_id < last_id:
            ratings = online_elo(
                await self._elo_battles(clause, params, since_id, last_id), start=ratings
            )
        (excluded,) = (await self._rows(_EXCLUDED_UP_TO, (last_id,)))[0]
        state = {"excluded": excluded, "id": last_id, "time": last_time, "ratings": ratings}
        if self._read_only:  # a report on a read-only mount replays, it cannot cache
            return ratings
        await self._write(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO elo_cache (scope, state) VALUES (?, ?)",
                (scope, json.dumps(state)),
            )
        )
        return ratings

    async def _elo_battles(
        self, clause: str, params: list, after_id: int, up_to_id: int
    ) -> list[tuple[str, str, str]]:
        """(model A, model B, choice) of counted votes with ids in (after, up to], in
        the order they were last cast, read in large chunks."""
        try:
            async with self._lock:
                cursor = await self._db.execute(
                    f"SELECT qa.model, qb.model, v.choice FROM battles b {_VOTES_AND_MODELS}"
                    f" WHERE {clause} AND v.id > ? AND v.id <= ? ORDER BY v.updated_at, v.id",
                    (*params, after_id, up_to_id),
                )
                cursor.arraysize = 50_000
                battles = []
                while chunk := await cursor.fetchmany():
                    battles += chunk
                await cursor.close()
                return battles
        except aiosqlite.Error as exc:
            raise StoreError(f"arena database read failed: {exc}") from exc

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

    # --- the judge (SQL in arena.judge.records) --------------------------------------

    async def record_grade(
        self, grade: Grade, answer_id: int | None = None, kind: str = "answer"
    ) -> int:
        """Store a grade with its raw reply, latency and cost; ``kind`` names a canary."""
        row = grade_row(grade, answer_id, kind)
        return await self._write(lambda db: self._insert(db, INSERT_GRADE, row))

    async def record_pair_verdict(self, battle_id: int, judge: str, verdict: PairVerdict) -> int:
        """A judge's both-orders verdict on a battle (``winner`` None: unmeasured)."""
        row = pair_verdict_row(battle_id, judge, verdict)
        return await self._write(lambda db: self._insert(db, INSERT_PAIR_VERDICT, row))

    async def judge_summary(self, judge: str | None = None) -> list[JudgeSummary]:
        """Per model, the judge grades of its answers (canaries left out), by model name."""
        return summaries(await self._rows(*summary_query(judge)))

    async def answers_to_audit(self, judge: str, limit: int, since: float = 0.0) -> list[int]:
        """Ids of answers ``judge`` has not graded, thumbs-down first, then newest."""
        return [row[0] for row in await self._rows(AUDIT_CANDIDATES, (since, judge, limit))]

    async def battles_to_judge(
        self, judge: str, limit: int, since: float = 0.0
    ) -> list[tuple[int, int, int]]:
        """(battle, answer A, answer B) of voted battles ``judge`` has not compared yet."""
        rows = await self._rows(BATTLES_TO_JUDGE, (since, judge, limit))
        return [(b, a, c) for b, a, c in rows]

    async def battle_votes(self, battle_ids: list[int]) -> list[tuple[int, str, str, str, str]]:
        """(battle, model A, model B, choice, user) of every live vote on the battles."""
        if not battle_ids:
            return []
        return [tuple(row) for row in await self._rows(votes_query(battle_ids), battle_ids)]

    async def record_audit(self, judge: str, report: dict) -> int:
        row = (judge, json.dumps(report), time.time())
        return await self._write(lambda db: self._insert(db, INSERT_AUDIT, row))

    async def latest_audit(self) -> dict | None:
        """The last stored audit report, or None before the first audit."""
        rows = await self._rows(LATEST_AUDIT)
        return json.loads(rows[0][0]) if rows else None

    @staticmethod
    async def _insert(db: aiosqlite.Connection, sql: str, row: tuple) -> int:
        cursor = await db.execute(sql, row)
        return int(cursor.lastrowid)

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

    async def _own_live_keys(self, db: aiosqlite.Connection, keys: list[str]) -> set[str]:
        """The keys among ``keys`` that name a vote cast in this very database, so an
        instance's export imported back into it counts nothing twice."""
        prefix = f"parley:{self._instance}:"
        own = set()
        for key in keys:
            if not key.startswith(prefix):
                continue
            battle, _, user = key[len(prefix) :].partition(":")
            if not battle.isdigit():
                continue
            async with db.execute(
                "SELECT 1 FROM votes WHERE battle_id = ? AND user = ?", (int(battle), user)
            ) as cursor:
                if await cursor.fetchone():
                    own.add(key)
        return own

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
        known |= await self._own_live_keys(db, keys)
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
            battles.append(
                (b_id, q_id, a_id, a_id + 1, r.channel, r.tstamp, r.source_key, r.excluded)
            )
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
            " source_key, excluded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
