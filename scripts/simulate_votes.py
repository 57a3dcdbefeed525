"""Fill the arena database with battles drawn from known ratings, for the rating benchmarks.

    PARLEY_DATA_DIR=/tmp/sim python scripts/simulate_votes.py --models 50 --votes 1000000 --seed 0

True ratings are drawn from N(1000, 150). Each battle picks a uniformly random pair and
the shown order at random. With ``--tie-model constant`` (the default) it is a tie with
probability ``--ties`` whatever the gap, otherwise the winner follows Bradley-Terry on
the Elo scale; with ``--tie-model davidson`` ties follow Davidson's model, whose tie
weight ν is set so that evenly matched models tie with probability ``--ties`` (fewer
ties as the gap grows). A tenth of the ties are "both bad". Battles go in
through ``Store.bulk_record_battles``, the same path as imports, so the pair counts are
kept exactly as for live votes. The true ratings are written to ``true_ratings.json``
beside the database. An existing database is left alone unless ``--replace`` is given,
so a second run cannot silently double the battles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from arena.store import BattleRecord, Store
from arena.types import CHOICES
from bot.config import Settings

TIE_MODELS = ("constant", "davidson")


def tie_probability(gap: np.ndarray, ties: float, tie_model: str) -> np.ndarray:
    """P(tie) for Elo-scale gaps: ``ties`` whatever the gap, or Davidson's with ν chosen
    so that an even match ties with probability ``ties``."""
    if tie_model == "constant":
        return np.full(np.shape(gap), ties)
    nu = 2 * ties / (1 - ties)
    d = gap * np.log(10) / 800
    return nu / (2 * np.cosh(d) + nu)


def outcomes(
    truth: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    ties: float,
    tie_model: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """Per battle, an index into CHOICES: a, b, tie or both bad (a tenth of the ties)."""
    gap = truth[a] - truth[b]
    p_a = 1 / (1 + 10 ** (-gap / 400))  # given that it is not a tie
    p_tie = tie_probability(gap, ties, tie_model)
    draw = rng.random(len(a))
    outcome = np.where(rng.random(len(a)) < p_a, 0, 1)
    return np.where(draw < p_tie, np.where(draw < p_tie / 10, 3, 2), outcome)


def draw_battles(
    models: int, battles: int, ties: float, tie_model: str, seed: int
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Model names, their true ratings, and per battle the two models' indices and the
    outcome (an index into CHOICES), for the stored battles and the in-memory counts
    alike."""
    rng = np.random.default_rng(seed)
    names = [f"model-{n:03d}" for n in range(models)]
    truth = rng.normal(1000, 150, models)
    a = rng.integers(0, models, battles)
    b = (a + rng.integers(1, models, battles)) % models  # never a model against itself
    return names, truth, a, b, outcomes(truth, a, b, ties, tie_model, rng)


def simulate(
    models: int, votes: int, ties: float, seed: int, tie_model: str = "constant"
) -> tuple[dict[str, float], Iterator[BattleRecord]]:
    """True ratings by name, and the battles drawn from them (lazily, oldest first)."""
    names, truth, a, b, outcome = draw_battles(models, votes, ties, tie_model, seed)
    start = time.time() - votes  # one battle a second, ending now

    def records() -> Iterator[BattleRecord]:
        rows = zip(a.tolist(), b.tolist(), outcome.tolist(), strict=True)
        for n, (i, j, o) in enumerate(rows):
            yield BattleRecord(
                names[i], names[j], CHOICES[o], start + n, "sim", f"voter-{n % 5000}"
            )

    return dict(zip(names, truth.tolist(), strict=True)), records()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--ties", type=float, default=0.1)
    parser.add_argument("--tie-model", choices=TIE_MODELS, default="constant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replace", action="store_true", help="delete an existing database first")
    args = parser.parse_args()
    settings = Settings()
    database = settings.database_path
    if args.replace:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    elif database.exists():
        parser.error(f"{database} exists; simulated battles go into a fresh one (--replace)")
    database.parent.mkdir(parents=True, exist_ok=True)
    truth, records = simulate(args.models, args.votes, args.ties, args.seed, args.tie_model)
    started = time.perf_counter()
    store = await Store.open(database)
    try:
        stored = await store.bulk_record_battles(records)
    finally:
        await store.close()
    seconds = time.perf_counter() - started
    (database.parent / "true_ratings.json").write_text(json.dumps(truth, indent=1))
    print(
        f"stored {stored:,} battles among {args.models} models in {seconds:.1f} s "
        f"({stored / seconds:,.0f}/s) into {database}"
    )


if __name__ == "__main__":
    asyncio.run(main())
