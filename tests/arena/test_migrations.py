"""Schema migrations: from an empty database, from every earlier version with data in it,
on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from arena.errors import StoreError
from arena.migrations import MIGRATIONS, applied, migrate
from arena.store import PairCount, Store
from knowledge.sql import Migration, open_async

ALL = [m.name for m in MIGRATIONS]

pytestmark = pytest.mark.both_engines


async def test_empty_database_gets_every_step_and_the_pragmas(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "parley.db")
    await store.close()
    database = await open_async(tmp_path / "parley.db")
    try:
        assert await applied(database) == ALL
    finally:
        await database.close()
    async with aiosqlite.connect(tmp_path / "parley.db") as db:
        async with db.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"
        async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
            tables = {row[0] async for row in cursor}
    assert {"questions", "answers", "battles", "votes", "thumbs", "pair_counts"} <= tables


async def test_reopening_runs_nothing_again(durable_target: str) -> None:
    await (await Store.open(durable_target)).close()
    database = await open_async(durable_target)
    try:
        assert await migrate(database) == []
        assert await applied(database) == ALL
    finally:
        await database.close()


async def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.record_battle(999, 1, 2)


FIRST_VERSION_ROWS = [
    "INSERT INTO questions VALUES (1, 'slack', 'general', 'ann', 't1', 'why?', '[]', 10)",
    "INSERT INTO answers (id, question_id, model, text, created_at)"
    " VALUES (1, 1, 'zeta', 'z says', 11), (2, 1, 'alpha', 'a says', 11)",
    "INSERT INTO battles (id, question_id, answer_a, answer_b, channel, created_at)"
    " VALUES (1, 1, 1, 2, 'general', 12)",
    'INSERT INTO votes (battle_id, "user", choice, created_at, updated_at)'
    " VALUES (1, 'ann', 'a', 13, 13), (1, 'bob', 'both_bad', 14, 14)",
    "INSERT INTO questions VALUES (2, 'slack', 'random', 'cy', NULL, 'how?', '[]', 20)",
    "INSERT INTO answers (id, question_id, model, text, created_at)"
    " VALUES (3, 2, 'alpha', 'a', 21), (4, 2, 'zeta', 'z', 21)",
    "INSERT INTO battles (id, question_id, answer_a, answer_b, channel, created_at)"
    " VALUES (2, 2, 3, 4, 'random', 22)",
    'INSERT INTO votes (battle_id, "user", choice, created_at, updated_at)'
    " VALUES (2, 'cy', 'a', 23, 23)",
    "INSERT INTO thumbs (answer_id, \"user\", value, created_at) VALUES (2, 'ann', 1, 15)",
]


@pytest.mark.parametrize("done", range(1, len(MIGRATIONS)))
async def test_upgrade_from_an_earlier_version_keeps_every_row(
    durable_target: str, done: int
) -> None:
    """Rows as Parley wrote them under 001 only (two battles, three votes), then every
    step up to ``done``, then the rest on open."""
    database = await open_async(durable_target)
    try:
        assert await migrate(database, MIGRATIONS[:done]) == ALL[:done]
        async with database.transaction() as s:
            for statement in FIRST_VERSION_ROWS:
                await s.execute(statement)
            if done >= 2:  # from 002 on, the live vote path kept these counts
                await s.execute(
                    "INSERT INTO pair_counts VALUES ('general', 'alpha', 'zeta', 0, 1, 0, 1),"
                    " ('random', 'alpha', 'zeta', 1, 0, 0, 0)"
                )
    finally:
        await database.close()
    store = await Store.open(durable_target)
    try:
        # zeta was A and won in general; alpha was A and won in random; one both-bad
        assert await store.pair_counts() == [PairCount("alpha", "zeta", 1, 1, 0, 1)]
        assert await store.pair_counts("general") == [PairCount("alpha", "zeta", 0, 1, 0, 1)]
        assert await store.thumb_counts() == {"alpha": (1, 0)}
        history = await store.thread_history("slack", "general", "t1")
        assert [turn.text for turn in history] == ["why?", "z says"]
        # the upgraded database takes live votes and moves the same counts
        result = await store.record_vote(1, "ann", "b")
        assert result.replaced and (result.model_a, result.model_b) == ("zeta", "alpha")
        assert await store.pair_counts("general") == [PairCount("alpha", "zeta", 1, 0, 0, 1)]
        assert await applied(store._database) == ALL
    finally:
        await store.close()


async def test_a_failing_step_is_rolled_back_and_not_recorded(store_target: str) -> None:
    async def broken(session) -> None:
        raise RuntimeError("step failed")

    database = await open_async(store_target)
    try:
        with pytest.raises(RuntimeError):
            await migrate(
                database,
                [
                    *MIGRATIONS,
                    Migration("999_broken", sql="CREATE TABLE half_done (x TEXT)", run=broken),
                ],
            )
        assert await applied(database) == ALL
        async with database.read() as s:
            with pytest.raises(database.errors):
                await s.execute("SELECT * FROM half_done")
    finally:
        await database.close()


async def test_an_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such folder"):
        await Store.open(tmp_path / "missing-folder" / "parley.db")
    (tmp_path / "notes.db").write_bytes(b"not a database, just text " * 100)
    with pytest.raises(StoreError, match="cannot open"):
        await Store.open(tmp_path / "notes.db")
