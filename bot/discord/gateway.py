"""One gateway connection per bot token across a deployment; the other instances stand by.

discord.py answers every message its gateway connection delivers, so two ``parley
discord`` with one token would each answer everything. Before connecting, an instance
takes a lock named by a hash of the token (never the token itself): with ``database_url``
a PostgreSQL session advisory lock on a connection of its own, which the server drops
as soon as that connection ends (the process died, or its machine: the connection's TCP
keepalives give up within about 11 s); otherwise an ``flock`` on a file in the data
folder, which the kernel drops when the process ends. An instance that finds the lock
held logs ``STANDING_BY`` and tries again every ``POLL`` seconds, so it takes over within
``POLL`` seconds of the holder's end plus its own start-up.

The holder checks its lock every ``CHECK`` seconds. A PostgreSQL restart drops the lock
with the connection: the holder takes it again on a new connection if it is still free,
and if a standby was quicker, it stops serving and stands by in turn (``lost``), so two
instances serve together for at most ``CHECK`` seconds. While the server cannot be
reached nobody can take the lock, and the holder serves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

from knowledge.sql import DatabaseUrl, lock_key

from ..config import Settings
from ..runtime import writable_data_dir

__all__ = [
    "CHECK",
    "POLL",
    "STANDING_BY",
    "FileGatewayLock",
    "GatewayLock",
    "PgGatewayLock",
    "gateway_lock",
    "take_gateway",
    "watch_gateway",
]

POLL = 5.0  # seconds between a standby's tries
CHECK = 5.0  # seconds between the holder's checks that it still holds the lock
STANDING_BY = "standing by: another instance holds the gateway"
# the lock connection's keepalives (the server's side, and ours): a dead peer is noticed
# after idle + interval x count seconds
_KEEPALIVE = {"idle": 5, "interval": 2, "count": 3}
log = logging.getLogger(__name__)


class GatewayLock(Protocol):
    """The right to the token's gateway connection."""

    async def try_take(self) -> bool:
        """Take the lock if it is free (True), or say it is held elsewhere (False)."""
        ...

    async def held(self) -> bool:
        """Whether this instance still holds it."""
        ...

    async def release(self) -> None: ...


def _token_name(token: str) -> str:
    """The lock's name: a hash of the token, so the lock names no secret."""
    return "discord-gateway:" + hashlib.sha256(token.encode()).hexdigest()[:32]


class PgGatewayLock:
    """A session advisory lock on a PostgreSQL connection of its own."""

    def __init__(self, url: DatabaseUrl, token: str) -> None:
        self._url = url
        # no namespace: one gateway per token across every schema of the database
        self._key = lock_key(_token_name(token))
        self._connection = None

    async def try_take(self) -> bool:
        import psycopg

        from knowledge.sql.pg import connect_args
        from knowledge.sql.url import unavailable

        if self._connection is not None:
            return True
        try:
            connection = await psycopg.AsyncConnection.connect(
                self._url.url,
                **connect_args("parley-discord-gateway"),
                keepalives=1,
                **{f"keepalives_{k}": v for k, v in _KEEPALIVE.items()},
            )
        except psycopg.Error as exc:
            raise unavailable(self._url, exc) from None
        try:
            for name, value in _KEEPALIVE.items():  # the server's side: for a dead machine
                await connection.execute(f"SET tcp_keepalives_{name} = {value}")
            cursor = await connection.execute("SELECT pg_try_advisory_lock(%s)", (self._key,))
            taken = (await cursor.fetchone())[0]
        except BaseException:
            await connection.close()
            raise
        if taken:
            self._connection = connection
        else:
            await connection.close()
        return bool(taken)

    async def held(self) -> bool:
        import psycopg

        if self._connection is None:
            return False
        try:
            await asyncio.wait_for(self._connection.execute("SELECT 1"), CHECK)
        except (psycopg.Error, TimeoutError):
            await self.release()
            return False  # the connection is gone, and the lock with it
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # closing drops the lock all the same
                await connection.close()


class FileGatewayLock:
    """An ``flock`` on a file in the data folder (one machine, SQLite)."""

    def __init__(self, folder: Path, token: str) -> None:
        digest = _token_name(token).rsplit(":", 1)[1][:16]
        self.path = folder / f"discord-gateway-{digest}.lock"
        self._fd: int | None = None

    async def try_take(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    async def held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def gateway_lock(settings: Settings, token: str) -> GatewayLock:
    """The lock for this deployment: on its PostgreSQL server, else in the data folder."""
    if settings.database_url:
        return PgGatewayLock(DatabaseUrl(settings.database_url.get_secret_value()), token)
    writable_data_dir(settings)
    return FileGatewayLock(settings.data_dir, token)


async def take_gateway(lock: GatewayLock, stop: asyncio.Event, *, poll: float = POLL) -> bool:
    """Take the lock, standing by (one log line) while another instance holds it; False
    when ``stop`` is set first. A server that cannot be reached is a one-line error the
    first time; while standing by it is logged and tried again."""
    standing_by = False
    while not stop.is_set():
        try:
            if await lock.try_take():
                if standing_by:
                    log.info("taking over the gateway: the instance that held it has stopped")
                return True
        except Exception as exc:
            if not standing_by:
                raise
            log.warning("cannot check the gateway lock: %s", exc)
        if not standing_by:
            log.info(STANDING_BY)
            standing_by = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)
    return False


async def watch_gateway(lock: GatewayLock, lost: asyncio.Event, *, every: float = CHECK) -> None:
    """While serving: check the lock every ``every`` seconds; take it again if its
    connection dropped and it is free; set ``lost`` when another instance has it."""
    while True:
        await asyncio.sleep(every)
        if await lock.held():
            continue
        try:
            if await lock.try_take():
                log.warning("the gateway lock's connection dropped; taken again")
                continue
        except Exception as exc:  # the server is down: nobody else can take it either
            log.warning("cannot check the gateway lock: %s", exc)
            continue
        log.error("another instance has taken the gateway: %s", STANDING_BY)
        lost.set()
        return
