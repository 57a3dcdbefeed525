"""Worker threads yield the cores to the event loop (Linux keeps a niceness per thread)."""

from __future__ import annotations

import os
import subprocess
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


def test_helper_threads_started_earlier_are_made_nicer_but_not_the_caller():
    """In a process of its own: lowering every other thread of pytest's would slow it."""
    code = """
import os, threading
from knowledge.threads import lower_helper_threads
ready, done, seen = threading.Event(), threading.Event(), []
def helper():
    ready.set()
    done.wait()
    seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
thread = threading.Thread(target=helper)
thread.start()
ready.wait()
main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
lowered = lower_helper_threads()
done.set()
thread.join()
after = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
print(main, after, seen[0], lowered >= 1)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    main, after, helper, counted = result.stdout.split()
    assert after == main and counted == "True"
    assert int(helper) == min(int(main) + WORKER_NICENESS, 19)
