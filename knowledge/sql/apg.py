"""PostgreSQL for asyncio code (the arena store): a psycopg 3 async connection pool.

The async twin of ``pg.py``, with the same sessions (``?`` SQL, advisory locks, COPY),
the same explicit transactions and the same checks of idle connections; see
``knowledge.sql`` for how the arena opens it.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from .dialect import POSTGRESQL, lock_key
from .pg import CONNECT_TIMEOUT, DEFAULT_POOL_SIZE, READ_ONLY, Freshness, connect_args
from .url import DatabaseUrl, unavailable

__all__ = ["AsyncPgDatabase", "AsyncPgSession"]

STREAM_ROWS = 10_000  # rows a stream fetches from the server at a time
_cursor_names = itertools.count()


class AsyncPgSession:
    """One connection for the length of a block, speaking Parley's ``?`` SQL."""

    dialect = POSTGRESQL

    def __init__(self, connection: psycopg.AsyncConnection, namespace: str) -> None:
        self.connection = connection
        self._namespace = namespace

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.AsyncCursor:
        return await self.connection.execute(POSTGRESQL.sql(sql), params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.connection.cursor() as cursor:
            await cursor.executemany(POSTGRESQL.sql(sql), rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await (await self.execute(sql, params)).fetchall()

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return await (await self.execute(sql, params)).fetchone()

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def stream(
        self, sql: str, params: Sequence[Any] = (), size: int = STREAM_ROWS
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The rows in lists of up to ``size``, fetched as they are wanted through a
        server-side cursor (inside a transaction: ``snapshot()`` or ``transaction()``),
        so a big result is never held whole."""
        name = f"parley_stream_{next(_cursor_names)}"
        async with self.connection.cursor(name=name) as cursor:
            await cursor.execute(POSTGRESQL.sql(sql), params)
            while rows := await cursor.fetchmany(size):
                yield rows

    async def copy_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        """Bulk insert with ``COPY ... FROM STDIN``; returns the rows written."""
        count = 0
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        async with self.connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                await copy.write_row(row)
                count += 1
        return count

    async def lock(self, name: str) -> None:
        """Wait for the named lock, held until this transaction ends."""
        await self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name, self._namespace),))


class AsyncPgDatabase:
    """An async pool of connections to one PostgreSQL database (and schema)."""

    dialect = POSTGRESQL
    errors: tuple[type[Exception], ...] = (psycopg.Error,)  # what its driver raises

    def __init__(
        self, url: DatabaseUrl, pool: AsyncConnectionPool, namespace: str, read_only: bool
    ) -> None:
        self.url = url
        self.namespace = namespace
        self.read_only = read_only
        self._pool = pool

    @classmethod
    async def open(
        cls,
        url: DatabaseUrl | str,
        *,
        name: str = "parley",
        size: int = DEFAULT_POOL_SIZE,
        settings: Mapping[str, str] | None = None,
        read_only: bool = False,
    ) -> AsyncPgDatabase:
        """Connect, or raise DatabaseUnavailable naming the host and the fix.
        ``settings`` are session settings (``SET``) for every connection; ``read_only``
        makes every transaction read-only (the server refuses any write)."""
        url = url if isinstance(url, DatabaseUrl) else DatabaseUrl(url)
        if read_only:
            settings = {**(settings or {}), "default_transaction_read_only": "on"}
        try:
            async with await psycopg.AsyncConnection.connect(
                url.url, **connect_args(name)
            ) as probe:
                namespace = (await (await probe.execute("SELECT current_schema()")).fetchone())[0]
        except psycopg.Error as exc:
            raise unavailable(url, exc) from None
        freshness = Freshness(settings)

        async def configure(connection: psycopg.AsyncConnection) -> None:
            for key, value in (settings or {}).items():
                await connection.execute("SELECT set_config(%s, %s, false)", (key, value))

        async def check(connection: psycopg.AsyncConnection) -> None:
            if freshness.idle(connection):
                await AsyncConnectionPool.check_connection(connection)

        async def returned(connection: psycopg.AsyncConnection) -> None:
            freshness.returned(connection)

        pool = AsyncConnectionPool(
            url.url,
            min_size=1,
            max_size=size,
            kwargs=connect_args(name),
            configure=configure,
            check=check,
            reset=returned,
            name=name,
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except PoolTimeout as exc:
            await pool.close()
            raise unavailable(url, exc) from None
        return cls(url, pool, namespace or "public", read_only)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncPgSession]:
        """One read-write transaction: committed when the block ends, rolled back on error."""
        async with self._lent("BEGIN") as connection:
            yield AsyncPgSession(connection, self.namespace)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncPgSession]:
        """A connection for one statement, which sees one commit on its own."""
        async with self._lent(None) as connection:
            yield AsyncPgSession(connection, self.namespace)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncPgSession]:
        """One read-only transaction in which every statement sees the same commit."""
        async with self._lent(READ_ONLY) as connection:
            yield AsyncPgSession(connection, self.namespace)

    @asynccontextmanager
    async def _lent(self, begin: str | None) -> AsyncIterator[psycopg.AsyncConnection]:
        """A pooled connection for one block, in a transaction begun with ``begin`` (None:
        none). After a server restart the pool still holds connections the server
        closed: the first found dead has every idle one checked (``pool.check``), and a
        transaction that failed to begin, having done nothing, begins again on a fresh
        connection. So a restart costs the requests in flight, not the ones after it."""
        connection = await self._pool.getconn()
        try:
            if begin is not None:
                try:
                    await connection.execute(begin)
                except psycopg.OperationalError:
                    if not connection.broken:
                        raise
                    await self._pool.putconn(connection)  # discarded, being broken
                    connection = None
                    await self._pool.check()
                    connection = await self._pool.getconn()
                    await connection.execute(begin)
            async with _ended(connection, begin is not None):
                yield connection
        except psycopg.OperationalError:
            if connection is not None and connection.broken:
                await self._pool.check()
            raise
        finally:
            if connection is not None:
                await self._pool.putconn(connection)

    async def close(self) -> None:
        await self._pool.close()


@asynccontextmanager
async def _ended(connection: psycopg.AsyncConnection, begun: bool) -> AsyncIterator[None]:
    """Commit a begun transaction when the block ends; roll it back on error."""
    if not begun:
        yield
        return
    try:
        yield
        await connection.execute("COMMIT")
    except BaseException:
        with suppress(psycopg.Error):  # a broken connection has nothing left to undo
            await connection.execute("ROLLBACK")
        raise
