"""Stopping a bot process gently: SIGTERM (or Ctrl-C) sets an event instead of killing
the loop, so the runner can stop taking new work and give what is in flight a bounded
time to finish before it exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Iterator

__all__ = ["STOP_SIGNALS", "finish_within", "stop_on_signals"]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
log = logging.getLogger(__name__)


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """While inside, SIGTERM and SIGINT set ``stop`` (on the running loop)."""
    loop = asyncio.get_running_loop()

    def requested(name: str) -> None:
        log.info("%s received: finishing the work in flight, then stopping", name)
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, requested, sig.name)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def finish_within(work: Awaitable[object], timeout: float, what: str) -> bool:
    """Await ``work`` for at most ``timeout`` seconds; False (logged) when it was cut off."""
    try:
        await asyncio.wait_for(work, timeout)
    except TimeoutError:
        log.warning("gave up waiting for %s after %.0f s", what, timeout)
        return False
    return True
