"""One SQL layer, two engines: SQLite (the default) and PostgreSQL (a shared server).

Parley's SQL stays hand-written, with SQLite's ``?`` placeholders, ``ON CONFLICT``
upserts and ``RETURNING``. What differs between the engines is answered by a
``Dialect`` (``dialect.py``); connections come as *databases* that lend *sessions*:

    database                    engine      for
    PgDatabase (pg.py)          PostgreSQL  threads (the knowledge base): psycopg pool
    AsyncPgDatabase (apg.py)    PostgreSQL  asyncio (the arena): psycopg async pool
    AsyncSqliteDatabase         SQLite      asyncio: one aiosqlite connection
      (asqlite.py)

(``AsyncDatabase`` and ``AsyncSession`` in ``session.py`` name what the async ones share.)

Every database has ``transaction()`` (read-write; committed at the end of the block,
rolled back on error, a failed commit too), ``snapshot()`` (read-only; the whole block
sees one commit; on an SQLite file, on a connection of its own that blocks no writer),
``read()`` (one statement, no transaction: the fewest round trips), ``close()``, and
``errors``, the driver's exception classes for a boundary to catch; async ones use
``async with`` and ``await``. PostgreSQL databases open with
``open(url, name=..., size=..., settings={...})`` (session settings for each
connection) and ping a pooled connection before lending it only after it idled.

A session has ``dialect``, ``execute(sql, params)`` (returns the driver's cursor),
``executemany``, ``fetchall``, ``fetchone``, ``scalar``, on async sessions ``stream(sql,
params)`` (lists of rows as they are fetched: a server-side cursor on PostgreSQL, so
inside ``snapshot()`` or ``transaction()``), ``copy_rows(table, columns, rows)`` (COPY
on PostgreSQL) and ``lock(name)``: a lock held to the end of the
transaction (an advisory lock on PostgreSQL; nothing on SQLite, whose write transaction
is already exclusive). Lock keys are scoped by the schema, so two Parleys sharing a
database never block each other.

    database = await open_async(settings_url or data_dir / "parley.db")
    await migrate_async(database, MIGRATIONS, table="_parley_migrations")
    async with database.transaction() as s:
        row = await s.fetchone("INSERT INTO t (a) VALUES (?) RETURNING id", (1,))

Named migrations (``migrations.py``) run once each, in order, on either engine, with
engine-only SQL where it must differ, and wait for one another across instances.
Connection failures become ``DatabaseUnavailable`` (one line: host, reason, fix; never
the password). Driver errors otherwise pass through (``sqlite3.Error``,
``psycopg.Error``) for the caller to turn into its own at its boundary.

The names load lazily: importing this package imports neither psycopg nor aiosqlite.
"""

from __future__ import annotations

import typing
from pathlib import Path

from .. import lazy
from .dialect import POSTGRESQL, SQLITE, Dialect, lock_key
from .migrations import Migration, migrate, migrate_async, recorded_async
from .session import AsyncDatabase, AsyncSession
from .text import split_statements, to_pyformat
from .url import SCHEMES, DatabaseUrl

if typing.TYPE_CHECKING:
    from .apg import AsyncPgDatabase, AsyncPgSession
    from .asqlite import AsyncSqliteDatabase, AsyncSqliteSession
    from .pg import PgDatabase, PgSession

__all__ = [
    "POSTGRESQL",
    "SCHEMES",
    "SQLITE",
    "AsyncDatabase",
    "AsyncPgDatabase",
    "AsyncPgSession",
    "AsyncSession",
    "AsyncSqliteDatabase",
    "AsyncSqliteSession",
    "DatabaseUrl",
    "Dialect",
    "Migration",
    "PgDatabase",
    "PgSession",
    "is_database_url",
    "lock_key",
    "migrate",
    "migrate_async",
    "open_async",
    "recorded_async",
    "split_statements",
    "to_pyformat",
]

_LAZY = {
    "AsyncPgDatabase": "apg",
    "AsyncPgSession": "apg",
    "AsyncSqliteDatabase": "asqlite",
    "AsyncSqliteSession": "asqlite",
    "PgDatabase": "pg",
    "PgSession": "pg",
}


def is_database_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL server rather than an SQLite file."""
    return isinstance(target, DatabaseUrl) or str(target).split("://", 1)[0] in SCHEMES


async def open_async(
    target: DatabaseUrl | str | Path,
    *,
    name: str = "parley",
    read_only: bool = False,
    busy_timeout_ms: int | None = None,
) -> AsyncPgDatabase | AsyncSqliteDatabase:
    """An async database: a PostgreSQL pool for a ``postgresql://`` URL, else the SQLite
    file at ``target`` (or ``":memory:"``). ``name`` labels PostgreSQL connections;
    ``read_only`` writes nothing (read-only transactions on PostgreSQL; on SQLite a file
    read as ``read_only_uri`` says); ``busy_timeout_ms`` is how long an SQLite writer
    waits for another process's write lock (``BUSY_TIMEOUT_MS`` unless given)."""
    if is_database_url(target):
        from .apg import AsyncPgDatabase

        url = target if isinstance(target, DatabaseUrl) else DatabaseUrl(str(target))
        return await AsyncPgDatabase.open(url, name=name, read_only=read_only)
    from ..database import BUSY_TIMEOUT_MS
    from .asqlite import AsyncSqliteDatabase

    return await AsyncSqliteDatabase.open(
        target, read_only=read_only, busy_timeout_ms=busy_timeout_ms or BUSY_TIMEOUT_MS
    )


__getattr__, __dir__ = lazy.lazy_names(__name__, _LAZY)
