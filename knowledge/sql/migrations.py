"""Named schema steps that run once, in order, on either engine.

A ``Migration`` has a name (recorded when it has run, never edited once shipped), SQL
for both engines, SQL for one engine only where the two must differ, and an optional
Python step for data. Each runs in its own transaction under a named lock: a second
instance starting at the same moment waits for the first to finish the step, then
sees it recorded and skips it, instead of running it twice or failing half-way.

    MIGRATIONS = [
        Migration("001_votes", sql="CREATE TABLE votes (...)",
                  postgresql="CREATE INDEX votes_user ON votes USING hash (user_id)"),
        Migration("002_backfill", run=fill_counts),   # run(session), async for async dbs
    ]
    await migrate_async(database, MIGRATIONS, table="_parley_migrations")
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .dialect import Dialect
from .text import split_statements

__all__ = ["Migration", "migrate", "migrate_async", "recorded_async"]


@dataclass(frozen=True)
class Migration:
    """One schema step. ``sql`` runs on both engines, then ``sqlite`` or ``postgresql``
    on that engine only, then ``run(session)`` (a coroutine function on async databases)."""

    name: str
    sql: str = ""
    sqlite: str = ""
    postgresql: str = ""
    run: Callable[[Any], Awaitable[None] | None] | None = None

    def statements(self, dialect: Dialect) -> list[str]:
        only = self.postgresql if dialect.is_postgresql else self.sqlite
        return split_statements(self.sql) + split_statements(only)


def _ledger(table: str, dialect: Dialect) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table}"
        f" (name TEXT PRIMARY KEY, applied_at {dialect.float_type} NOT NULL)"
    )


def migrate(database: Any, migrations: Sequence[Migration], *, table: str) -> list[str]:
    """Apply the steps not yet recorded in ``table``, on a sync database (``PgDatabase``);
    returns the names it ran."""
    with database.snapshot() as session:
        names = _recorded(session, table)
    if all(m.name in names for m in migrations):  # the usual case: no lock, no writes
        return []
    ran = []
    for migration in migrations:
        with database.transaction() as session:
            session.lock(f"migrate:{table}")
            session.execute(_ledger(table, session.dialect))
            if session.fetchone(f"SELECT 1 FROM {table} WHERE name = ?", (migration.name,)):
                continue
            for statement in migration.statements(session.dialect):
                session.execute(statement)
            if migration.run is not None:
                migration.run(session)
            session.execute(
                f"INSERT INTO {table} (name, applied_at) VALUES (?, ?)",
                (migration.name, time.time()),
            )
        ran.append(migration.name)
    return ran


async def migrate_async(database: Any, migrations: Sequence[Migration], *, table: str) -> list[str]:
    """``migrate`` for async databases (``AsyncPgDatabase``, ``AsyncSqliteDatabase``)."""
    async with database.snapshot() as session:
        names = await _recorded_async(session, table)
    if all(m.name in names for m in migrations):
        return []
    ran = []
    for migration in migrations:
        async with database.transaction() as session:
            await session.lock(f"migrate:{table}")
            await session.execute(_ledger(table, session.dialect))
            if await session.fetchone(f"SELECT 1 FROM {table} WHERE name = ?", (migration.name,)):
                continue
            for statement in migration.statements(session.dialect):
                await session.execute(statement)
            if migration.run is not None:
                step = migration.run(session)
                if inspect.isawaitable(step):
                    await step
            await session.execute(
                f"INSERT INTO {table} (name, applied_at) VALUES (?, ?)",
                (migration.name, time.time()),
            )
        ran.append(migration.name)
    return ran


async def recorded_async(database: Any, table: str) -> list[str]:
    """The names of the steps recorded in ``table``, in name order; none when the table
    is not there (a database no migration has touched)."""
    async with database.snapshot() as session:
        return sorted(await _recorded_async(session, table))


def _recorded(session: Any, table: str) -> set[str]:
    if not session.fetchall(_table_exists(session.dialect), (table,)):
        return set()
    return {row[0] for row in session.fetchall(f"SELECT name FROM {table}")}


async def _recorded_async(session: Any, table: str) -> set[str]:
    if not await session.fetchall(_table_exists(session.dialect), (table,)):
        return set()
    return {row[0] for row in await session.fetchall(f"SELECT name FROM {table}")}


def _table_exists(dialect: Dialect) -> str:
    if dialect.is_postgresql:
        return "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?"
    return "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
