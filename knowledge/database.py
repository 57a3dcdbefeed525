"""One SQLite file shared by threads: one writer under a lock, a pool of readers.

Searches run on worker threads while a re-index writes on another. In WAL mode a reader
never waits for the writer and sees the database as of its last commit, so each read
runs in its own snapshot on its own connection, and each write is one transaction on
the single writer connection. ``":memory:"`` cannot be shared between connections, so
there one connection serves both, one caller at a time.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexStoreError

__all__ = ["BUSY_TIMEOUT_MS", "Database"]

# How long a connection waits for another's lock before SQLite gives up. Readers in WAL
# mode never wait for the writer; this covers a checkpoint or a second writing process.
BUSY_TIMEOUT_MS = 30_000


class Database:
    """Thread-safe access to one SQLite file: ``reading()`` and ``writing()`` blocks."""

    def __init__(self, path: Path | str, schema: str) -> None:
        self._path = str(path)
        self._memory = self._path == ":memory:"
        self._lock = threading.Lock()  # the writer's (and, in memory, everyone's)
        self._idle: list[sqlite3.Connection] = []  # readers not in use
        self._closed = False
        self._writer = self._connect()
        if not self._memory:
            self._writer.execute("PRAGMA journal_mode=WAL")
            self._writer.execute("PRAGMA synchronous=NORMAL")
        self._writer.executescript(schema)  # it commits as it goes, so not in writing()

    def _connect(self) -> sqlite3.Connection:
        # autocommit mode: every transaction below is begun and ended explicitly
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return db

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
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
            self._writer.close()
