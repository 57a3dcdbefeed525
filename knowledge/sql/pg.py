"""PostgreSQL for code that runs in threads (the knowledge base): a psycopg 3 pool.

Connections are in autocommit mode and every transaction is begun and ended here,
explicitly, as ``knowledge/database.py`` does for SQLite: ``transaction()`` for writes
(READ COMMITTED, committed when the block ends, rolled back on error), ``snapshot()``
for reads of several statements (REPEATABLE READ READ ONLY: all see the same commit),
and ``read()`` for a read of one statement, which needs no transaction. Each costs its
round trips, and a search makes several, so none is spent without need: a connection
is checked before it is lent only after lying idle (``CHECK_AFTER_IDLE``), which after
a server restart replaces the dead ones before use; only the requests in flight fail.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .dialect import POSTGRESQL, lock_key
from .url import DatabaseUrl, unavailable

__all__ = [
    "CHECK_AFTER_IDLE",
    "CONNECT_TIMEOUT",
    "DEFAULT_POOL_SIZE",
    "READ_ONLY",
    "Freshness",
    "PgDatabase",
    "PgSession",
    "connect_args",
]

CONNECT_TIMEOUT = 10  # seconds to reach the server before a start-up gives up
DEFAULT_POOL_SIZE = 8  # connections: searches in worker threads, and one re-index
READ_ONLY = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"  # one snapshot for a block
CHECK_AFTER_IDLE = 2.0  # seconds a pooled connection may idle and still be lent unchecked


def connect_args(name: str) -> dict[str, Any]:
    """What every Parley connection is opened with; ``name`` shows in pg_stat_activity."""
    return {"autocommit": True, "application_name": name, "connect_timeout": CONNECT_TIMEOUT}


class Freshness:
    """The pool's check: a connection that has idled is pinged before it is lent (a
    restarted server has closed it); one just returned is lent as it is."""

    def __init__(self, settings: Mapping[str, str] | None = None) -> None:
        self._returned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._settings = dict(settings or {})

    def configure(self, connection: Any) -> None:
        """Session settings, once for each new connection."""
        for name, value in self._settings.items():
            connection.execute("SELECT set_config(%s, %s, false)", (name, value))

    def returned(self, connection: Any) -> None:
        self._returned[connection] = time.monotonic()

    def idle(self, connection: Any) -> bool:
        return time.monotonic() - self._returned.get(connection, 0.0) > CHECK_AFTER_IDLE


class PgSession:
    """One connection for the length of a block, speaking Parley's ``?`` SQL."""

    dialect = POSTGRESQL

    def __init__(self, connection: psycopg.Connection, namespace: str) -> None:
        self.connection = connection
        self._namespace = namespace

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        return self.connection.execute(POSTGRESQL.sql(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(POSTGRESQL.sql(sql), rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        return self.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk insert with ``COPY ... FROM STDIN``; returns the rows written."""
        count = 0
        with (
            self.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def lock(self, name: str) -> None:
        """Wait for the named lock, held until this transaction ends (other instances
        asking for it wait here too: how migrations and writers take turns)."""
        self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name, self._namespace),))


class PgDatabase:
    """A pool of connections to one PostgreSQL database (and schema)."""

    def __init__(self, url: DatabaseUrl, pool: ConnectionPool, namespace: str, name: str):
        self.url = url
        self.namespace = namespace  # the schema: it scopes lock keys and table names
        self._pool = pool
        self._name = name

    @classmethod
    def open(
        cls,
        url: DatabaseUrl | str,
        *,
        name: str = "parley",
        size: int = DEFAULT_POOL_SIZE,
        settings: Mapping[str, str] | None = None,
    ) -> PgDatabase:
        """Connect, or raise DatabaseUnavailable naming the host and the fix.
        ``settings`` are session settings (``SET``) for every connection."""
        url = url if isinstance(url, DatabaseUrl) else DatabaseUrl(url)
        try:  # one direct connection first: the pool would hide why it failed
            with psycopg.connect(url.url, **connect_args(name)) as probe:
                namespace = probe.execute("SELECT current_schema()").fetchone()[0]
        except psycopg.Error as exc:
            raise unavailable(url, exc) from None
        freshness = Freshness(settings)

        def check(connection: psycopg.Connection) -> None:
            if freshness.idle(connection):
                ConnectionPool.check_connection(connection)

        pool = ConnectionPool(
            url.url,
            min_size=1,
            max_size=size,
            kwargs=connect_args(name),
            configure=freshness.configure,
            check=check,
            reset=freshness.returned,
            name=name,
            open=False,
        )
        try:
            pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except PoolTimeout as exc:
            pool.close()
            raise unavailable(url, exc) from None
        return cls(url, pool, namespace or "public", name)

    @contextmanager
    def transaction(self) -> Iterator[PgSession]:
        """One read-write transaction: committed when the block ends, rolled back on error."""
        with self._pool.connection() as connection, _begun(connection, "BEGIN"):
            yield PgSession(connection, self.namespace)

    @contextmanager
    def read(self) -> Iterator[PgSession]:
        """A connection for one statement, which sees one commit on its own."""
        with self._pool.connection() as connection:
            yield PgSession(connection, self.namespace)

    @contextmanager
    def snapshot(self) -> Iterator[PgSession]:
        """One read-only transaction in which every statement sees the same commit."""
        with self._pool.connection() as connection, _begun(connection, READ_ONLY):
            yield PgSession(connection, self.namespace)

    def connect(self) -> psycopg.Connection:
        """A connection of its own, outside the pool, in autocommit mode: for a session
        lock held across many transactions (the re-index lock). The caller closes it."""
        try:
            return psycopg.connect(self.url.url, **connect_args(self._name))
        except psycopg.Error as exc:
            raise unavailable(self.url, exc) from None

    def session(self, connection: psycopg.Connection) -> PgSession:
        """A session over a connection from ``connect``."""
        return PgSession(connection, self.namespace)

    def close(self) -> None:
        self._pool.close()


@contextmanager
def _begun(connection: psycopg.Connection, begin: str) -> Iterator[None]:
    connection.execute(begin)
    try:
        yield
    except BaseException:
        with suppress(psycopg.Error):  # a broken connection has nothing left to undo
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
