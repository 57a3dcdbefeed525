"""One re-index at a time across a deployment that shares PostgreSQL: an advisory lock.

Every instance (a bot, ``parley index`` from a shell, on any machine) takes the same
session-level advisory lock for the length of one run, on a connection of its own;
PostgreSQL drops it when that connection ends, however the process ends, so a crash
never leaves it stuck. The holder keeps a row in ``kb_runs`` up to date (who asked,
where, since when, how far: at most once a ``PROGRESS_INTERVAL``), and a refused
instance reads that row into ``IndexBusy.running``, so a second admin sees the running
re-index's progress from any instance. A row is believed only while its connection
still holds the lock (``pg_locks``), so a crashed run's row is never shown.
"""

from __future__ import annotations

import getpass
import os
import socket
import time

import psycopg

from .errors import IndexBusy, IndexStoreError
from .sql import PgDatabase, PgSession, lock_key
from .types import IndexProgress

__all__ = ["PROGRESS_INTERVAL", "RUN_LOCK", "RunLock", "busy_message"]

RUN_LOCK = "knowledge:index"
PROGRESS_INTERVAL = 1.0  # seconds between progress rows a run writes


def busy_message(run: IndexProgress | None) -> str:
    """The refusal's one line, naming who runs the re-index; its progress travels in
    ``IndexBusy.running``, for the surfaces to show as they show their own."""
    if run is None:  # it has the lock but has not written its row yet
        return "a re-index of this knowledge base is starting elsewhere; try again shortly"
    return (
        f"a re-index is already running, started by {run.requested_by} on {run.host}"
        f" (pid {run.pid}); try again when it has finished"
    )


class RunLock:
    """The deployment-wide right to re-index, taken per run (``acquire``/``release``)."""

    def __init__(self, database: PgDatabase) -> None:
        self._db = database
        self._key = lock_key(RUN_LOCK, database.namespace)
        self._session: PgSession | None = None  # on a connection of its own, while held
        self._progress: dict[str, object] = {}  # the run's latest, written now and then
        self._reported = 0.0

    @property
    def held(self) -> bool:
        return self._session is not None

    def acquire(self, requested_by: str = "") -> None:
        """Take the lock, or raise IndexBusy carrying the running re-index's progress."""
        if self._session is not None:
            return
        connection = self._db.connect()
        s = self._db.session(connection)
        try:
            if not s.scalar("SELECT pg_try_advisory_lock(?)", (self._key,)):
                running = self._running(s)
                raise IndexBusy(busy_message(running), running)
            s.execute(
                "INSERT INTO kb_runs (lock, backend_pid, requested_by, host, pid, started_at)"
                " VALUES (?, pg_backend_pid(), ?, ?, ?, ?) ON CONFLICT (lock) DO UPDATE"
                " SET backend_pid = excluded.backend_pid, requested_by = excluded.requested_by,"
                " host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,"
                " done = 0, total = 0, current = '', passages_done = 0, passages_total = 0",
                (
                    RUN_LOCK,
                    requested_by or getpass.getuser(),
                    socket.gethostname(),
                    os.getpid(),
                    time.time(),
                ),
            )
        except psycopg.Error as exc:
            connection.close()
            raise IndexStoreError(f"cannot take the re-index lock: {exc}") from exc
        except BaseException:
            connection.close()
            raise
        self._session = s
        self._progress = {}
        self._reported = 0.0

    def files(self, current: str, done: int, total: int) -> None:
        """Note a finished file (from the indexer's progress callback)."""
        self._note(
            {"done": done, "total": total, "current": current, "passages_done": 0,
             "passages_total": 0},
            final=done == total,
        )  # fmt: skip

    def passages(self, current: str, done: int, total: int) -> None:
        """Note progress through a long file's passages."""
        self._note({"current": current, "passages_done": done, "passages_total": total})

    def _note(self, fields: dict[str, object], *, final: bool = False) -> None:
        """Keep the latest progress; write it once a PROGRESS_INTERVAL (and at the end)."""
        self._progress.update(fields)
        now = time.monotonic()
        if self._session is None or (now - self._reported < PROGRESS_INTERVAL and not final):
            return
        self._reported = now
        names = list(self._progress)
        try:
            self._session.execute(
                f"UPDATE kb_runs SET {', '.join(f'{n} = ?' for n in names)} WHERE lock = ?",
                (*(self._progress[n] for n in names), RUN_LOCK),
            )
        except psycopg.Error as exc:  # losing the lock's connection loses the lock
            raise IndexStoreError(f"the re-index lost its database connection: {exc}") from exc

    def release(self) -> None:
        if self._session is None:
            return
        s, self._session = self._session, None
        try:
            s.execute("DELETE FROM kb_runs WHERE lock = ?", (RUN_LOCK,))
            s.execute("SELECT pg_advisory_unlock(?)", (self._key,))
        except psycopg.Error:
            pass  # closing the connection below drops the lock all the same
        finally:
            s.connection.close()

    def _running(self, s: PgSession) -> IndexProgress | None:
        """The holder's row, if the connection that wrote it holds the lock now."""
        classid, objid = (self._key >> 32) & 0xFFFFFFFF, self._key & 0xFFFFFFFF
        row = s.fetchone(
            "SELECT requested_by, started_at, done, total, current, passages_done,"
            " passages_total, host, pid FROM kb_runs r"
            " WHERE lock = ? AND EXISTS (SELECT 1 FROM pg_locks l"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.pid = r.backend_pid"
            " AND l.classid = ?::bigint::oid AND l.objid = ?::bigint::oid AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            (RUN_LOCK, classid, objid),
        )
        return IndexProgress(*row) if row else None
