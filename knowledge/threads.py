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

__all__ = ["WORKER_NICENESS", "lower_helper_threads", "lower_priority", "worker_pool"]

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


def lower_helper_threads() -> int:
    """Give every thread of this process but the calling one a worker's priority, and
    return how many there were. Numerical libraries start helper threads when they are
    imported (OpenBLAS: one per core); the fits' linear algebra runs on them, so a
    worker's priority alone would leave half of a fit at the event loop's. Call it
    before starting threads that must keep the usual priority. Linux only, like
    ``lower_priority``."""
    if not sys.platform.startswith("linux"):
        return 0
    me = threading.get_native_id()
    lowered = 0
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        if int(task) == me:
            continue
        try:
            main = os.getpriority(os.PRIO_PROCESS, os.getpid())
            os.setpriority(os.PRIO_PROCESS, int(task), min(main + WORKER_NICENESS, 19))
            lowered += 1
        except OSError as exc:  # gone since listed, or a sandbox that forbids it
            log.debug("could not lower thread %s's priority: %s", task, exc)
    return lowered


def worker_pool(name: str, max_workers: int | None = None) -> ThreadPoolExecutor:
    """A thread pool whose threads run at lower priority than the event loop."""
    return ThreadPoolExecutor(max_workers, thread_name_prefix=name, initializer=lower_priority)
