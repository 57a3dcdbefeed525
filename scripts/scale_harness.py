"""The processes around ``bench_scale.py``'s instances: the round-robin balancer in a
process of its own, the fake Slack, a Chroma server, each set-up's settings, and the CPU
time every one of them (and PostgreSQL, and the load generator) spends, read from /proc.

The balancer, the fake Slack, Chroma and PostgreSQL are the bench's, not Parley's; they
run on the same two cores as the instances, so each phase reports the CPU-seconds of
every class of process, to say how much of a figure is the harness's.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import multiprocessing
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace

import aiohttp
from aiohttp import web
from bench_slack import ROOT, FakesProcess, free_port  # first: it puts the repository on sys.path

from bot.config import Settings
from bot.runtime import open_knowledge

HANDBOOK = ROOT / "examples" / "handbook"
_TICKS = os.sysconf("SC_CLK_TCK")


# --- the balancer ------------------------------------------------------------------------


async def _balance(backends: list[str], pipe: Connection) -> None:
    """Round-robin over ``backends``; a refused connection moves on to the next instance.
    A new connection per request, as nginx makes to its upstreams by default (a kept-alive
    one to a dead instance would fail the request instead of being refused). Remembers
    which instance acknowledged each event (JSON) body, for the kill phase."""
    routed: dict[bytes, int] = {}
    turn = itertools.count()
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    session = aiohttp.ClientSession(connector=connector)
    wanted = ("content-type", "x-slack-request-timestamp", "x-slack-signature")

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in wanted}
        start = next(turn)  # then each other instance once, in order
        for step in range(len(backends)):
            chosen = (start + step) % len(backends)
            try:
                async with session.post(backends[chosen], data=body, headers=headers) as reply:
                    payload = await reply.read()
                    if reply.status == 200 and body[:1] == b"{":
                        routed[body] = chosen
                    return web.Response(status=reply.status, body=payload)
            except aiohttp.ClientConnectorError:  # refused: that instance is down, next
                continue
            except aiohttp.ClientError:  # it died holding the request
                return web.Response(status=502)
        return web.Response(status=502)

    app = web.Application()
    app.router.add_post("/slack/events", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listening = socket.create_server(("127.0.0.1", 0))  # bound now: no port taken twice
    await web.SockSite(runner, listening).start()
    pipe.send(f"http://127.0.0.1:{listening.getsockname()[1]}/slack/events")
    loop = asyncio.get_running_loop()
    while (asked := await loop.run_in_executor(None, pipe.recv)) is not None:
        pipe.send([routed.get(body) for body in asked])
    await runner.cleanup()
    await session.close()


def _serve_balancer(backends: list[str], pipe: Connection) -> None:
    asyncio.run(_balance(backends, pipe))


class Balancer:
    """The bench's side of the balancer process (``_balance``)."""

    def __init__(self, backends: list[str]) -> None:
        self._pipe, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve_balancer, args=(backends, child), daemon=True
        )
        self._process.start()
        self.url: str = self._pipe.recv()

    @property
    def pid(self) -> int:
        return self._process.pid  # type: ignore[return-value]

    def routed(self, bodies: list[bytes]) -> list[int | None]:
        """Which instance (0-based) acknowledged each event body; None if none did."""
        self._pipe.send(bodies)
        return self._pipe.recv()

    def close(self) -> None:
        self._pipe.send(None)
        self._process.join(10)


# --- the fake Slack ----------------------------------------------------------------------


class Fakes:
    """The fake Slack in its process, read as ``FakeServer.seen`` reads; what was seen is
    fetched once (each look asks only for the requests since the last one)."""

    def __init__(self) -> None:
        self.process = FakesProcess("offline", 0.0, 1)
        self._seen: dict[str, list[tuple[dict, dict, float]]] = {}

    def _fetch(self, path: str) -> list[tuple[dict, dict, float]]:
        known = self._seen.setdefault(path, [])
        known.extend(self.process.seen(path, since=len(known)))
        return known

    def seen(self, path: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(query=q, body=b, at=at) for q, b, at in self._fetch(path)]

    def posted(self) -> list[tuple[dict, float]]:
        """Every chat.postMessage body with when it reached Slack."""
        return [(b, at) for _, b, at in self._fetch("/api/chat.postMessage")]


# --- Chroma, the set-ups -----------------------------------------------------------------


@contextlib.contextmanager
def chroma_server(folder: Path) -> Iterator[subprocess.Popen]:
    """``chroma run`` on loopback; yields the process (its port in ``.port``)."""
    port = free_port()
    log = (folder / "chroma.log").open("wb")
    command = ["chroma", "run", "--path", str(folder / "chroma"), "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=log)
    process.port = port  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/api/v2/heartbeat")
                if connection.getresponse().status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"chroma run did not start: see {folder / 'chroma.log'}")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(20)
        log.close()


class Setup:
    """One set-up: its instances' settings and cores, and where its votes are stored."""

    def __init__(self, name: str, data_dirs: list[Path], cores: list[str], env: dict) -> None:
        self.name, self.data_dirs, self.cores, self.env = name, data_dirs, cores, env

    @property
    def database(self) -> Path | str:
        return self.env.get("PARLEY_DATABASE_URL") or self.data_dirs[0] / "parley.db"


async def index(settings: Settings) -> None:
    knowledge = open_knowledge(settings)
    try:
        await asyncio.to_thread(knowledge.index, [HANDBOOK])
    finally:
        knowledge.close()


# --- CPU time per class of process -------------------------------------------------------


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # the fields after the command's name


def own_seconds(pid: int) -> float:
    """The process's own CPU time (user + system, all its threads)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def tree_seconds(pid: int) -> float:
    """CPU time of the process and every descendant, live or ended: each live process's
    own time plus that of the children it has reaped (which are no longer listed)."""
    total, waiting = 0.0, [pid]
    while waiting:
        current = waiting.pop()
        with contextlib.suppress(OSError, ValueError):
            fields = _stat(current)
            total += sum(int(f) for f in fields[11:15]) / _TICKS
            for task in Path(f"/proc/{current}/task").iterdir():
                waiting += [int(c) for c in (task / "children").read_text().split()]
    return total


class CpuMeter:
    """CPU-seconds of named classes of processes; ``take`` returns those spent since the
    last ``take`` (or the start). Each class is a function giving its seconds so far."""

    def __init__(self, classes: dict[str, Callable[[], float]]) -> None:
        self.classes = classes
        self._last = self._now()

    def _now(self) -> dict[str, float]:
        return {name: seconds() for name, seconds in self.classes.items()}

    def take(self) -> dict[str, float]:
        now = self._now()
        # a class's total can shrink by a few ms when one of its processes ends unreaped
        spent = {name: round(max(now[name] - self._last.get(name, 0.0), 0.0), 2) for name in now}
        self._last = now
        return spent


def postmaster_pid(cluster_folder: Path) -> int:
    return int((cluster_folder / "data" / "postmaster.pid").read_text().split()[0])
