"""What a message's claim costs (``bot.claims``): claim, then mark done, side by side on
an SQLite file and on PostgreSQL in one run.

    python scripts/bench_claims.py [--postgresql URL] [--messages 2000] [--in-flight 50]

Two stores over one database play two instances; each message is claimed by both at
once (as when a retry reaches the other instance), the winner marks it done. Reported:
claims/s and the time from asking to knowing (won or not), p50/p99, with ``--in-flight``
messages being claimed at once. Every message must be won exactly once. The claim is
taken after Slack's acknowledgement, so this is what it adds before the first sign of
work (the :eyes: reaction), not to the acknowledgement. Without ``--postgresql`` a
throw-away durable cluster is started on loopback (tests/postgres.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench_store import fresh_schema, server
from figures import percentile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arena.store import Store  # noqa: E402
from bot.claims import Claims  # noqa: E402


async def run(target: str, messages: int, in_flight: int) -> dict[str, float]:
    stores = [await Store.open(target), await Store.open(target)]
    instances = [Claims(s, owner=f"instance-{n}") for n, s in enumerate(stores)]
    gate = asyncio.Semaphore(in_flight)
    waits: list[float] = []
    won = [0] * messages

    async def claim(instance: Claims, n: int) -> None:
        async with gate:
            started = time.perf_counter()
            async with instance.once("bench", f"T1:C1:{n}") as mine:
                waits.append(time.perf_counter() - started)
                won[n] += mine

    started = time.perf_counter()
    await asyncio.gather(*(claim(i, n) for n in range(messages) for i in instances))
    elapsed = time.perf_counter() - started
    for store in stores:
        await store.close()
    assert won == [1] * messages, "a message won twice or never"
    return {
        "claims_per_s": 2 * messages / elapsed,
        "p50_ms": percentile(waits, 50) * 1000,
        "p99_ms": percentile(waits, 99) * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgresql", help="a server's URL (default: a throw-away one)")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=50)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await run(
            str(Path(folder) / "parley.db"), args.messages, args.in_flight
        )
    with server(args.postgresql) as url, fresh_schema(url) as schema:
        results["postgresql"] = await run(schema, args.messages, args.in_flight)
    print(f"{args.messages} messages, each claimed by two instances, {args.in_flight} in flight")
    for engine, figures in results.items():
        print(
            f"{engine:>10}: {figures['claims_per_s']:7.0f} claims/s,"
            f" p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms"
        )
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
