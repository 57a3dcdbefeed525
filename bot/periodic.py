"""A job the bot runs every so many seconds while it serves (the audit schedule, the
rescue of messages left by dead instances): one task, a failed run logged without
ending the schedule, and a stop that cancels a run under way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["Periodic"]


class Periodic:
    """Run ``job`` every ``every`` seconds (first at once with ``at_once``, else after
    one wait) from ``start`` until ``stop``; a run that fails is logged as ``failure``
    on ``log`` (the owner's logger) and the next one still comes."""

    def __init__(
        self,
        job: Callable[[], Awaitable[object]],
        every: float,
        *,
        failure: str,
        log: logging.Logger,
        at_once: bool = False,
    ) -> None:
        self._job = job
        self.every = every
        self._failure = failure
        self._log = log
        self._at_once = at_once
        self._task: asyncio.Task | None = None

    def start(self) -> asyncio.Task:
        """Start the schedule (again, if it ended); its task."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())
        return self._task

    async def stop(self) -> None:
        """End the schedule; a run under way is cancelled (work it started goes on)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def stop_when(self, event: asyncio.Event) -> None:
        """Stop as soon as ``event`` is set: a stopping bot starts no new run while it
        finishes the users' work."""
        await event.wait()
        await self.stop()

    async def _loop(self) -> None:
        if not self._at_once:
            await asyncio.sleep(self.every)
        while True:
            try:
                await self._job()
            except Exception:  # one failed run must not end the schedule (nor the shutdown)
                self._log.exception(self._failure)
            await asyncio.sleep(self.every)
