"""SQLite for asyncio code, behind the same sessions as ``apg.py`` (aiosqlite).

One connection in autocommit mode (WAL, foreign keys on) shared by the tasks of one
process: an asyncio lock makes each transaction whole, a write transaction begins with
``BEGIN IMMEDIATE`` (SQLite's one writer, across processes too, waiting up to
``BUSY_TIMEOUT_MS``), so a named ``lock()`` inside it has nothing left to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from ..database import BUSY_TIMEOUT_MS
from .dialect import SQLITE

__all__ = ["AsyncSqliteDatabase", "AsyncSqliteSession"]


class AsyncSqliteSession:
    """The connection for the length of a block; SQL as written (``?`` is native)."""

    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Cursor:
        return await self.connection.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.connection.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self.connection.execute(sql, params) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        async with self.connection.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return None if row is None else tuple(row)

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def copy_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        """Bulk insert (SQLite has no COPY: one prepared INSERT, many rows)."""
        batch = list(rows)
        marks = ", ".join("?" for _ in columns)
        await self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch
        )
        return len(batch)

    async def lock(self, name: str) -> None:
        """Nothing to do: a write transaction already holds SQLite's only write lock."""


class AsyncSqliteDatabase:
    """One SQLite file (or ``":memory:"``) for the tasks of one process."""

    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self.path = path
        self._connection = connection
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> AsyncSqliteDatabase:
        connection = await aiosqlite.connect(str(path), isolation_level=None)
        await connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA foreign_keys=ON")
        if str(path) != ":memory:":
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=NORMAL")
        return cls(connection, str(path))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSqliteSession]:
        """One write transaction: committed when the block ends, rolled back on error."""
        async with self._begun(SQLITE.begin_write) as session:
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSqliteSession]:
        """The connection for one statement (the same as ``snapshot`` here)."""
        async with self.snapshot() as session:
            yield session

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSqliteSession]:
        """One read transaction: every statement in the block sees the same commit."""
        async with self._begun("BEGIN") as session:
            yield session

    @asynccontextmanager
    async def _begun(self, begin: str) -> AsyncIterator[AsyncSqliteSession]:
        async with self._lock:
            await self._connection.execute(begin)
            try:
                yield AsyncSqliteSession(self._connection)
            except BaseException:
                await self._connection.execute("ROLLBACK")
                raise
            await self._connection.execute("COMMIT")

    async def close(self) -> None:
        await self._connection.close()
