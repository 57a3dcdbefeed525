"""Vote ingestion: many concurrent voters through the store's live vote path.

    python scripts/bench_votes.py [--voters 200] [--votes-each 50] [--battles 2000]

A fresh database in a temporary folder gets ``--battles`` battles, then ``--voters``
tasks cast votes at random battles concurrently (a tenth of them changing a vote they
already cast). Afterwards the pair counts are checked against the votes table and
against what the voters were told: 0 lost and 0 counted twice is the pass mark.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

from arena.store import BattleRecord, Store
from arena.types import CHOICES, Answer


async def seed(store: Store, battles: int, models: int) -> list[int]:
    ids = []
    for n in range(battles):
        a, b = random.sample(range(models), 2)
        q = await store.record_question(
            platform="bench", channel="bench", user="seed", thread=None, text=f"q{n}", hits=[]
        )
        left = await store.record_answer(q, Answer(model=f"model-{a}", text="x"))
        right = await store.record_answer(q, Answer(model=f"model-{b}", text="y"))
        ids.append(await store.record_battle(q, left, right))
    return ids


async def voter(store: Store, name: str, battles: list[int], votes: int, final: dict) -> int:
    cast = 0
    rng = random.Random(name)
    mine: list[int] = []
    for _ in range(votes):
        battle = rng.choice(mine) if mine and rng.random() < 0.1 else rng.choice(battles)
        result = await store.record_vote(battle, name, rng.choice(CHOICES))
        final[(battle, name)] = result.choice  # what this voter was last told
        mine.append(battle)
        cast += 1
    return cast


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--votes-each", type=int, default=50)
    parser.add_argument("--battles", type=int, default=2000)
    parser.add_argument("--models", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "parley.db")
        battles = await seed(store, args.battles, args.models)
        final: dict[tuple[int, str], str] = {}
        started = time.perf_counter()
        cast = await asyncio.gather(
            *(
                voter(store, f"voter-{v}", battles, args.votes_each, final)
                for v in range(args.voters)
            )
        )
        seconds = time.perf_counter() - started
        counted = sum(c.total for c in await store.pair_counts())
        records: list[BattleRecord] = [r async for r in store.iter_battles()]
        await store.close()
    expected = Counter(final.values())
    stored = Counter(r.choice for r in records)
    lost = max(0, len(final) - len(records))
    doubled = max(0, counted - len(final))
    print(
        f"{sum(cast):,} vote calls from {args.voters} concurrent voters in {seconds:.2f} s: "
        f"{sum(cast) / seconds:,.0f} votes/s"
    )
    print(
        f"live votes expected {len(final):,}, in the votes table {len(records):,}, "
        f"in the pair counts {counted:,}; lost {lost}, doubled {doubled}; "
        f"choices match: {expected == stored}"
    )
    if lost or doubled or expected != stored:
        raise SystemExit("vote integrity check FAILED")


if __name__ == "__main__":
    asyncio.run(main())
