"""The SQL layer on both engines: placeholders, upserts, RETURNING, COPY, locks,
migrations that wait for each other, and connection failures as one clear line."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest

from knowledge.errors import DatabaseUnavailable
from knowledge.sql import (
    POSTGRESQL,
    SQLITE,
    DatabaseUrl,
    Migration,
    PgDatabase,
    migrate,
    migrate_async,
    open_async,
    split_statements,
    to_pyformat,
)


def test_placeholders_become_pyformat_outside_quotes_and_percent_is_escaped():
    sql = "SELECT '?', \"a?\", x % 2, $$ ? $$ FROM t WHERE a = ? -- b = ?\n AND c LIKE 'x%'"
    assert to_pyformat(sql) == (
        "SELECT '?', \"a?\", x %% 2, $$ ? $$ FROM t WHERE a = %s -- b = ?\n AND c LIKE 'x%%'"
    )
    assert SQLITE.sql("a = ?") == "a = ?" and POSTGRESQL.sql("a = ?") == "a = %s"


def test_scripts_split_at_the_semicolons_that_end_statements():
    script = """
        CREATE TABLE a (x TEXT DEFAULT ';');  -- one; two
        CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
        /* only a comment; */
    """
    assert split_statements(script) == [
        "CREATE TABLE a (x TEXT DEFAULT ';')",
        "-- one; two\n        CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$",
    ]


def test_upserts_are_spelled_once_for_both_engines():
    assert SQLITE.upsert("t", ["k", "a", "b"], ["k"]) == POSTGRESQL.upsert(
        "t", ["k", "a", "b"], ["k"]
    )
    assert SQLITE.upsert("t", ["k", "a"], ["k"], update=["a"]).endswith(
        "ON CONFLICT (k) DO UPDATE SET a = excluded.a"
    )
    assert SQLITE.insert_ignore("t", ["k"], ["k"]).endswith("ON CONFLICT (k) DO NOTHING")


def test_a_url_never_shows_its_password():
    url = DatabaseUrl("postgresql://parley:s3cret@db.example.com:6543/arena")
    assert str(url) == repr(url)[13:-2] == "postgresql://parley:***@db.example.com:6543/arena"
    assert (url.host, url.database) == ("db.example.com:6543", "arena")
    assert DatabaseUrl("postgres://db/x").host == "db:5432"
    with pytest.raises(ValueError, match="must start with postgresql://"):
        DatabaseUrl("mysql://u:s3cret@db/x")


MIGRATIONS = [
    Migration(
        "001_items",
        sql="CREATE TABLE items (name TEXT PRIMARY KEY, n INTEGER NOT NULL, note TEXT)",
        sqlite="CREATE INDEX items_n ON items (n)",
        postgresql="CREATE INDEX items_n ON items USING brin (n)",
    ),
]


async def _exercise(database) -> dict:
    """The same code on either engine: migrate, upsert, RETURNING, COPY, lock, rollback."""
    first = await migrate_async(database, MIGRATIONS, table="test_migrations")
    again = await migrate_async(database, MIGRATIONS, table="test_migrations")
    d = database.dialect
    async with database.transaction() as s:
        await s.lock("items")
        row = await s.fetchone(
            "INSERT INTO items (name, n) VALUES (?, ?) RETURNING n + 1", ("a", 1)
        )
        await s.execute(d.upsert("items", ["name", "n"], ["name"]), ("a", 5))
        await s.execute(d.insert_ignore("items", ["name", "n"], ["name"]), ("a", 9))
        copied = await s.copy_rows(
            "items", ["name", "n", "note"], [("b", 2, "50%"), ("c", 3, None)]
        )
        await s.execute(f"CREATE TABLE numbered (id {d.id_column}, x {d.float_type})")
        await s.executemany("INSERT INTO numbered (x) VALUES (?)", [(0.5,), (1.25,)])
        numbered = await s.fetchone("INSERT INTO numbered (x) VALUES (?) RETURNING id, x", (2.0,))
    with pytest.raises(ZeroDivisionError):
        async with database.transaction() as s:
            await s.execute("DELETE FROM items")
            raise ZeroDivisionError  # nothing in the block may stay
    async with database.snapshot() as s:
        rows = await s.fetchall(
            f"SELECT name, {d.greatest}(n, 4), note FROM items WHERE note LIKE '%' OR n > ?"
            " ORDER BY name",
            (0,),
        )
    async with database.read() as s:
        count = await s.scalar("SELECT count(*) FROM items")
    await database.close()
    return {
        "ran": (first, again),
        "returned": row,
        "copied": copied,
        "numbered": numbered,
        "rows": rows,
        "count": count,
    }


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_the_same_code_runs_on_both_engines(engine, request, tmp_path):
    target = request.getfixturevalue("pg_url") if engine == "postgresql" else tmp_path / "a.db"
    result = asyncio.run(_run(target))
    assert result == {
        "ran": (["001_items"], []),
        "returned": (2,),
        "copied": 2,
        "numbered": (3, 2.0),
        "rows": [("a", 5, None), ("b", 4, "50%"), ("c", 4, None)],
        "count": 3,
    }


async def _run(target):
    return await _exercise(await open_async(target))


def test_an_engine_only_step_runs_on_its_engine_alone(pg_url):
    database = PgDatabase.open(pg_url)
    migrate(database, MIGRATIONS, table="test_migrations")
    with database.snapshot() as s:
        method = s.scalar("SELECT amname FROM pg_class c JOIN pg_am a ON a.oid = c.relam"
                          " WHERE relname = 'items_n'")  # fmt: skip
    database.close()
    assert method == "brin"


def test_instances_migrating_at_once_wait_and_each_step_runs_once(pg_url):
    """Two instances start together: the second waits for the first's step (here a slow
    one), then finds it recorded; nothing runs twice or fails half-way."""
    calls: list[str] = []

    def slow_step(session) -> None:
        calls.append("ran")
        session.execute("SELECT pg_sleep(0.5)")

    steps = [
        Migration("001_slow", sql="CREATE TABLE t (x INTEGER)", run=slow_step),
        Migration("002_more", sql="ALTER TABLE t ADD COLUMN y INTEGER"),
    ]
    databases = [PgDatabase.open(pg_url) for _ in range(2)]
    results: list = [None, None]

    def start(n: int) -> None:
        try:
            results[n] = migrate(databases[n], steps, table="m")
        except Exception as exc:  # a collision would land here
            results[n] = exc

    threads = [threading.Thread(target=start, args=(n,)) for n in range(2)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == ["ran"]
    # between them they ran each step once (which ran which is up to the scheduler)
    assert sorted(results[0] + results[1]) == ["001_slow", "002_more"]
    assert time.monotonic() - started >= 0.5
    with databases[0].snapshot() as s:
        assert s.fetchall("SELECT name FROM m ORDER BY name") == [("001_slow",), ("002_more",)]
    for database in databases:
        database.close()


def test_a_named_lock_makes_the_second_transaction_wait(pg_url):
    database = PgDatabase.open(pg_url)
    order: list[str] = []

    def second() -> None:
        with database.transaction() as s:
            s.lock("counter")
            order.append("second")

    with database.transaction() as s:
        s.lock("counter")
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.3)
        order.append("first")
    waiting.join()
    database.close()
    assert order == ["first", "second"]


def test_an_unreachable_server_is_one_line_naming_host_and_fix(postgres):
    closed = DatabaseUrl(f"postgresql://parley:s3cret@127.0.0.1:{_closed_port()}/parley")
    with pytest.raises(DatabaseUnavailable) as refused:
        PgDatabase.open(closed)
    message = str(refused.value)
    assert message.startswith(f"cannot connect to PostgreSQL at {closed.host} (Connection refused)")
    assert "PARLEY_DATABASE_URL" in message and "\n" not in message and "s3cret" not in message


def test_a_missing_database_or_user_says_what_to_change(postgres):
    with pytest.raises(DatabaseUnavailable, match=r"createdb nosuchdb"):
        PgDatabase.open(f"postgresql://postgres@127.0.0.1:{postgres.port}/nosuchdb")
    with pytest.raises(DatabaseUnavailable, match="check the user name and password"):
        PgDatabase.open(f"postgresql://nobody:pw@127.0.0.1:{postgres.port}/postgres")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when this returns


def test_after_a_server_restart_searches_recover_without_reopening(postgres, make_passage):
    """Connections the restart closed are replaced: at most a request in flight fails."""
    from knowledge.errors import IndexStoreError
    from knowledge.pg_lexical import PgLexicalIndex
    from knowledge.sql.pg import CHECK_AFTER_IDLE

    with postgres.schema() as url:
        index = PgLexicalIndex.open(url)
        index.upsert([make_passage("Visitors park on level minus two.", id="park")])
        assert index.search("park", 1)[0][0] == "park"
        postgres.restart()
        try:
            index.search("park", 1)  # lent before it was found dead: may fail, once
        except IndexStoreError as exc:
            assert "lexical search failed" in str(exc)
        time.sleep(CHECK_AFTER_IDLE + 0.1)  # idle connections are pinged before use
        assert [index.search("park", 1)[0][0] for _ in range(3)] == ["park"] * 3
        index.close()


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_no_transaction_open(
    tmp_path,
):
    """A task cancelled while its BEGIN waits for another process's write lock: the
    BEGIN still runs on the connection's thread once the lock frees. Left open, that
    transaction would hold SQLite's one write lock for good, so every later write of the
    process ("within a transaction") and of every other process ("locked") would fail."""
    path = tmp_path / "shared.db"
    database = await open_async(path, busy_timeout_ms=5_000)
    other = sqlite3.connect(path, isolation_level=None, timeout=2)
    try:
        async with database.transaction() as session:
            await session.execute("CREATE TABLE t (x INTEGER)")
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock

        async def write(x: int) -> None:
            async with database.transaction() as session:
                await session.execute("INSERT INTO t VALUES (?)", (x,))

        waiting = asyncio.create_task(write(1))
        await asyncio.sleep(0.3)  # its BEGIN IMMEDIATE waits on the connection's thread
        waiting.cancel()
        await asyncio.sleep(0.1)
        other.execute("ROLLBACK")  # the cancelled task's BEGIN now gets the lock
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await write(2)
        other.execute("INSERT INTO t VALUES (3)")  # autocommit: needs the write lock free
        async with database.read() as session:
            assert await session.fetchall("SELECT x FROM t ORDER BY x") == [(2,), (3,)]
    finally:
        other.close()
        await database.close()
