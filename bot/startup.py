"""What starting a chat bot shares between Slack and Discord: a start-up step that a
stop (SIGTERM, Ctrl-C) can cut short, the listening socket claimed before anything
slow happens, and a network failure told in a few words.

A bot checks its token and its platform before it serves, so a rejected token, an
unreachable platform or a port in use ends the process with one line (a ``BotError``
that the CLI prints) within ``START_TIMEOUT`` seconds, instead of a traceback or a
retry loop that never ends.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp

from . import messages
from .errors import BotError

__all__ = [
    "NETWORK_ERRORS",
    "START_TIMEOUT",
    "listen",
    "network_reason",
    "retries_in_one_line",
    "until_stopped",
]

T = TypeVar("T")

# seconds a start-up check (a token, the first connection) may take, retries included:
# a user who started the bot hears what is wrong well within half a minute
START_TIMEOUT = 20.0
# what a request raises when the platform cannot be reached (DNS, refused, TLS, timeout)
NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


async def until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """Await ``work`` unless ``stop`` is set first: then it is cancelled and None comes back."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return None


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, claimed at once so that a port in use is
    one clear line before the index and the models are opened."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, port), family=family, backlog=128)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BotError(messages.port_in_use(host, port)) from exc
        raise BotError(messages.cannot_listen(host, port, exc.strerror or str(exc))) from exc


def network_reason(exc: BaseException) -> str:
    """Why a request failed, in the words a user can act on."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate could not be verified"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error.strerror or str(exc.os_error) or "the connection failed"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    return str(exc) or type(exc).__name__


class _OneLine(logging.Filter):
    """Keeps a library's retry messages (which name the error) and drops their
    tracebacks: a connection that keeps failing is one line each time, not thirty."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self._prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith(self._prefix):
            record.exc_info, record.exc_text = None, None
        return True


def retries_in_one_line(logger: str, prefix: str = "") -> None:
    """Log ``logger``'s messages that start with ``prefix`` (all, when empty) without
    their tracebacks, once per process."""
    target = logging.getLogger(logger)
    if not any(isinstance(f, _OneLine) and f._prefix == prefix for f in target.filters):
        target.addFilter(_OneLine(prefix))
