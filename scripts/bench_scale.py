"""Scale-out through the Slack HTTP endpoint: one SQLite instance, one PostgreSQL-backed
instance and two of them behind a round-robin, side by side in one run; then kill -9
one of two in the middle of the load.

    python scripts/bench_scale.py [--questions 150] [--in-flight 50] [--clicks 3000]
                                  [--users 300] [--window 100] [--no-kill] [--json]

Every instance is ``parley slack --http`` in its own process (``bench_slack.py``'s
``parley_slack``) with the two offline answerers, on the sample handbook indexed with
the real embedder; the fake Slack Web API, the round-robin balancer (a new connection per
request; a refused one goes to the next instance) and Chroma each run in a process of
their own (``scale_harness.py``). The load is ``load_test.py``'s, from many users:

1. questions: signed ``app_mention`` events, ``--in-flight`` of them in flight until
   answered: answers/s (answered / wall time), ack and answer p50/p99;
2. mixed clicks: ``--clicks`` vote clicks from ``--users`` users on the battles (one in
   ten a double click), with thumbs on the single answers and a ``/leaderboard`` read
   (which draws the chart) every 50 clicks mixed in, ``--window`` requests outstanding;
3. votes only: as many vote clicks again from other users, nothing else mixed in: the
   capacity of the vote path, undiluted by the thumbs' and charts' CPU.

A click's payload carries the battle's message as Slack holds it (its own ts, text and
blocks). Votes/s = distinct votes confirmed (the "Vote recorded" ephemeral reached
Slack, which is sent after the commit) per second from the first click to the last
confirmation. For each phase the CPU time of every class of process is read from /proc
(instances, their worker processes, PostgreSQL, Chroma, the fake Slack, the balancer,
this load generator) and reported per answer or per vote, so a figure says how much of
the two cores went to the harness. The ledger (``tests/reliability/ledger.py``) checks
every confirmed vote is stored with its choice, pair counts equal a recount.

Set-ups, each on a fresh arena (a new data folder, or a new PostgreSQL schema with the
handbook indexed into it and its vectors in one Chroma server started here):

- ``sqlite-x1``: one instance on its data folder, pinned to core 0 (``taskset -c 0``);
- ``postgresql-x1``: one instance on PostgreSQL and Chroma, pinned to core 0;
- ``postgresql-x2``: two instances on them, pinned to cores 0 and 1.

PostgreSQL (a throw-away cluster, ``tests/postgres.py``, with its durable defaults),
Chroma, the fake Slack, the balancer and the load generator are not pinned: on a 2-core
machine they share both cores with the instances, which is the honest limit of this
measurement.

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
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import aiohttp
from bench_slack import event_body, free_port, parley_slack, wait_until  # first: sys.path
from load_test import CHANNEL, Client, latency
from scale_harness import (
    Balancer,
    CpuMeter,
    Fakes,
    Setup,
    chroma_server,
    index,
    own_seconds,
    postmaster_pid,
    tree_seconds,
)

from bot.config import Settings
from tests.fakes.slack_api import TEAM
from tests.postgres import throwaway_cluster
from tests.reliability.clicks import (
    Posted,
    buttons,
    click_body,
    confirmations,
    plan_clicks,
    vote_body,
)
from tests.reliability.ledger import check_votes

LEADERBOARD_EVERY = 50  # one /leaderboard read per this many clicks
EVENT_DELIVERIES = 4  # Slack delivers a failed event again, up to three more times
RETRY_AFTER = 1.0  # seconds before a failed event is delivered again (Slack waits longer)


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
    battles: dict[int, Posted],
    thumbs: list[tuple[Posted, str]],
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
            message, value = thumbs[n % len(thumbs)]
            user = f"UT{n % users:04d}"
            load.append(("thumb", click_body(user, CHANNEL, message, "parley_thumb_up", value)))
        if n % LEADERBOARD_EVERY == 0:
            load.append(("leaderboard", leaderboard_body(f"UB{n % users:04d}", response_url)))
    return load, wanted, carries


async def vote_phase(
    client: Client,
    fakes: Fakes,
    battles: dict[int, Posted],
    load: list[tuple[str, str]],
    carries: dict[str, tuple[int, str]],
    window: int,
) -> dict:
    """Send ``load`` and wait for every vote in it to be confirmed: votes/s (distinct
    votes confirmed per second from the first click to the last confirmation), click
    acknowledgement and vote confirmation latency."""
    wanted = set(carries.values())
    client.acks.clear()
    edits = len(fakes.seen("/api/chat.update"))
    clicked = await click_all(client, load, window)

    def confirmed() -> dict[tuple[int, str], float]:
        return {k: t for k, t in confirmations(fakes, battles).items() if k in wanted}

    await wait_until(lambda: len(confirmed()) >= len(wanted), 120, "the confirmations", 0.5)
    shown = confirmed()
    first_click = min(clicked["sent"].values())
    by_vote = {carries[b]: t for b, t in clicked["sent"].items() if b in carries}
    return {
        "votes": len(shown),
        "votes_per_s": round(len(shown) / (max(shown.values()) - first_click), 1),
        "click_ack_ms": latency(client.acks),
        "vote_confirmed_ms": latency([(t - by_vote[k]) * 1000 for k, t in shown.items()]),
        "reveal_edits": len(fakes.seen("/api/chat.update")) - edits,  # coalesced per battle
        "thumbs": sum(kind == "thumb" for kind, _ in load),
        "leaderboard_reads": sum(kind == "leaderboard" for kind, _ in load),
    }


def per_unit(spent: dict[str, float], units: int) -> dict[str, float]:
    """CPU milliseconds per answer (or vote), by class of process, and in all."""
    out = {name: round(seconds * 1000 / max(units, 1), 2) for name, seconds in spent.items()}
    out["all"] = round(sum(spent.values()) * 1000 / max(units, 1), 2)
    return out


def cpu_classes(setup: Setup, bots: list, balancer: Balancer, fakes: Fakes, servers) -> dict:
    """The classes of process a set-up's CPU time is counted in."""
    return {
        "instances": lambda: sum(own_seconds(b.pid) for b in bots),
        "instance workers": lambda: sum(tree_seconds(b.pid) - own_seconds(b.pid) for b in bots),
        "postgresql": lambda: tree_seconds(servers.postmaster) if servers.postmaster else 0.0,
        "chroma": lambda: tree_seconds(servers.chroma),
        "fake slack": lambda: tree_seconds(fakes.process.pid),
        "balancer": lambda: own_seconds(balancer.pid),
        "load generator": lambda: own_seconds(os.getpid()),
    }


async def measure(
    setup: Setup, fakes: Fakes, servers, args: argparse.Namespace, first: int
) -> dict:
    """The questions, the mixed clicks, the votes alone, through the balancer; with
    ``args.kill``, a kill. The CPU time of every class of process in each phase."""
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
        stack.callback(balancer.close)
        connector = aiohttp.TCPConnector(limit=0)
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
            meter = CpuMeter(cpu_classes(setup, bots, balancer, fakes, servers))
            asked = await ask_all(
                client, fakes, range(first, first + args.questions), args.in_flight, 600
            )
            spent = meter.take()
            result["answers"] = len(asked["answered"])
            result["answers_per_s"] = round(len(asked["answered"]) / asked["seconds"], 2)
            result["question_ack_ms"] = latency(client.acks)
            result["answer_ms"] = asked["answer_ms"]
            result["cpu_s_questions"] = spent
            result["cpu_ms_per_answer"] = per_unit(spent, len(asked["answered"]))
            messages = fakes.process.messages(CHANNEL)
            battles, thumbs = buttons([m for m in messages if m.get("thread_ts") in asked["sent"]])
            response_url = fakes.process.api_url.replace("/api/", "/response/1")
            load, wanted, carries = plan_load(
                battles, thumbs, args.clicks, args.users, first, response_url
            )
            meter.take()
            result["mixed"] = await vote_phase(client, fakes, battles, load, carries, args.window)
            result["mixed"]["cpu_ms_per_vote"] = per_unit(meter.take(), result["mixed"]["votes"])
            alone = plan_clicks(battles, args.clicks, args.users, seed=first + 2, voters="UV")
            wanted |= {(b, u): c for b, u, c, _ in alone}
            bodies = [("vote", vote_body(v, CHANNEL)) for v in alone]
            carries = {body: (v[0], v[1]) for (_, body), v in zip(bodies, alone, strict=True)}
            meter.take()
            result["votes_only"] = await vote_phase(
                client, fakes, battles, bodies, carries, args.window
            )
            spent = meter.take()
            result["votes_only"]["cpu_s"] = spent
            result["votes_only"]["cpu_ms_per_vote"] = per_unit(spent, len(set(carries.values())))
            result["errors"] = len(client.errors)
            if args.kill and len(bots) > 1:
                result["kill"] = await kill_one(
                    bots[1], client, fakes, balancer, battles, wanted, args, first
                )
                wanted = result["kill"].pop("wanted")
    confirmed = confirmations(fakes, battles)
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
    # new voters: a changed vote whose click failed would leave the old choice
    more = plan_clicks(battles, args.clicks, args.users, seed=first + 1, voters="UK")
    wanted = {**wanted, **{(b, u): c for b, u, c, _ in more}}
    bodies = [("vote", vote_body(v, CHANNEL)) for v in more]
    client.errors.clear()
    asking = asyncio.create_task(ask_all(client, fakes, numbers, args.in_flight, 120))
    clicking = asyncio.create_task(click_all(client, bodies, args.window))
    await wait_until(
        lambda: sum(r is not None for r in balancer.routed(question_bodies)) >= len(numbers) // 3,
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
    routes = balancer.routed([event_body(int(ts.split(".")[1]))[1].encode() for ts in unanswered])
    holders = dict(zip(unanswered, routes, strict=True))
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
    with throwaway_cluster(durable=True) as cluster, chroma_server(folder) as chroma:
        chroma_port = chroma.port
        servers = SimpleNamespace(postmaster=postmaster_pid(cluster.folder), chroma=chroma.pid)
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
                # a fake Slack of its own: one that remembered the earlier set-ups'
                # requests would spend more CPU on each look at them
                fakes = Fakes()
                stack.callback(fakes.process.close)
                figures = await measure(setup, fakes, servers, args, 1000 * (n + 1) * 10)
                figures["load_average_1min"] = [round(load, 1), round(os.getloadavg()[0], 1)]
                results.append(figures)
                print(json.dumps(figures), flush=True)
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
