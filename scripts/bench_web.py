"""Dashboard speed: the leaderboard page over a million stored battles and 200 models,
and 50 viewers while votes arrive at 200 a second.

    python scripts/bench_web.py --data-dir /tmp/web1m [--models 200] [--battles 1000000]
        [--requests 200] [--viewers 50] [--rate 200] [--seconds 30] [--json]

On first use the data directory is filled: ``--battles`` simulated battles through the
bulk path (``scripts/simulate_votes.py``'s simulation, constant ties) and 2,000 live
battles between the same models to vote on. ``parley web`` then runs as its own process
on 127.0.0.1, as it would beside ``parley slack``.

Warm page: one request fits the board (its time is reported), then ``--requests``
sequential requests of each of ``/``, ``/?style=1`` and the live fragment htmx polls.
Server time is the Server-Timing header (request in to response out, in the server);
wall time is the client's.

Viewers and votes: a voter process casts ``--rate`` votes a second through
``Service.vote`` on the same database for ``--seconds``, first alone (its usual
latencies), then while ``--viewers`` viewers each sign in, load the board and ask again
every second (the board, the style-controlled board or the fragment, at random: five
times as often as the page's own poll). The viewers run in a process of their own at a
lower priority (they stand for browsers on other machines). Votes keep changing the
board, so the dashboard refits whenever its interval allows. Reported: viewers' server
and wall p50 and p99, each phase's vote latencies with the share of votes under viewers
slower than the lone run's p99, and the dashboard's CPU time in each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from figures import cpu_seconds, percentile

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
LIVE_BATTLES = 2000
LIVE_CHANNEL = "bench-live"
LIVE_FILE = "bench-web-battles.json"  # the live battles' ids, for the voter


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1) if values else float("nan"),
    }


def settings(data_dir: Path, **extra: object):
    from bot.config import Settings

    return Settings(data_dir=data_dir, **extra)


async def fill(data_dir: Path, models: int, battles: int) -> None:
    """Simulated battles, then live battles to vote on; skipped when already there."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from simulate_votes import simulate

    from arena.store import Store
    from arena.types import Answer

    marker = data_dir / f"bench-web-{models}-{battles}.done"
    if marker.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    store = await Store.open(data_dir / "parley.db")
    try:
        started = time.perf_counter()
        _, records = simulate(models, battles, 0.1, seed=0)
        await store.bulk_record_battles(records)
        print(f"stored {battles:,} battles in {time.perf_counter() - started:.1f} s", flush=True)
        rng = random.Random(0)
        live = []
        for n in range(LIVE_BATTLES):
            left, right = (f"model-{m:03d}" for m in rng.sample(range(models), 2))
            question = await store.record_question(
                platform="bench",
                channel=LIVE_CHANNEL,
                user="seed",
                thread=None,
                text=f"Live question {n}?",
                hits=[],
            )
            ids = [
                await store.record_answer(question, Answer(m, text=f"{m} says {n}."))
                for m in (left, right)
            ]
            live.append(await store.record_battle(question, *ids))
        (data_dir / LIVE_FILE).write_text(json.dumps(live))
    finally:
        await store.close()
    marker.write_text("filled\n")


async def voter(data_dir: Path, rate: float, seconds: float, phase: str) -> list[float]:
    """Votes at ``rate`` a second for ``seconds``; each vote's latency in ms."""
    from bot.runtime import open_service

    battles = json.loads((data_dir / LIVE_FILE).read_text())
    async with open_service(settings(data_dir)) as service:
        latencies: list[float] = []

        async def one(n: int) -> None:
            started = time.perf_counter()
            await service.vote(
                battles[n % len(battles)],
                f"{phase}-{n}",
                random.choice(("a", "b", "tie")),
                platform="bench",
                channel=LIVE_CHANNEL,
            )
            latencies.append((time.perf_counter() - started) * 1000)

        start = time.perf_counter()
        tasks = []
        for n in range(int(rate * seconds)):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
        return latencies


def start_web(data_dir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_WEB_TOKEN": TOKEN,
        "PARLEY_WEB_PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-c", "from bot.cli import main; main()", "web"]
    web = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return web
        except OSError:
            time.sleep(0.1)
    web.kill()
    raise RuntimeError("parley web did not start")


async def signed_client(base: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base, timeout=120)
    form = await client.get("/login")
    csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    await client.post("/login", data={"csrf": csrf, "token": TOKEN, "next": "/"})
    return client


async def timed(client: httpx.AsyncClient, path: str) -> tuple[float, float]:
    """(server ms, wall ms) of one GET."""
    started = time.perf_counter()
    response = await client.get(path)
    wall = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return float(response.headers["server-timing"].split("dur=")[1]), wall


async def warm_page(base: str, requests: int) -> dict:
    client = await signed_client(base)
    try:
        first = await timed(client, "/")
        figures: dict = {"first_request_ms": {"server": first[0], "wall": round(first[1], 1)}}
        for path in ("/", "/?style=1", "/?fragment=1"):
            server, wall = [], []
            for _ in range(requests):
                s, w = await timed(client, path)
                server.append(s)
                wall.append(w)
            figures[path] = {"server": summary(server), "wall": summary(wall)}
        return figures
    finally:
        await client.aclose()


async def viewers(base: str, count: int, seconds: float) -> dict:
    clients = [await signed_client(base) for _ in range(count)]
    server: list[float] = []
    wall: list[float] = []
    end = time.monotonic() + seconds

    async def view(client: httpx.AsyncClient, n: int) -> None:
        rng = random.Random(n)
        await asyncio.sleep(rng.random())  # viewers arrive spread over a second
        while time.monotonic() < end:
            started = time.monotonic()
            path = rng.choice(["/", "/?style=1", "/?fragment=1", "/?fragment=1"])
            s, w = await timed(client, path)
            server.append(s)
            wall.append(w)
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))

    try:
        await asyncio.gather(*(view(c, n) for n, c in enumerate(clients)))
    finally:
        for client in clients:
            await client.aclose()
    return {"server": summary(server), "wall": summary(wall)}


def run_viewers(args: argparse.Namespace, base: str) -> subprocess.Popen:
    """The viewers in a process of their own, at a lower priority: they stand for
    browsers on other machines, so their own work should not be what slows a vote."""
    command = [
        sys.executable,
        __file__,
        "--viewers-of",
        base,
        "--viewers",
        str(args.viewers),
        "--seconds",
        str(args.seconds),
        "--data-dir",
        str(args.data_dir),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.nice(10),
    )


def run_voter(args: argparse.Namespace, phase: str) -> subprocess.Popen:
    command = [
        sys.executable,
        __file__,
        "--voter",
        phase,
        "--data-dir",
        str(args.data_dir),
        "--rate",
        str(args.rate),
        "--seconds",
        str(args.seconds),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def voter_result(process: subprocess.Popen) -> list[float]:
    out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError("the voter failed")
    return json.loads(out.strip().splitlines()[-1])


async def bench(args: argparse.Namespace) -> dict:
    from tests.reliability.slack_process import free_port

    await fill(args.data_dir, args.models, args.battles)
    figures: dict = {"load_before": os.getloadavg()}
    port = free_port()
    web = start_web(args.data_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        figures["warm"] = await warm_page(base, args.requests)
        used = cpu_seconds(web.pid)
        alone = voter_result(run_voter(args, f"alone-{time.time():.0f}"))
        figures["web_cpu_s_votes_alone"] = round(cpu_seconds(web.pid) - used, 1)
        used = cpu_seconds(web.pid)
        process = run_voter(args, f"watched-{time.time():.0f}")
        watching = run_viewers(args, base)
        figures["viewers"] = json.loads(watching.communicate()[0].strip().splitlines()[-1])
        watched = voter_result(process)
        figures["web_cpu_s_with_viewers"] = round(cpu_seconds(web.pid) - used, 1)
    finally:
        web.terminate()
        web.wait(30)
    usual = percentile(alone, 99)
    figures["votes_alone_ms"] = summary(alone)
    figures["votes_with_viewers_ms"] = summary(watched)
    figures["votes_slower_than_usual_p99"] = round(
        sum(v > usual for v in watched) / len(watched), 4
    )
    figures["load_after"] = os.getloadavg()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--voter", help=argparse.SUPPRESS)  # the voter process's phase
    parser.add_argument("--viewers-of", help=argparse.SUPPRESS)  # the viewers' server
    args = parser.parse_args()
    if args.voter:
        print(json.dumps(asyncio.run(voter(args.data_dir, args.rate, args.seconds, args.voter))))
        return
    if args.viewers_of:
        print(json.dumps(asyncio.run(viewers(args.viewers_of, args.viewers, args.seconds))))
        return
    figures = asyncio.run(bench(args))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"load average before {figures['load_before']}, after {figures['load_after']}")
    first = figures["warm"]["first_request_ms"]
    print(f"first request (fits the board): server {first['server']:.0f} ms")
    for path in ("/", "/?style=1", "/?fragment=1"):
        row = figures["warm"][path]
        print(
            f"warm {path:<14} server p50 {row['server']['p50']:>6} p99 {row['server']['p99']:>6}"
            f" ms; wall p50 {row['wall']['p50']:>6} p99 {row['wall']['p99']:>6} ms"
        )
    seen = figures["viewers"]
    print(
        f"{args.viewers} viewers at {args.rate:.0f} votes/s: server p50 {seen['server']['p50']}"
        f" p99 {seen['server']['p99']} ms; wall p50 {seen['wall']['p50']}"
        f" p99 {seen['wall']['p99']} ms ({seen['wall']['n']} requests)"
    )
    print(
        f"the dashboard's CPU: {figures['web_cpu_s_votes_alone']} s while votes came alone,"
        f" {figures['web_cpu_s_with_viewers']} s with viewers ({args.seconds:.0f} s each)"
    )
    for label, key in (
        ("votes alone", "votes_alone_ms"),
        ("votes watched", "votes_with_viewers_ms"),
    ):
        row = figures[key]
        print(f"{label}: p50 {row['p50']} p99 {row['p99']} max {row['max']} ms ({row['n']})")
    print(f"watched votes slower than the lone p99: {figures['votes_slower_than_usual_p99']:.1%}")


if __name__ == "__main__":
    main()
