"""Worker processes: the work runs in another process at a worker's priority, each
worker loads what it needs once, and a worker that dies fails the call it held at once
(never a hang) while the next call gets a fresh worker."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

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


SERVING = """
import asyncio, os, sys
from knowledge.processes import WorkerProcesses

async def main():
    pool = WorkerProcesses(2)
    pids = await asyncio.gather(pool.run(os.getpid), pool.run(os.getpid))
    print(*set(pids), flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def running(pid: int) -> bool:
    """Alive and not a zombie left for init to reap."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_workers_of_a_killed_serving_process_end_with_it() -> None:
    serving = subprocess.Popen(
        [sys.executable, "-c", SERVING], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    workers: list[int] = []
    try:
        workers = [int(pid) for pid in serving.stdout.readline().split()]
        assert workers and all(running(pid) for pid in workers)
        serving.kill()  # SIGKILL: no shutdown of the pool
        serving.wait()
        deadline = time.monotonic() + 10
        while any(running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(running(pid) for pid in workers), "workers outlived their parent"
    finally:
        serving.kill()
        for pid in filter(running, workers):  # none, unless the test failed
            os.kill(pid, signal.SIGKILL)
