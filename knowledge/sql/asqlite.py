"""SQLite for asyncio code, behind the same sessions as ``apg.py`` (aiosqlite).

One connection in autocommit mode (WAL, foreign keys on) shared by the tasks of one
process: an asyncio lock makes each transaction whole, a write transaction begins with
``BEGIN IMMEDIATE`` (SQLite's one writer, across processes too, waiting up to the busy
timeout), so a named ``lock()`` inside it has nothing left to do. A ``snapshot()`` of a
file reads on a connection of its own, so a long read (an export) neither waits for the
writers nor holds them up: WAL gives it one commit to read however long it takes.
Opened ``read_only`` (a copy for reporting, a backup mount) nothing is written, beside
the file either (``read_only_uri``).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiosqlite

from ..database import BUSY_TIMEOUT_MS, read_only_uri
from .dialect import SQLITE

__all__ = ["AsyncSqliteDatabase", "AsyncSqliteSession"]

STREAM_ROWS = 10_000  # rows a stream hands over at a time


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

    async def stream(
        self, sql: str, params: Sequence[Any] = (), size: int = STREAM_ROWS
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The rows in lists of up to ``size``, read as they are handed over (a big
        result is never held whole)."""
        async with self.connection.execute(sql, params) as cursor:
            cursor.arraysize = size
            while rows := await cursor.fetchmany():
                yield [tuple(row) for row in rows]

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
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)  # what its driver raises

    def __init__(
        self, connection: aiosqlite.Connection, path: str, read_only: bool, busy_ms: int
    ) -> None:
        self.path = path
        self.read_only = read_only
        self._connection = connection
        self._busy_ms = busy_ms
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls, path: Path | str, *, read_only: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> AsyncSqliteDatabase:
        """Open (creating, unless ``read_only``) the file; sqlite3.Error if it cannot be."""
        read_only = read_only and str(path) != ":memory:"
        connection = await _connect(path, read_only, busy_timeout_ms)
        try:
            if str(path) != ":memory:" and not read_only:
                await connection.execute("PRAGMA journal_mode=WAL")
                await connection.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            await connection.close()
            raise
        return cls(connection, str(path), read_only, busy_timeout_ms)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSqliteSession]:
        """One write transaction: committed when the block ends, rolled back on error
        (a failed commit too, as when the disk is full)."""
        async with self._lock, _begun(self._connection, SQLITE.begin_write):
            yield AsyncSqliteSession(self._connection)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSqliteSession]:
        """The connection for one statement, which sees one commit on its own; taken
        between transactions, never inside one."""
        async with self._lock:
            yield AsyncSqliteSession(self._connection)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSqliteSession]:
        """One read transaction: every statement in the block sees the same commit. A
        file is read on a connection of its own, blocking no writer. ``":memory:"`` has
        only its one connection, read as it is (no transaction: the block may run while
        its caller writes, as an export that is consumed slowly does)."""
        if self.path == ":memory:":
            yield AsyncSqliteSession(self._connection)
            return
        connection = await _connect(self.path, self.read_only, self._busy_ms)
        try:
            async with _begun(connection, "BEGIN"):
                yield AsyncSqliteSession(connection)
        finally:
            await connection.close()

    async def close(self) -> None:
        await self._connection.close()


async def _connect(path: Path | str, read_only: bool, busy_ms: int) -> aiosqlite.Connection:
    target = read_only_uri(path) if read_only else str(path)
    connection = await aiosqlite.connect(target, isolation_level=None, uri=read_only)
    try:
        await connection.execute(f"PRAGMA busy_timeout={busy_ms}")
        await connection.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        await connection.close()
        raise
    return connection


@asynccontextmanager
async def _begun(connection: aiosqlite.Connection, begin: str) -> AsyncIterator[None]:
    """``begin`` ... ``COMMIT``, rolled back on any error. The BEGIN is inside the ``try``:
    a task cancelled while its BEGIN waits for the write lock has that BEGIN still run on
    the connection's thread, and the ROLLBACK queued after it ends the transaction rather
    than leave it holding SQLite's one write lock for good."""
    try:
        await connection.execute(begin)
        yield
        await connection.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):  # nothing to roll back when COMMIT ended it
            await connection.execute("ROLLBACK")
        raise
