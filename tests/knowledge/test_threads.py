"""Worker threads yield the cores to the event loop (Linux keeps a niceness per thread)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from knowledge.threads import WORKER_NICENESS, worker_pool

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's"
)


def own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_worker_threads_run_nicer_than_the_main_thread():
    main = own_niceness()
    with worker_pool("test-work", max_workers=1) as pool:
        worker = pool.submit(own_niceness).result()
    assert worker == min(main + WORKER_NICENESS, 19)
    assert own_niceness() == main  # the caller keeps its priority


def test_a_pool_started_from_a_worker_is_not_made_nicer_twice():
    """A worker's threads inherit its niceness; their own pool sets, not adds."""
    main = own_niceness()

    def nested() -> int:
        with worker_pool("test-inner", max_workers=1) as inner:
            return inner.submit(own_niceness).result()

    with worker_pool("test-outer", max_workers=1) as pool:
        assert pool.submit(nested).result() == min(main + WORKER_NICENESS, 19)
