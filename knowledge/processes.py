"""Worker processes for CPU work that must not share the serving process.

Worker threads (``threads.py``) keep the event loop's priority above the answerers',
but they still share its process: its interpreter lock and, under a burst, the cores
its acknowledgements need. A pool of worker processes takes that work (the offline
answerers' embedding and sentence picking) out of the process that acknowledges. Its
workers run at a worker's priority too, load what they need once (``prepare``), and a
worker that dies (killed, out of memory) fails the calls it had with ``WorkerCrashed``
at once instead of leaving them waiting; the next call gets a fresh pool. The other way
round, workers end with the serving process, however it ends: one killed with SIGKILL
leaves no worker waiting for calls that will never come (each would keep its memory).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from .threads import lower_priority

__all__ = ["WorkerCrashed", "WorkerProcesses"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerCrashed(RuntimeError):
    """A worker process died while it held the call."""


def _start_worker(prepare: Callable[[], object] | None) -> None:
    """Each worker: ends with its parent, takes a worker's priority (its threads inherit
    it), then loads what it needs once."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        watch = threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True)
        watch.start()
    lower_priority()
    if prepare is not None:
        prepare()


def _end_with(parent: int) -> None:
    """Exit once the parent process is gone. Its pipe to the pool's call queue stays
    open in the sibling workers, so without this a worker outlives a killed parent."""
    multiprocessing.connection.wait([parent])
    os._exit(1)


class WorkerProcesses:
    """A pool of ``workers`` processes (spawned: no copy of the serving process's threads
    or connections) that runs picklable module-level functions for the event loop."""

    def __init__(self, workers: int, prepare: Callable[[], object] | None = None) -> None:
        self._workers = workers
        self._prepare = prepare
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._prepare,),
        )

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a worker; WorkerCrashed when its worker died."""
        pool = self._pool
        try:
            return await asyncio.wrap_future(pool.submit(function, *args))
        except BrokenProcessPool as exc:
            if self._pool is pool:  # the first call to notice replaces the pool
                log.error("a worker process died; starting new ones")
                self._pool = self._start()
                pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerCrashed("a worker process died while it held the work") from exc

    def close(self) -> None:
        """Stop the workers; calls still queued are cancelled."""
        self._pool.shutdown(wait=True, cancel_futures=True)
