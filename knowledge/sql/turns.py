"""Turns on one connection that many tasks share: first come, first served, except that
an urgent block goes before every waiting ordinary one.

A busy bot queues dozens of small reads and writes on its one SQLite connection; a
write that someone is waiting for right now (a Slack message's claim, which its
acknowledgement waits for) should wait for the block in progress, not for the queue.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["Turns"]

_URGENT, _ORDINARY = 0, 1


class Turns:
    """A lock whose waiters are served urgent first, then in order of arrival."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap
        self._arrivals = itertools.count()

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Hold the connection for the block."""
        if self._busy:
            await self._wait(_URGENT if urgent else _ORDINARY)
        self._busy = True
        try:
            yield
        finally:
            self._hand_on()

    async def _wait(self, rank: int) -> None:
        handed = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._arrivals), handed))
        try:
            await handed
        except asyncio.CancelledError:
            if handed.done() and not handed.cancelled():
                self._hand_on()  # handed the turn as it was cancelled: pass it on
            raise

    def _hand_on(self) -> None:
        """Give the turn to the first waiter still waiting, or free it."""
        while self._waiting:
            _, _, handed = heapq.heappop(self._waiting)
            if not handed.done():  # a cancelled waiter is done
                handed.set_result(None)
                return
        self._busy = False
