"""Worker processes: the work runs in another process at a worker's priority, each
worker loads what it needs once, and a worker that dies fails the call it held at once
(never a hang) while the next call gets a fresh worker."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import threading
import time

import pytest

from knowledge.processes import WorkerCrashed, WorkerProcesses
from knowledge.threads import WORKER_NICENESS

_prepared: list[int] = []


def prepare() -> None:
    _prepared.append(os.getpid())


def where() -> tuple[int, int, int]:
    """This process, its thread's niceness, and how often ``prepare`` ran in it."""
    niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    return os.getpid(), niceness, len(_prepared)


def hold(seconds: float) -> str:
    time.sleep(seconds)
    return "finished"


async def test_work_runs_in_a_prepared_worker_process_at_a_workers_priority() -> None:
    pool = WorkerProcesses(1, prepare=prepare)
    try:
        first = await pool.run(where)
        second = await pool.run(where)
    finally:
        pool.close()
    pid, niceness, _ = first
    assert pid != os.getpid()
    assert second == (pid, niceness, 1)  # the same worker, prepared once
    if sys.platform.startswith("linux"):
        main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert niceness == min(main + WORKER_NICENESS, 19)


async def test_a_killed_worker_fails_its_call_at_once_and_the_pool_recovers() -> None:
    pool = WorkerProcesses(1)
    try:
        held = asyncio.create_task(pool.run(hold, 60))
        while not multiprocessing.active_children():
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the worker has taken the call
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashed):
            await asyncio.wait_for(held, 20)
        pid, _, _ = await asyncio.wait_for(pool.run(where), 60)
        assert pid != os.getpid()
    finally:
        pool.close()
