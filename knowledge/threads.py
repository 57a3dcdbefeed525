"""Worker threads that yield the CPU to the event loop.

Embedding, search and the offline answerers are CPU work done in worker threads. On a
machine with two cores, a few of them (and the embedding model's own threads, which
inherit their creator's priority) keep every core busy, and the event loop thread waits
its turn with them: a chat platform's acknowledgement then waits tens of milliseconds
for a core. A worker thread that lowers its own priority still gets every core the loop
leaves idle, so throughput is kept while the loop runs the moment it has work.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["WORKER_NICENESS", "lower_priority", "worker_pool"]

# Under contention Linux gives a nice-10 thread about a tenth of a nice-0 thread's share.
WORKER_NICENESS = 10
log = logging.getLogger(__name__)


def lower_priority() -> None:
    """Make the calling thread nicer than the process's main thread (a thread started
    by a worker inherits the worker's niceness, so this sets it, not adds to it). Linux
    keeps a niceness per thread; elsewhere it is per process, which would slow the event
    loop too, so nothing changes there."""
    if not sys.platform.startswith("linux"):
        return
    try:
        main = os.getpriority(os.PRIO_PROCESS, os.getpid())
        wanted = min(main + WORKER_NICENESS, 19)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), wanted)
    except OSError as exc:  # a sandbox that forbids it: run at the usual priority
        log.debug("could not lower a worker thread's priority: %s", exc)


def worker_pool(name: str, max_workers: int | None = None) -> ThreadPoolExecutor:
    """A thread pool whose threads run at lower priority than the event loop."""
    return ThreadPoolExecutor(max_workers, thread_name_prefix=name, initializer=lower_priority)
