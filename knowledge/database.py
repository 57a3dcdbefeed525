"""One SQLite file shared by threads: one writer under a lock, a pool of readers.

Searches run on worker threads while a re-index writes on another. In WAL mode a reader
never waits for the writer and sees the database as of its last commit, so each read
runs in its own snapshot on its own connection, and each write is one transaction on
the single writer connection. ``":memory:"`` cannot be shared between connections, so
there one connection serves both, one caller at a time. Opened ``read_only`` (a copy for
reporting, a backup mount) it has readers only, and writes nothing, beside the file
either (see ``read_only_uri``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexStoreError

__all__ = ["BUSY_TIMEOUT_MS", "Database", "cannot_read", "read_only_uri"]

# How long a connection waits for another's lock before SQLite gives up. Readers in WAL
# mode never wait for the writer; this covers a checkpoint or a second writing process.
BUSY_TIMEOUT_MS = 30_000


def read_only_uri(path: Path | str) -> str:
    """An SQLite URI (``uri=True``) that reads ``path`` without writing a byte to it or
    beside it, on a read-only mount too.

    A database in WAL mode is read under the locks its ``-shm`` index holds, which SQLite
    creates beside it when it can (and a read-only connection then leaves behind) and
    cannot create in a read-only folder ("attempt to write a readonly database"). So a
    database with a ``-shm``, or with writes still in its ``-wal``, is read that way
    (``mode=ro``): a writer may be at work. One with neither is whole in its one file (a
    closed database, a backup) and is read as it is (``immutable``): no lock, nothing
    created.
    """
    path = Path(path).absolute()
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    live = shm.exists() or (wal.exists() and wal.stat().st_size > 0)
    return f"{path.as_uri()}?mode=ro" + ("" if live else "&immutable=1")


def cannot_read(exc: sqlite3.Error) -> bool:
    """Whether SQLite could not get at the file at all (permissions, a missing folder, a
    read-only place it needed to write), which says nothing about what the file holds."""
    return getattr(exc, "sqlite_errorname", "").startswith(
        ("SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_IOERR", "SQLITE_READONLY")
    )


class Database:
    """Thread-safe access to one SQLite file: ``reading()`` and ``writing()`` blocks."""

    def __init__(self, path: Path | str, schema: str, *, read_only: bool = False) -> None:
        self._path = str(path)
        self._memory = self._path == ":memory:"
        self._read_only = read_only and not self._memory
        self._lock = threading.Lock()  # the writer's (and, in memory, everyone's)
        self._idle: list[sqlite3.Connection] = []  # readers not in use
        self._closed = False
        self._writer: sqlite3.Connection | None = None
        if self._read_only:
            reader = self._checkout()
            reader.execute("SELECT COUNT(*) FROM sqlite_master")  # unreadable: fails here
            self._idle.append(reader)
            return
        self._writer = self._connect()
        if not self._memory:
            self._writer.execute("PRAGMA journal_mode=WAL")
            self._writer.execute("PRAGMA synchronous=NORMAL")
        self._writer.executescript(schema)  # it commits as it goes, so not in writing()

    def _connect(self) -> sqlite3.Connection:
        # autocommit mode: every transaction below is begun and ended explicitly
        target = read_only_uri(self._path) if self._read_only else self._path
        db = sqlite3.connect(
            target, check_same_thread=False, isolation_level=None, uri=self._read_only
        )
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return db

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        if self._writer is None:
            raise IndexStoreError(f"the index database {self._path} is open read-only")
        with self._lock:
            self._check_open()
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """One read snapshot: every statement in the block sees the same commit."""
        if self._memory:
            with self._lock:
                self._check_open()
                yield self._writer
            return
        db = self._checkout()
        try:
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("COMMIT")  # a read transaction has nothing to undo
        finally:
            self._checkin(db)

    def _checkout(self) -> sqlite3.Connection:
        with self._lock:
            self._check_open()
            if self._idle:
                return self._idle.pop()
        db = self._connect()
        db.execute("PRAGMA query_only=ON")
        return db

    def _checkin(self, db: sqlite3.Connection) -> None:
        with self._lock:
            if self._closed:
                db.close()
            else:
                self._idle.append(db)

    def _check_open(self) -> None:
        if self._closed:
            raise IndexStoreError(f"the index database {self._path} is closed")

    def close(self) -> None:
        """Close every connection; readers in use close when their block ends."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for db in self._idle:
                db.close()
            if self._writer is not None:
                self._writer.close()
