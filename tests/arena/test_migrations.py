"""Schema migrations: from an empty file, from every earlier version with data in it."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
import pytest

from arena.errors import StoreError
from arena.migrations import MIGRATIONS, applied, migrate
from arena.store import PairCount, Store

ALL = [name for name, _ in MIGRATIONS]


async def test_empty_database_gets_every_step_and_the_pragmas(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "parley.db")
    await store.close()
    async with aiosqlite.connect(tmp_path / "parley.db") as db:
        assert await applied(db) == ALL
        async with db.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"
        async with db.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
            tables = {row[0] async for row in cursor}
    assert {"questions", "answers", "battles", "votes", "thumbs", "pair_counts"} <= tables


async def test_reopening_runs_nothing_again(tmp_path: Path) -> None:
    await (await Store.open(tmp_path / "parley.db")).close()
    async with aiosqlite.connect(tmp_path / "parley.db", isolation_level=None) as db:
        assert await migrate(db) == []
        assert await applied(db) == ALL


async def test_foreign_keys_are_enforced() -> None:
    store = await Store.open(":memory:")
    try:
        with pytest.raises(StoreError):
            await store.record_battle(999, 1, 2)
    finally:
        await store.close()


async def seed_first_version(db: aiosqlite.Connection) -> None:
    """Rows as Parley wrote them under 001 only: two battles, three votes."""
    statements = [
        "INSERT INTO questions VALUES (1, 'slack', 'general', 'ann', 't1', 'why?', '[]', 10)",
        "INSERT INTO answers (id, question_id, model, text, created_at)"
        " VALUES (1, 1, 'zeta', 'z says', 11), (2, 1, 'alpha', 'a says', 11)",
        "INSERT INTO battles (id, question_id, answer_a, answer_b, channel, created_at)"
        " VALUES (1, 1, 1, 2, 'general', 12)",
        "INSERT INTO votes (battle_id, user, choice, created_at, updated_at)"
        " VALUES (1, 'ann', 'a', 13, 13), (1, 'bob', 'both_bad', 14, 14)",
        "INSERT INTO questions VALUES (2, 'slack', 'random', 'cy', NULL, 'how?', '[]', 20)",
        "INSERT INTO answers (id, question_id, model, text, created_at)"
        " VALUES (3, 2, 'alpha', 'a', 21), (4, 2, 'zeta', 'z', 21)",
        "INSERT INTO battles (id, question_id, answer_a, answer_b, channel, created_at)"
        " VALUES (2, 2, 3, 4, 'random', 22)",
        "INSERT INTO votes (battle_id, user, choice, created_at, updated_at)"
        " VALUES (2, 'cy', 'a', 23, 23)",
        "INSERT INTO thumbs (answer_id, user, value, created_at) VALUES (2, 'ann', 1, 15)",
    ]
    for statement in statements:
        await db.execute(statement)


@pytest.mark.parametrize("done", range(1, len(MIGRATIONS)))
async def test_upgrade_from_an_earlier_version_keeps_every_row(tmp_path: Path, done: int) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:
        assert await migrate(db, MIGRATIONS[:done]) == ALL[:done]
        await seed_first_version(db)
        if done >= 2:  # from 002 on, the live vote path kept these counts
            await db.execute(
                "INSERT INTO pair_counts VALUES ('general', 'alpha', 'zeta', 0, 1, 0, 1),"
                " ('random', 'alpha', 'zeta', 1, 0, 0, 0)"
            )
    store = await Store.open(path)
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
    finally:
        await store.close()
    async with aiosqlite.connect(path) as db:
        assert await applied(db) == ALL


async def test_a_failing_step_is_rolled_back_and_not_recorded() -> None:
    async def broken(db: aiosqlite.Connection) -> None:
        await db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("step failed")

    async with aiosqlite.connect(":memory:", isolation_level=None) as db:
        with pytest.raises(RuntimeError):
            await migrate(db, [*MIGRATIONS, ("999_broken", broken)])
        assert await applied(db) == ALL
        async with db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'") as cur:
            assert await cur.fetchone() is None


async def test_an_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such folder"):
        await Store.open(tmp_path / "missing-folder" / "parley.db")
    (tmp_path / "notes.db").write_bytes(b"not a database, just text " * 100)
    with pytest.raises(StoreError, match="cannot open"):
        await Store.open(tmp_path / "notes.db")
