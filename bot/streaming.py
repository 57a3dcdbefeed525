"""Showing an answer while it is generated, at a rate a chat platform allows.

Both adapters edit one message as a hosted model's text grows; this keeps them from
editing it more often than the platform's rate limits tolerate. The text shown last
need not be the whole answer: the final message replaces it once the answer is done.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

__all__ = ["Throttled"]


class Throttled:
    """Passes text on at most once per ``interval`` seconds; the first at once.

    Text arriving sooner is dropped, not queued: each call carries the whole text so
    far, so the next one shown includes it.
    """

    def __init__(
        self,
        show: Callable[[str], Awaitable[None]],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._show = show
        self._interval = interval
        self._clock = clock
        self._last: float | None = None

    async def __call__(self, text: str) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval:
            return
        self._last = now
        await self._show(text)
