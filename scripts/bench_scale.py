"""Scale-out through the Slack HTTP endpoint: one SQLite instance, one PostgreSQL-backed
instance and two of them behind a round-robin, side by side in one run; then kill -9
one of two in the middle of the load.

    python scripts/bench_scale.py [--questions 150] [--in-flight 50] [--clicks 3000]
                                  [--users 300] [--window 100] [--no-kill] [--json]

Every instance is ``parley slack --http`` in its own process (``bench_slack.py``'s
``parley_slack``) with the two offline answerers, on the sample handbook indexed with
the real embedder; the fake Slack Web API runs in a process of its own
(``bench_slack.FakesProcess``). The load is ``load_test.py``'s, from many users: signed
``app_mention`` questions with ``--in-flight`` of them in flight until answered, then
``--clicks`` vote clicks from ``--users`` users on the battles (one in ten a double
click), with thumbs on the single answers and a ``/leaderboard`` read every 50 clicks
mixed in, ``--window`` requests outstanding at once. Every request goes through a tiny
round-robin load balancer in this process (an instance that refuses the connection is
skipped, as a balancer's health check would), so each set-up pays for the same hop.

Set-ups, each on a fresh arena (a new data folder, or a new PostgreSQL schema with the
handbook indexed into it and its vectors in one Chroma server started here):

- ``sqlite-x1``: one instance on its data folder, pinned to core 0 (``taskset -c 0``);
- ``postgresql-x1``: one instance on PostgreSQL and Chroma, pinned to core 0;
- ``postgresql-x2``: two instances on them, pinned to cores 0 and 1.

PostgreSQL (a throw-away cluster, ``tests/postgres.py``, with its durable defaults),
Chroma and this load generator are not pinned: on a 2-core machine they share both cores
with the instances, which is the honest limit of this measurement. Reported per set-up:
answers/s (questions answered / wall time of the question phase), question ack and
answer p50/p99, votes/s (distinct votes confirmed / time from the first click to the
last confirmation), click ack and vote confirmation p50/p99, thumbs and leaderboard
reads served, errors, and the ledger (``tests/reliability/ledger.py``: every confirmed
vote stored with its choice, pair counts equal to a recount of the stored votes).

The kill phase (unless ``--no-kill``) runs on the two-instance set-up: new questions and
new clicks arrive together, and once a third of the questions are sent the second
instance gets SIGKILL. A request the dead instance was holding fails; as Slack does, the
client delivers a failed event again (through the balancer, to the live instance), and a
user whose click failed clicks again at the end. Reported: questions answered, and any
unanswered question with the instance that had acknowledged it (only the dead one's may
be), and the ledger over every vote confirmed before and after the kill.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from bench_slack import (  # first: it puts the repository on sys.path
    ROOT,
    FakesProcess,
    event_body,
    free_port,
    parley_slack,
    wait_until,
)
from load_test import CHANNEL, Client, latency

from bot.config import Settings
from bot.runtime import open_knowledge
from tests.fakes.slack_api import TEAM
from tests.postgres import throwaway_cluster
from tests.reliability.clicks import click_body, confirmations, plan_clicks, vote_body
from tests.reliability.ledger import check_votes

HANDBOOK = ROOT / "examples" / "handbook"
LEADERBOARD_EVERY = 50  # one /leaderboard read per this many clicks
EVENT_DELIVERIES = 4  # Slack delivers a failed event again, up to three more times
RETRY_AFTER = 1.0  # seconds before a failed event is delivered again (Slack waits longer)


class Balancer:
    """Round-robin over the instances' URLs; a refused connection moves on to the next
    instance. A new connection per request, as nginx makes to its upstreams by default
    (a kept-alive one to a dead instance would fail the request instead of being
    refused). ``routed`` remembers which instance acknowledged each request body."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.routed: dict[bytes, int] = {}
        self._turn = itertools.count()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        self._session = aiohttp.ClientSession(connector=connector)
        app = web.Application()
        app.router.add_post("/slack/events", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/slack/events"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        wanted = ("content-type", "x-slack-request-timestamp", "x-slack-signature")
        headers = {k: v for k, v in request.headers.items() if k.lower() in wanted}
        start = next(self._turn)  # then each other instance once, in order
        for step in range(len(self.backends)):
            chosen = (start + step) % len(self.backends)
            try:
                async with self._session.post(
                    self.backends[chosen], data=body, headers=headers
                ) as reply:
                    payload = await reply.read()
                    if reply.status == 200:
                        self.routed[body] = chosen
                    return web.Response(status=reply.status, body=payload)
            except aiohttp.ClientConnectorError:  # refused: that instance is down, next
                continue
            except aiohttp.ClientError:  # it died holding the request
                return web.Response(status=502)
        return web.Response(status=502)


class Fakes:
    """The fake Slack in its process, read as ``FakeServer.seen`` reads."""

    def __init__(self) -> None:
        self.process = FakesProcess("offline", 0.0, 1)

    def seen(self, path: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(query=q, body=b, at=at) for q, b, at in self.process.seen(path)]

    def posted(self) -> list[tuple[dict, float]]:
        """Every chat.postMessage body with when it reached Slack."""
        return [(b, at) for _, b, at in self.process.seen("/api/chat.postMessage")]


def buttons(
    posted: list[tuple[dict, float]], threads: set[str]
) -> tuple[dict[int, str], list[tuple[str, str]]]:
    """Battle id -> its thread, and (thread, thumb value) of every single answer, among
    the answers to the questions in ``threads``."""
    battles: dict[int, str] = {}
    thumbs: list[tuple[str, str]] = []
    for body, _ in posted:
        if body.get("thread_ts") not in threads:
            continue
        for block in body.get("blocks") or []:
            for element in block.get("elements", []):
                action = str(element.get("action_id", ""))
                if action.startswith("parley_vote_"):
                    battles[int(element["value"])] = body["thread_ts"]
                elif action == "parley_thumb_up":
                    thumbs.append((body["thread_ts"], element["value"]))
    return battles, thumbs


def leaderboard_body(user: str, response_url: str) -> str:
    return urlencode(
        {
            "command": "/leaderboard",
            "text": "",
            "user_id": user,
            "channel_id": CHANNEL,
            "team_id": TEAM,
            "trigger_id": "trig",
            "response_url": response_url,
        }
    )


async def ask_all(
    client: Client, fakes: Fakes, numbers: range, in_flight: int, answer_timeout: float
) -> dict:
    """Questions ``numbers``, ``in_flight`` at a time until answered; a failed delivery
    is delivered again, as Slack does."""
    gate = asyncio.Semaphore(in_flight)
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    waiting: dict[str, asyncio.Event] = {}
    seen = len(fakes.posted())
    deliveries_failed = 0

    async def watch() -> None:
        nonlocal seen
        while True:
            new = fakes.process.seen("/api/chat.postMessage", since=seen)
            seen += len(new)
            for _, body, at in new:
                thread = body.get("thread_ts")
                answered.setdefault(thread, at)
                waiting.setdefault(thread, asyncio.Event()).set()
            await asyncio.sleep(0.05)

    async def ask(n: int) -> None:
        nonlocal deliveries_failed
        ts, body = event_body(n)
        async with gate:
            sent[ts] = time.monotonic()
            for _ in range(EVENT_DELIVERIES):
                if await client.send(body, "application/json"):
                    break
                deliveries_failed += 1
                await asyncio.sleep(RETRY_AFTER)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    waiting.setdefault(ts, asyncio.Event()).wait(), answer_timeout
                )

    watcher = asyncio.create_task(watch())
    started = time.monotonic()
    await asyncio.gather(*(ask(n) for n in numbers))
    wall = time.monotonic() - started
    await asyncio.sleep(0.2)
    watcher.cancel()
    times = [(answered[ts] - t) * 1000 for ts, t in sent.items() if ts in answered]
    return {
        "sent": sent,
        "answered": {ts: answered[ts] for ts in sent if ts in answered},
        "seconds": wall,
        "answer_ms": latency(times),
        "deliveries_failed": deliveries_failed,
    }


async def click_all(client: Client, bodies: list[tuple[str, str]], window: int) -> dict:
    """Send form bodies, ``window`` outstanding at once; when each was sent and which
    failed."""
    gate = asyncio.Semaphore(window)
    sent: dict[str, float] = {}
    failed: list[str] = []

    async def one(body: str) -> None:
        async with gate:
            sent.setdefault(body, time.monotonic())
            if not await client.send(body, "application/x-www-form-urlencoded"):
                failed.append(body)

    await asyncio.gather(*(one(b) for _, b in bodies))
    return {"sent": sent, "failed": failed}


def plan_load(
    battles: dict[int, str],
    thumbs: list[tuple[str, str]],
    clicks: int,
    users: int,
    seed: int,
    response_url: str,
) -> tuple[list[tuple[str, str]], dict[tuple[int, str], str], dict[str, tuple[int, str]]]:
    """The mixed clicks as (kind, body), the choice of each distinct vote, and which vote
    each vote body carries."""
    votes = plan_clicks(battles, clicks, users, seed=seed)
    wanted = {(b, u): c for b, u, c, _ in votes}
    carries = {vote_body(v, CHANNEL): (v[0], v[1]) for v in votes}
    load: list[tuple[str, str]] = []
    for n, vote in enumerate(votes):
        load.append(("vote", vote_body(vote, CHANNEL)))
        if thumbs and n % 4 == 0:
            thread, value = thumbs[n % len(thumbs)]
            user = f"UT{n % users:04d}"
            load.append(("thumb", click_body(user, CHANNEL, thread, "parley_thumb_up", value)))
        if n % LEADERBOARD_EVERY == 0:
            load.append(("leaderboard", leaderboard_body(f"UB{n % users:04d}", response_url)))
    return load, wanted, carries


@contextlib.contextmanager
def chroma_server(folder: Path):
    """``chroma run`` on loopback; yields its port."""
    port = free_port()
    log = (folder / "chroma.log").open("wb")
    command = ["chroma", "run", "--path", str(folder / "chroma"), "--host", "127.0.0.1"]
    process = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                import http.client

                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/api/v2/heartbeat")
                if connection.getresponse().status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"chroma run did not start: see {folder / 'chroma.log'}")
            time.sleep(0.2)
        yield port
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


async def measure(setup: Setup, fakes: Fakes, args: argparse.Namespace, first: int) -> dict:
    """The questions, then the clicks, through the balancer; with ``args.kill``, a kill."""
    ports = [free_port() for _ in setup.cores]
    result: dict = {"setup": setup.name, "cores": setup.cores}
    with contextlib.ExitStack() as stack:
        bots = [
            stack.enter_context(
                parley_slack(d, fakes.process.api_url, p, [], 0.5, settings=setup.env, cpus=c)
            )
            for d, p, c in zip(setup.data_dirs, ports, setup.cores, strict=True)
        ]
        balancer = Balancer([f"http://127.0.0.1:{p}/slack/events" for p in ports])
        await balancer.start()
        connector = aiohttp.TCPConnector(limit=0)
        try:
            async with aiohttp.ClientSession(connector=connector) as session:
                before = len(fakes.posted())
                for n, port in enumerate(ports):  # each instance up and warm (model loaded)
                    direct = Client(session, f"http://127.0.0.1:{port}/slack/events")
                    await direct.up()
                    await direct.send(event_body(first - n - 1)[1], "application/json")
                await wait_until(
                    lambda: len(fakes.posted()) >= before + len(ports), 240, "warm-ups", 0.5
                )
                client = Client(session, balancer.url)
                asked = await ask_all(
                    client, fakes, range(first, first + args.questions), args.in_flight, 600
                )
                result["answers"] = len(asked["answered"])
                result["answers_per_s"] = round(len(asked["answered"]) / asked["seconds"], 2)
                result["question_ack_ms"] = latency(client.acks)
                result["answer_ms"] = asked["answer_ms"]
                battles, thumbs = buttons(fakes.posted(), set(asked["sent"]))
                response_url = fakes.process.api_url.replace("/api/", "/response/1")
                load, wanted, carries = plan_load(
                    battles, thumbs, args.clicks, args.users, first, response_url
                )
                client.acks.clear()
                clicked = await click_all(client, load, args.window)
                await wait_until(
                    lambda: len(confirmations(fakes, battles)) >= len(wanted),
                    120,
                    "the vote confirmations",
                    0.5,
                )
                confirmed = confirmations(fakes, battles)
                first_click = min(clicked["sent"].values())
                result["votes"] = len(confirmed)
                result["votes_per_s"] = round(
                    len(confirmed) / (max(confirmed.values()) - first_click), 1
                )
                result["click_ack_ms"] = latency(client.acks)
                by_vote = {carries[b]: t for b, t in clicked["sent"].items() if b in carries}
                result["vote_confirmed_ms"] = latency(
                    [(t - by_vote[k]) * 1000 for k, t in confirmed.items() if k in by_vote]
                )
                result["thumbs"] = sum(kind == "thumb" for kind, _ in load)
                result["leaderboard_reads"] = sum(kind == "leaderboard" for kind, _ in load)
                result["errors"] = len(client.errors)
                if args.kill and len(bots) > 1:
                    result["kill"] = await kill_one(
                        bots[1], client, fakes, balancer, battles, wanted, args, first
                    )
                    confirmed = confirmations(fakes, battles)
                    wanted = result["kill"].pop("wanted")
        finally:
            await balancer.close()
    ledger = check_votes(setup.database, {k: wanted[k] for k in confirmed})
    result["votes_in_store"] = ledger.votes
    result["ledger"] = ledger.problems or "ok"
    return result


async def settled(count, quiet: float = 3.0, limit: float = 60.0) -> None:
    """Wait until ``count()`` has not changed for ``quiet`` seconds (at most ``limit``)."""
    deadline = time.monotonic() + limit
    last, since = count(), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if (now := count()) != last:
            last, since = now, time.monotonic()


async def kill_one(bot, client, fakes, balancer, battles, wanted, args, first) -> dict:
    """New questions and new clicks together; SIGKILL ``bot`` a third of the way in."""
    numbers = range(first + 5_000, first + 5_000 + args.questions)
    question_bodies = [event_body(n)[1].encode() for n in numbers]
    more = [  # new voters: a changed vote whose click failed would leave the old choice
        c
        for c in plan_clicks(battles, args.clicks, args.users, seed=first + 1)
        if (c[0], c[1]) not in wanted
    ]
    wanted = {**wanted, **{(b, u): c for b, u, c, _ in more}}
    bodies = [("vote", vote_body(v, CHANNEL)) for v in more]
    client.errors.clear()
    asking = asyncio.create_task(ask_all(client, fakes, numbers, args.in_flight, 120))
    clicking = asyncio.create_task(click_all(client, bodies, args.window))
    await wait_until(
        lambda: sum(b in balancer.routed for b in question_bodies) >= len(numbers) // 3,
        600,
        "a third of the questions",
        0.1,
    )
    bot.kill()  # SIGKILL: no handler, no flush, no goodbye
    bot.wait()
    killed_at = time.monotonic()  # the fake Slack's clock too (CLOCK_MONOTONIC)
    clicked = await clicking
    asked = await asking
    failed_during = Counter(client.errors)
    client.errors.clear()
    # a click the dead instance acknowledged but never confirmed shows its user nothing,
    # so, as with a failed click, the user clicks again once the confirmations settle
    await settled(lambda: len(confirmations(fakes, battles)))
    shown = confirmations(fakes, battles)
    unconfirmed = [body for (_, body), c in zip(bodies, more, strict=True) if c[:2] not in shown]
    retry = list(dict.fromkeys([*clicked["failed"], *unconfirmed]))
    retried = await click_all(client, [("vote", b) for b in retry], args.window)
    await wait_until(
        lambda: len(confirmations(fakes, battles)) >= len(wanted) or retried["failed"],
        120,
        "the confirmations after the kill",
        0.5,
    )
    unanswered = [ts for ts in asked["sent"] if ts not in asked["answered"]]
    holders = {
        ts: balancer.routed.get(event_body(int(ts.split(".")[1]))[1].encode()) for ts in unanswered
    }
    return {
        "questions": len(numbers),
        "answered": len(asked["answered"]),
        "unanswered_acked_by": {
            ts: "none" if h is None else f"instance {h + 1}" for ts, h in holders.items()
        },
        "event_deliveries_failed": asked["deliveries_failed"],
        "requests_failed_during_kill": dict(failed_during),
        "requests_failed_after": dict(Counter(client.errors)),
        "clicks_sent_again": len(retry),
        "clicks_failed_after_retry": len(retried["failed"]),
        "answered_after_kill": sum(at > killed_at for at in asked["answered"].values()),
        "wanted": wanted,
    }


async def run(args: argparse.Namespace, folder: Path) -> list[dict]:
    results = []
    with throwaway_cluster(durable=True) as cluster, chroma_server(folder) as chroma_port:
        fakes = Fakes()
        try:
            template = folder / "sqlite-template"
            await index(Settings(data_dir=template))
            plans = [
                ("sqlite-x1", 1, False),
                ("postgresql-x1", 1, True),
                ("postgresql-x2", 2, True),
            ]
            for n, (name, count, on_server) in enumerate(plans):
                if name not in args.setups.split(","):
                    continue
                with contextlib.ExitStack() as stack:
                    dirs = [folder / f"setup{n}-{i}" for i in range(count)]
                    env: dict[str, str] = {}
                    if on_server:
                        for made in dirs:
                            made.mkdir()
                        url = stack.enter_context(cluster.schema())
                        env = {
                            "PARLEY_DATABASE_URL": url,
                            "PARLEY_CHROMA_HOST": "127.0.0.1",
                            "PARLEY_CHROMA_PORT": str(chroma_port),
                        }
                        await index(
                            Settings(
                                data_dir=dirs[0],
                                database_url=url,
                                chroma_host="127.0.0.1",
                                chroma_port=chroma_port,
                            )
                        )
                    else:  # the handbook indexed once, copied
                        shutil.copytree(template, dirs[0])
                    setup = Setup(name, dirs, [str(i) for i in range(count)], env)
                    load = os.getloadavg()[0]
                    figures = await measure(setup, fakes, args, first=1000 * (n + 1) * 10)
                    figures["load_average_1min"] = [round(load, 1), round(os.getloadavg()[0], 1)]
                    results.append(figures)
                    print(json.dumps(figures), flush=True)
        finally:
            fakes.process.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=150)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--clicks", type=int, default=3000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--window", type=int, default=100, help="Clicks outstanding at once.")
    parser.add_argument("--no-kill", dest="kill", action="store_false")
    parser.add_argument(
        "--setups",
        default="sqlite-x1,postgresql-x1,postgresql-x2",
        help="Which set-ups to run, comma-separated (the kill runs on postgresql-x2).",
    )
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(run(args, Path(tmp)))
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
