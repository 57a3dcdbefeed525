"""PostgreSQL for asyncio code (the arena store): a psycopg 3 async connection pool.

The async twin of ``pg.py``, with the same sessions (``?`` SQL, advisory locks, COPY),
the same explicit transactions and the same checks of idle connections; see
``knowledge.sql`` for how the arena opens it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from .dialect import POSTGRESQL, lock_key
from .pg import CONNECT_TIMEOUT, DEFAULT_POOL_SIZE, READ_ONLY, Freshness, connect_args
from .url import DatabaseUrl, unavailable

__all__ = ["AsyncPgDatabase", "AsyncPgSession"]


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

    def __init__(self, url: DatabaseUrl, pool: AsyncConnectionPool, namespace: str) -> None:
        self.url = url
        self.namespace = namespace
        self._pool = pool

    @classmethod
    async def open(
        cls,
        url: DatabaseUrl | str,
        *,
        name: str = "parley",
        size: int = DEFAULT_POOL_SIZE,
        settings: Mapping[str, str] | None = None,
    ) -> AsyncPgDatabase:
        """Connect, or raise DatabaseUnavailable naming the host and the fix.
        ``settings`` are session settings (``SET``) for every connection."""
        url = url if isinstance(url, DatabaseUrl) else DatabaseUrl(url)
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
        return cls(url, pool, namespace or "public")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncPgSession]:
        """One read-write transaction: committed when the block ends, rolled back on error."""
        async with self._pool.connection() as connection, _begun(connection, "BEGIN"):
            yield AsyncPgSession(connection, self.namespace)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncPgSession]:
        """A connection for one statement, which sees one commit on its own."""
        async with self._pool.connection() as connection:
            yield AsyncPgSession(connection, self.namespace)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncPgSession]:
        """One read-only transaction in which every statement sees the same commit."""
        async with self._pool.connection() as connection, _begun(connection, READ_ONLY):
            yield AsyncPgSession(connection, self.namespace)

    async def close(self) -> None:
        await self._pool.close()


@asynccontextmanager
async def _begun(connection: psycopg.AsyncConnection, begin: str) -> AsyncIterator[None]:
    await connection.execute(begin)
    try:
        yield
    except BaseException:
        with suppress(psycopg.Error):
            await connection.execute("ROLLBACK")
        raise
    await connection.execute("COMMIT")
