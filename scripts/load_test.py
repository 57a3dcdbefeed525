"""Load and kill -9 through the Slack HTTP endpoint, then proof from the store that no
acknowledged vote was lost or counted twice.

    python scripts/load_test.py [--questions 200] [--clicks 2000] [--users 300]
                                [--burst 100] [--kill | --rounds N] [--json]

``parley slack --http`` runs in its own process (``scripts/bench_slack.py``'s helpers:
the sample handbook indexed with the real embedder, the offline answerers, the fake
Slack Web API of ``tests/fakes/slack_api.py`` in this process) with ``battle_share`` 1,
so every answer is a live battle. Phase 1 sends ``--questions`` signed mentions all in
flight at once. Phase 2 clicks vote buttons on those battles: ``--clicks`` signed
``block_actions`` from ``--users`` users in bursts of ``--burst`` sent together; one
click in ten repeats an earlier click (an impatient double click), which must not count
twice. A click is *acknowledged* to its user when the ephemeral "Vote recorded" reaches
Slack, which happens only after the vote's transaction committed (the HTTP 200 only says
the click arrived). Reported: answers delivered, acknowledgement (HTTP) and answer or
confirmation latency p50/p99, errors, the bot's RSS after warm-up and at the end. Then
``tests/reliability/ledger.py`` checks the database: every acknowledged vote stored with
its choice, ``pair_counts`` equal to a recount of the raw votes, and the ratings fitted
from both equal.

``--kill`` sends the bot SIGKILL halfway through the clicks, restarts it on the same
data directory, checks the ledger against the votes acknowledged before the kill, then
sends every click not acknowledged again and checks once more (each vote exactly once).
Requests refused while the bot is down are reported apart from ``errors``; ``rss_mb_end``
is then the restarted process's. ``--rounds N`` repeats both phases on new questions and
reports the RSS after each round (growth round on round would be a leak); the latencies
are the first round's, the ledger covers every round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from bench_slack import (  # first: it puts the repository on sys.path
    ROOT,
    SECRET,
    event_body,
    free_port,
    parley_slack,
    signed,
    wait_until,
)
from figures import percentile
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.runtime import open_knowledge
from tests.fakes.http_server import FakeServer
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.reliability.clicks import (
    Click,
    Posted,
    buttons,
    confirmations,
    plan_clicks,
    vote_body,
)
from tests.reliability.ledger import check_votes

CHANNEL = "CBENCH"  # where bench_slack's events ask


def rss_mb(pid: int) -> float:
    """The process's resident memory, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def battles_posted(slack: FakeSlack) -> dict[int, Posted]:
    """Battle id -> its message, from the vote buttons of every posted battle."""
    return buttons(slack.messages(CHANNEL))[0]


class Client:
    """Signed requests to the bot, with their HTTP acknowledgement times."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url
        self.verifier = SignatureVerifier(SECRET)
        self.acks: list[float] = []
        self.errors: list[str] = []

    async def send(self, body: str, content_type: str) -> bool:
        headers = {**signed(body, self.verifier), "content-type": content_type}
        started = time.monotonic()
        try:
            async with self.session.post(self.url, data=body, headers=headers) as response:
                if response.status != 200:
                    self.errors.append(f"HTTP {response.status}")
                    return False
        except aiohttp.ClientError as exc:
            self.errors.append(type(exc).__name__)
            return False
        self.acks.append((time.monotonic() - started) * 1000)
        return True

    async def up(self, timeout: float = 120) -> None:
        """Wait until the bot answers HTTP (a bot's own message: ignored by Parley)."""
        probe = {"type": "message", "bot_id": "B0", "channel": CHANNEL, "ts": "1.1"}
        body = json.dumps({"type": "event_callback", "team_id": TEAM, "event": probe})
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with self.session.post(
                    self.url, data=body, headers=signed(body, self.verifier)
                ) as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise SystemExit("the bot did not come up")
            await asyncio.sleep(0.2)


async def click_in_bursts(
    client: Client, clicks: list[Click], burst: int, sent: dict[tuple[int, str], float]
) -> list[Click]:
    """Send ``clicks`` ``burst`` at a time; the ones whose HTTP request failed."""
    failed: list[Click] = []

    async def one(click: Click) -> None:
        sent.setdefault((click[0], click[1]), time.monotonic())
        if not await client.send(vote_body(click, CHANNEL), "application/x-www-form-urlencoded"):
            failed.append(click)

    for start in range(0, len(clicks), burst):
        await asyncio.gather(*(one(c) for c in clicks[start : start + burst]))
        await asyncio.sleep(0.1)  # a breath between bursts
    return failed


def latency(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan")}
    return {"p50": round(percentile(values, 50), 1), "p99": round(percentile(values, 99), 1)}


async def run(args: argparse.Namespace, data_dir: Path) -> dict:
    knowledge = open_knowledge(Settings(data_dir=data_dir))
    await asyncio.to_thread(knowledge.index, [ROOT / "examples" / "handbook"])
    knowledge.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    result: dict = {"questions": args.questions, "clicks": args.clicks, "users": args.users}
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(FakeServer())
        slack = FakeSlack(server)
        bot = stack.enter_context(parley_slack(data_dir, slack.api_url, port, [], 1))
        connector = aiohttp.TCPConnector(limit=max(args.questions, args.burst))
        async with aiohttp.ClientSession(connector=connector) as session:
            client = Client(session, url)
            await client.up()
            # warm-up: one answered question loads the embedder and the answerers
            _, body = event_body(0)
            await client.send(body, "application/json")
            await wait_until(lambda: len(battles_posted(slack)) >= 1, 180, "the warm-up")
            client.acks.clear()
            result["rss_mb_start"] = rss_mb(bot.pid)

            # phase 1: every question in flight at once
            asked = {}
            started = time.monotonic()

            async def ask(n: int) -> None:
                ts, body = event_body(n)
                asked[ts] = time.monotonic()
                await client.send(body, "application/json")

            await asyncio.gather(*(ask(n) for n in range(1, args.questions + 1)))
            await wait_until(
                lambda: len(battles_posted(slack)) >= args.questions + 1,
                60 + 3 * args.questions,
                "the answers",
            )
            battles = battles_posted(slack)
            posted = {}
            for request in server.seen("/api/chat.postMessage"):
                body = request.body if isinstance(request.body, dict) else {}
                posted.setdefault(body.get("thread_ts"), request.at)
            answer_ms = [(posted[ts] - t) * 1000 for ts, t in asked.items() if ts in posted]
            result["answers_delivered"] = len(answer_ms)
            result["answer_seconds"] = round(time.monotonic() - started, 1)
            result["question_ack_ms"] = latency(client.acks)
            result["answer_ms"] = latency(answer_ms)

            # phase 2: vote clicks in bursts on the live battles
            clicks = plan_clicks(battles, args.clicks, args.users)
            wanted = {(b, u): c for b, u, c, _ in clicks}
            client.acks.clear()
            sent: dict[tuple[int, str], float] = {}
            started = time.monotonic()
            if not args.kill:
                failed = await click_in_bursts(client, clicks, args.burst, sent)
            else:
                half = len(clicks) // 2
                failed = await click_in_bursts(client, clicks[:half], args.burst, sent)
                second = asyncio.create_task(
                    click_in_bursts(client, clicks[half:], args.burst, sent)
                )
                await asyncio.sleep(0.3)  # the storm is on
                bot.kill()  # SIGKILL: no handler, no flush, no goodbye
                bot.wait()
                failed += await second
                before_kill = confirmations(server, battles)
                acked = {key: wanted[key] for key in before_kill}
                clicks_sent = len(clicks) - len(failed)
                bot = stack.enter_context(parley_slack(data_dir, slack.api_url, port, [], 1))
                await client.up()
                restarted = check_votes(data_dir / "parley.db", acked)
                result["kill"] = {
                    "clicks_http_acked_before_kill": clicks_sent,
                    "votes_confirmed_before_kill": len(acked),
                    "votes_in_store_after_restart": restarted.votes,
                    "ledger_after_restart": restarted.problems or "ok",
                    "requests_failed_while_down": len(client.errors),
                }
                retry = [c for c in clicks if (c[0], c[1]) not in before_kill]
                client.errors.clear()
                failed = await click_in_bursts(client, list(dict.fromkeys(retry)), args.burst, {})
            await wait_until(
                lambda: len(confirmations(server, battles)) >= len(wanted) or failed,
                60 + len(clicks) / 10,
                "the vote confirmations",
            )
            confirmed = confirmations(server, battles)
            result["vote_seconds"] = round(time.monotonic() - started, 1)
            result["vote_ack_ms"] = latency(client.acks)
            result["vote_confirmed_ms"] = latency(
                [(confirmed[k] - sent[k]) * 1000 for k in confirmed if k in sent]
            )
            result["votes_confirmed"] = len(confirmed)
            result["rss_mb_end"] = rss_mb(bot.pid)
            rounds = [result["rss_mb_end"]]
            for extra in range(1, args.rounds):  # the same again, for memory growth
                first = 1 + extra * args.questions
                new = [event_body(n)[1] for n in range(first, first + args.questions)]
                await asyncio.gather(*(client.send(body, "application/json") for body in new))
                await wait_until(
                    lambda first=first: len(battles_posted(slack)) >= first + args.questions,
                    60 + 3 * args.questions,
                    "the answers",
                )
                fresh = {b: t for b, t in battles_posted(slack).items() if b not in battles}
                battles.update(fresh)
                more = plan_clicks(fresh, args.clicks, args.users, seed=16 + extra)
                wanted.update({(b, u): c for b, u, c, _ in more})
                failed.extend(await click_in_bursts(client, more, args.burst, sent))
                await wait_until(
                    lambda: len(confirmations(server, battles)) >= len(wanted) or failed,
                    60 + len(more) / 10,
                    "the vote confirmations",
                )
                rounds.append(rss_mb(bot.pid))
            if args.rounds > 1:
                result["rss_mb_after_each_round"] = rounds
                confirmed = confirmations(server, battles)
            result["errors"] = len(client.errors) + len(failed)
        # leaving the stack stops the bot (SIGINT: a graceful stop) and the fake
    ledger = check_votes(data_dir / "parley.db", {k: wanted[k] for k in confirmed})
    result["distinct_votes"] = len(wanted)
    result["votes_in_store"] = ledger.votes
    result["ledger"] = ledger.problems or "ok"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--clicks", type=int, default=2000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--burst", type=int, default=100, help="Clicks sent together.")
    parser.add_argument("--kill", action="store_true", help="kill -9 the bot mid-storm.")
    parser.add_argument(
        "--rounds", type=int, default=1, help="Repeat both phases on new questions (memory)."
    )
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    if args.kill and args.rounds > 1:
        parser.error("--kill runs one round")
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:28} {value}")
    sys.exit(0 if result["ledger"] == "ok" and not result["errors"] else 1)


if __name__ == "__main__":
    main()
