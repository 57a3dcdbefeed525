"""Work started and not awaited (a Slack listener's answer after its acknowledgement, a
rescued Discord ``/ask``): each task kept referenced until it ends (asyncio keeps only
a weak one), its failure logged rather than lost, and a way to wait for them all."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["Background"]


class Background:
    """Tasks run in the background; a failed one is logged as ``failure`` on ``log``."""

    def __init__(self, failure: str, log: logging.Logger) -> None:
        self._failure = failure
        self._log = log
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def drain(self) -> None:
        """Wait until every started task has finished (those they start too)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def _finished(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error(self._failure, exc_info=task.exception())
