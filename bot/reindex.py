"""One re-index at a time, run in a worker thread, with throttled progress.

The indexer is synchronous and CPU-bound (parsing, embedding), so it runs in a thread
while the event loop keeps answering questions. Its progress callback fires from that
thread; a pump on the loop forwards the latest status to the adapter at most once per
``interval`` seconds, so a chat message is edited at a sane rate however fast files go.

A thread cannot be cancelled, so a re-index is stopped through its progress callbacks
(``IndexStopped``): when the caller sets ``stop`` (Ctrl-C) the run returns its report,
marked stopped; when the task is cancelled (a bot shutting down) the run is stopped the
same way and waited for, and the cancellation goes on. Either way it ends within one
indexing step, with every finished file kept, instead of running to the end.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.errors import IndexBusy, IndexStopped
from knowledge.types import IndexProgress

from . import messages
from .access import Requester
from .errors import ReindexBusy

if TYPE_CHECKING:  # the indexer itself loads with the knowledge base, on first use
    from knowledge.indexer import IndexReport

__all__ = [
    "DEFAULT_PROGRESS_INTERVAL",
    "IndexFn",
    "ProgressFn",
    "Reindexer",
]

DEFAULT_PROGRESS_INTERVAL = 1.0  # seconds between progress reports to the adapter

# (paths, progress, passages) -> report; a forced run is asked with force=True as well
IndexFn = Callable[..., "IndexReport"]


ProgressFn = Callable[[IndexProgress], Awaitable[None]]


class Reindexer:
    """Runs ``index`` for one requester at a time; a second request raises ReindexBusy."""

    def __init__(self, index: IndexFn, *, interval: float = DEFAULT_PROGRESS_INTERVAL) -> None:
        self._index = index
        self._interval = interval
        self._status: IndexProgress | None = None

    @property
    def status(self) -> IndexProgress | None:
        """The running re-index, or None."""
        return self._status

    async def run(
        self,
        requester: Requester,
        paths: Sequence[Path],
        on_progress: ProgressFn | None = None,
        stop: asyncio.Event | None = None,
        *,
        force: bool = False,
    ) -> IndexReport:
        """``force``: embed every file again (``index`` is called with ``force=True``)."""
        if self._status is not None:  # no await since the check: one loop, so this is atomic
            raise ReindexBusy(messages.reindex_busy(self._status))
        self._status = IndexProgress(requester.qualified, time.time())
        loop = asyncio.get_running_loop()
        moved = asyncio.Event()
        halt = threading.Event()  # read by the worker thread, between indexing steps

        def progress(path: str, done: int, total: int) -> None:  # runs in the worker thread
            self._move(loop, moved, done=done, total=total, current=path, passages_total=0)
            if halt.is_set():
                raise IndexStopped

        def passages(path: str, embedded: int, total: int) -> None:  # likewise
            self._move(loop, moved, current=path, passages_done=embedded, passages_total=total)
            if halt.is_set():
                raise IndexStopped

        helpers = [asyncio.create_task(self._pump(moved, on_progress))] if on_progress else []
        if stop is not None:
            helpers.append(asyncio.create_task(_relay(stop, halt)))
        index = partial(self._index, force=True) if force else self._index
        work = asyncio.ensure_future(asyncio.to_thread(index, list(paths), progress, passages))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:  # stop the thread too, rather than leave it running
            halt.set()
            await asyncio.wait([work])
            if not work.cancelled():
                work.exception()  # retrieved: the cancellation is what goes on
            raise
        except IndexBusy as busy:
            if busy.running is None:
                raise
            # one running elsewhere in the deployment: told as one running here would be
            raise ReindexBusy(messages.reindex_busy(busy.running)) from busy
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            self._status = None

    def _move(self, loop: asyncio.AbstractEventLoop, moved: asyncio.Event, **fields) -> None:
        if self._status is not None:
            self._status = replace(self._status, **fields)
            loop.call_soon_threadsafe(moved.set)

    async def _pump(self, moved: asyncio.Event, on_progress: ProgressFn) -> None:
        while True:
            await moved.wait()
            moved.clear()
            if self._status is not None:
                await on_progress(self._status)
            await asyncio.sleep(self._interval)


async def _relay(stop: asyncio.Event, halt: threading.Event) -> None:
    """Pass the caller's stop request on to the worker thread."""
    await stop.wait()
    halt.set()
