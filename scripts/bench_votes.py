"""Vote ingestion: many concurrent voters through the store's live vote path.

    python scripts/bench_votes.py [--voters 200] [--votes-each 250] [--battles 2000]
                                  [--history 0]

A fresh database file in a temporary folder gets ``--history`` voted battles in another
channel (to show that a big table does not slow the vote path) and ``--battles`` battles;
then ``--voters`` tasks cast votes at random battles concurrently, about a tenth of them
changing a vote the voter already cast. Throughput is reported overall and per second of
the run (the slowest full second is the sustained rate). Afterwards every live vote the
voters were last told about is checked against the votes table, and the outcome counts
they imply against the pair counts, cell by cell: 0 lost and 0 counted twice is the pass
mark.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from arena.store import BattleRecord, Store
from arena.types import CHOICES, Answer, Choice
from arena.votes import OUTCOME_COLUMNS, outcome_column

Battles = dict[int, tuple[int, str, str]]  # battle id -> (question id, model A, model B)


async def seed(store: Store, battles: int, models: int, rng: random.Random) -> Battles:
    made: Battles = {}
    for n in range(battles):
        left, right = (f"model-{m}" for m in rng.sample(range(models), 2))
        question = await store.record_question(
            platform="bench", channel="bench", user="seed", thread=None, text=f"q{n}", hits=[]
        )
        ids = [await store.record_answer(question, Answer(m, text=m)) for m in (left, right)]
        made[await store.record_battle(question, *ids)] = (question, left, right)
    return made


class Voters:
    """What every voter was told, and when each acknowledgement came."""

    def __init__(self) -> None:
        self.told: dict[tuple[int, str], Choice] = {}
        self.done_at: list[float] = []
        self.latencies: list[float] = []
        self.changes = 0

    async def vote(self, store: Store, name: str, battles: list[int], votes: int) -> None:
        rng = random.Random(name)
        mine: list[int] = []
        for _ in range(votes):
            change = bool(mine) and rng.random() < 0.1
            battle = rng.choice(mine) if change else rng.choice(battles)
            started = time.perf_counter()
            result = await store.record_vote(battle, name, rng.choice(CHOICES))
            self.done_at.append(time.perf_counter())
            self.latencies.append(self.done_at[-1] - started)
            previous = self.told.get((battle, name))
            self.changes += previous is not None and previous != result.choice
            self.told[(battle, name)] = result.choice
            mine.append(battle)


def per_second(times: list[float], start: float) -> list[int]:
    """Votes acknowledged in each full second of the run."""
    counts = Counter(int(t - start) for t in times)
    full = int(max(times) - start)  # the last second is partial
    return [counts.get(second, 0) for second in range(full)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--votes-each", type=int, default=250)
    parser.add_argument("--battles", type=int, default=2000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--history", type=int, default=0, help="voted battles stored first (bulk path)"
    )
    args = parser.parse_args()
    voters = Voters()
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "parley.db")
        try:
            await store.bulk_record_battles(
                BattleRecord("old-a", "old-b", "a", float(n), "history", f"user-{n}")
                for n in range(args.history)
            )
            battles = await seed(store, args.battles, args.models, random.Random(args.seed))
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    voters.vote(store, f"voter-{v}", list(battles), args.votes_each)
                    for v in range(args.voters)
                )
            )
            seconds = time.perf_counter() - started
            counted = {
                (p.model_a, p.model_b, column): getattr(p, column)
                for p in await store.pair_counts("bench")
                for column in OUTCOME_COLUMNS
            }
            stored = {
                (r.question_id, r.user): r.choice
                async for r in store.iter_battles()
                if r.channel == "bench"
            }
        finally:
            await store.close()

    calls = len(voters.done_at)
    seconds_list = per_second(voters.done_at, started)
    latencies = sorted(voters.latencies)
    print(
        f"{calls:,} votes ({voters.changes:,} changed minds) from {args.voters} concurrent "
        f"voters in {seconds:.2f} s: {calls / seconds:,.0f} votes/s overall"
    )
    if seconds_list:
        print(
            f"per full second: min {min(seconds_list):,}, median "
            f"{statistics.median(seconds_list):,.0f}, max {max(seconds_list):,} votes/s"
        )
    print(
        f"latency per vote: p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
    )

    expected: Counter[tuple[str, str, str]] = Counter()
    told_rows = {}
    for (battle, user), choice in voters.told.items():
        question, model_a, model_b = battles[battle]
        expected[outcome_column(model_a, model_b, choice)] += 1
        told_rows[(question, user)] = choice
    lost_rows = sum(stored.get(key) != choice for key, choice in told_rows.items())
    extra_rows = len(stored.keys() - told_rows.keys())
    lost = sum(max(0, n - counted.get(cell, 0)) for cell, n in expected.items())
    doubled = sum(max(0, n - expected.get(cell, 0)) for cell, n in counted.items())
    print(
        f"live votes: told {len(told_rows):,}, votes table {len(stored):,} "
        f"({lost_rows} missing or wrong, {extra_rows} extra); pair counts "
        f"{sum(counted.values()):,} (lost {lost}, counted twice {doubled})"
    )
    if lost or doubled or lost_rows or extra_rows:
        raise SystemExit("vote integrity check FAILED")
    print("integrity: 0 lost, 0 doubled")


if __name__ == "__main__":
    asyncio.run(main())
