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
mark. ``scripts/bench_store.py`` runs the same load on SQLite and PostgreSQL side by side.
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


async def run_votes(target: Path | str, args: argparse.Namespace) -> dict:
    """The vote load on the store at ``target`` (a new SQLite file, or an empty schema on
    PostgreSQL): throughput, latencies, and the integrity check's findings."""
    voters = Voters()
    store = await Store.open(target)
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
    latencies = sorted(voters.latencies)
    expected: Counter[tuple[str, str, str]] = Counter()
    told_rows = {}
    for (battle, user), choice in voters.told.items():
        question, model_a, model_b = battles[battle]
        expected[outcome_column(model_a, model_b, choice)] += 1
        told_rows[(question, user)] = choice
    return {
        "votes": len(voters.done_at),
        "changed_minds": voters.changes,
        "voters": args.voters,
        "seconds": seconds,
        "votes_per_s": len(voters.done_at) / seconds,
        "per_full_second": per_second(voters.done_at, started),
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "told": len(told_rows),
        "stored": len(stored),
        "missing_or_wrong": sum(stored.get(key) != choice for key, choice in told_rows.items()),
        "extra": len(stored.keys() - told_rows.keys()),
        "counted": sum(counted.values()),
        "lost": sum(max(0, n - counted.get(cell, 0)) for cell, n in expected.items()),
        "doubled": sum(max(0, n - expected.get(cell, 0)) for cell, n in counted.items()),
    }


def report(figures: dict) -> bool:
    """Print one run's figures; whether its integrity check passed."""
    f = figures
    print(
        f"{f['votes']:,} votes ({f['changed_minds']:,} changed minds) from {f['voters']} concurrent"
        f" voters in {f['seconds']:.2f} s: {f['votes_per_s']:,.0f} votes/s overall"
    )
    seconds = f["per_full_second"]
    if seconds:
        print(
            f"per full second: min {min(seconds):,}, median "
            f"{statistics.median(seconds):,.0f}, max {max(seconds):,} votes/s"
        )
    print(f"latency per vote: p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms")
    print(
        f"live votes: told {f['told']:,}, votes table {f['stored']:,} "
        f"({f['missing_or_wrong']} missing or wrong, {f['extra']} extra); pair counts "
        f"{f['counted']:,} (lost {f['lost']}, counted twice {f['doubled']})"
    )
    ok = not (f["lost"] or f["doubled"] or f["missing_or_wrong"] or f["extra"])
    print("integrity: 0 lost, 0 doubled" if ok else "vote integrity check FAILED")
    return ok


def options(parser: argparse.ArgumentParser) -> None:
    """The vote load's options (shared with bench_store.py)."""
    parser.add_argument("--voters", type=int, default=200)
    parser.add_argument("--votes-each", type=int, default=250)
    parser.add_argument("--battles", type=int, default=2000)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--history", type=int, default=0, help="voted battles stored first (bulk path)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = await run_votes(Path(folder) / "parley.db", args)
    if not report(figures):
        raise SystemExit("vote integrity check FAILED")


if __name__ == "__main__":
    asyncio.run(main())
