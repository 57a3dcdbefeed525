"""How fast the Discord client acknowledges /ask, and how fast the answer follows.

    python scripts/bench_discord.py [--questions 200] [--in-flight 20] [--json]

In one process: a ParleyClient over the sample handbook (indexed into a temporary folder
with the real embedder) and the default offline answerers, served as ``parley discord``
serves them (``bot.runtime.serve_service``), logged in to the fake Discord
REST API of ``tests/fakes/discord_api.py`` on 127.0.0.1. ``--questions`` /ask
interactions are fed to the client's connection state as the gateway delivers them,
``--in-flight`` at a time. For each: the time from feeding INTERACTION_CREATE to the
deferred callback reaching the fake (Discord drops an interaction not answered within
3 s), and to the answer's follow-up. Target: acknowledgement p99 <= 500 ms, far inside
Discord's 3 s. The client, the fake server's threads and the answerers share this
machine's two cores (with whatever else runs), so these are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake Discord lives with the tests

import discord  # noqa: E402
from bench_slack import QUESTIONS  # noqa: E402  (the same questions on both platforms)
from figures import percentile  # noqa: E402

from bot.access import Requester  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.discord import ParleyClient  # noqa: E402
from bot.runtime import serve_service  # noqa: E402
from tests.fakes.discord_api import FakeDiscord, guild, interaction, slash_data  # noqa: E402
from tests.fakes.http_server import FakeServer  # noqa: E402

HANDBOOK = ROOT / "examples" / "handbook"
ACK_P99_TARGET_MS = 500.0


async def one(client: ParleyClient, api: FakeDiscord, n: int) -> tuple[float, float]:
    """Feed one /ask; (ms to the deferred callback, ms to the answer) by the fake's clock."""
    interaction_id = api.next_id()
    data = slash_data(api.next_id(), "ask", {"question": QUESTIONS[n % len(QUESTIONS)]})
    payload = interaction(interaction_id, 2, data, user_id=1000 + n % 37)
    started = time.monotonic()
    client._connection.parsers["INTERACTION_CREATE"](payload)  # as the gateway delivers it
    callback = f"/api/v10/interactions/{interaction_id}/*"
    answer = f"/api/v10/webhooks/{client.application_id}/{payload['token']}"
    while not api.server.seen(answer, "POST"):
        await asyncio.sleep(0.01)
    (acked,) = api.server.seen(callback, "POST")
    answered = api.server.seen(answer, "POST")[0]
    return (acked.at - started) * 1000, (answered.at - started) * 1000


async def bench(questions: int, in_flight: int, data_dir: Path) -> dict[str, object]:
    settings = Settings(data_dir=data_dir)
    async with serve_service(settings) as service:
        await service.reindex(Requester("cli", "bench", platform_admin=True), [HANDBOOK])
        with FakeServer() as server:
            api = FakeDiscord(server)
            discord.http.Route.BASE = api.base
            client = ParleyClient(service)
            await client.login("bench-token")
            client._connection.parsers["GUILD_CREATE"](guild())
            await one(client, api, 0)  # warm up: the embedder's first run
            gate = asyncio.Semaphore(in_flight)

            async def limited(n: int) -> tuple[float, float]:
                async with gate:
                    return await one(client, api, n)

            began = time.monotonic()
            results = await asyncio.gather(*(limited(n) for n in range(questions)))
            elapsed = time.monotonic() - began
            await client.close()
    acks = [a for a, _ in results]
    answers = [b for _, b in results]
    return {
        "questions": questions,
        "in_flight": in_flight,
        "ack_p50_ms": round(percentile(acks, 50), 1),
        "ack_p99_ms": round(percentile(acks, 99), 1),
        "ack_max_ms": round(max(acks), 1),
        "answer_p50_ms": round(percentile(answers, 50), 1),
        "answer_p99_ms": round(percentile(answers, 99), 1),
        "answers_per_s": round(questions / elapsed, 1),
        "ack_target_met": percentile(acks, 99) <= ACK_P99_TARGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parley-bench-discord-") as tmp:
        os.environ["PARLEY_CONFIG"] = str(Path(tmp) / "absent.toml")  # defaults only
        result = asyncio.run(bench(args.questions, args.in_flight, Path(tmp)))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:>16}: {value}")


if __name__ == "__main__":
    main()
