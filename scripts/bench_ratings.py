"""Database to finished leaderboard: Parley against a FastChat-style reference, side by side.

    PARLEY_DATA_DIR=/tmp/sim python scripts/bench_ratings.py [--rounds 100] [--json]

Run ``scripts/simulate_votes.py`` first. Parley: pair counts from SQLite, the
Bradley-Terry fit with Davidson ties and the bootstrap, through ``build_leaderboard``.
The reference follows the method FastChat published for Chatbot Arena (written here
from its description): every battle row loaded into pandas, grouped into unique
(model_a, model_b, winner) rows with counts, ties as half a win for each side, a
logistic Bradley-Terry fit by L-BFGS, and bootstrap rounds that resample those counts
multinomially and refit from scratch. Both are compared with the true ratings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sqlite3
import statistics
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import spearmanr

from arena.leaderboard import LeaderboardRow, build_leaderboard
from arena.ratings import PairTable, bootstrap_scores, fit_bradley_terry
from arena.store import Store
from bot.config import Settings


def reference_load(db: Path) -> pd.DataFrame:
    """Every battle as a row (model_a, model_b, winner), as FastChat starts from."""

    query = (
        "SELECT qa.model AS model_a, qb.model AS model_b, v.choice AS winner FROM votes v"
        " JOIN battles b ON b.id = v.battle_id JOIN answers qa ON qa.id = b.answer_a"
        " JOIN answers qb ON qb.id = b.answer_b"
    )
    with closing(sqlite3.connect(db)) as con:
        return pd.read_sql_query(query, con)


def reference_preprocess(
    battles: pd.DataFrame,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Unique matchups with counts; outcome 1.0 (A wins), 0.0 (B wins), 0.5 (tie).

    A tie at outcome 0.5 is the same likelihood as FastChat's duplicated rows (one win
    for each side at half weight)."""
    models = sorted(set(battles["model_a"]) | set(battles["model_b"]))
    index = {m: n for n, m in enumerate(models)}
    battles = battles.assign(
        outcome=battles["winner"].map({"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5})
    )
    grouped = battles.groupby(["model_a", "model_b", "outcome"]).size().reset_index(name="n")
    matchups = np.column_stack(
        [grouped["model_a"].map(index).to_numpy(), grouped["model_b"].map(index).to_numpy()]
    )
    return models, matchups, grouped["outcome"].to_numpy(), grouped["n"].to_numpy(float)


def reference_fit(
    matchups: np.ndarray,
    outcomes: np.ndarray,
    weights: np.ndarray,
    n_models: int,
    base: float = 10.0,
    scale: float = 400.0,
    init: float = 1000.0,
) -> np.ndarray:
    """Logistic Bradley-Terry by L-BFGS on weighted rows, ratings in Elo units."""
    alpha = math.log(base)

    def loss(ratings: np.ndarray) -> tuple[float, np.ndarray]:
        logits = alpha * (ratings[matchups[:, 0]] - ratings[matchups[:, 1]])
        probs = 1 / (1 + np.exp(-logits))
        ll = weights * (
            outcomes * np.log(probs + 1e-12) + (1 - outcomes) * np.log(1 - probs + 1e-12)
        )
        grad_logit = weights * (outcomes - probs) * alpha
        grad = np.zeros(n_models)
        np.add.at(grad, matchups[:, 0], grad_logit)
        np.add.at(grad, matchups[:, 1], -grad_logit)
        total = weights.sum()
        return -ll.sum() / total, -grad / total

    result = minimize(
        loss,
        np.zeros(n_models),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 100, "gtol": 1e-6},
    )
    ratings = result.x - result.x.mean()
    return scale * ratings + init


def reference(db: Path, rounds: int, seed: int) -> tuple[list[str], np.ndarray, dict]:
    """The whole reference pipeline, timed; the bootstrap resamples battles."""
    t0 = time.perf_counter()
    battles = reference_load(db)
    t1 = time.perf_counter()
    models, matchups, outcomes, weights = reference_preprocess(battles)
    scores = reference_fit(matchups, outcomes, weights, len(models))
    t2 = time.perf_counter()
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(int(weights.sum()), weights / weights.sum(), size=rounds)
    boot = np.array(
        [reference_fit(matchups, outcomes, d.astype(float), len(models)) for d in draws]
    )
    np.percentile(boot, [2.5, 97.5], axis=0)
    t3 = time.perf_counter()
    return (
        models,
        scores,
        {"load_s": t1 - t0, "fit_s": t2 - t1, "bootstrap_s": t3 - t2, "total_s": t3 - t0},
    )


async def parley(db: Path, rounds: int, seed: int) -> tuple[list[LeaderboardRow], float]:
    """Database to finished leaderboard, as ``parley leaderboard`` does it, timed."""
    started = time.perf_counter()
    store = await Store.open(db)
    try:
        rows = await build_leaderboard(store, rounds=rounds, seed=seed)
    finally:
        await store.close()
    return rows, time.perf_counter() - started


async def parley_stages(db: Path, rounds: int, seed: int) -> dict[str, float]:
    """The same work as ``build_leaderboard``, timed stage by stage (one run)."""
    t0 = time.perf_counter()
    store = await Store.open(db)
    try:
        counts = await store.pair_counts()
    finally:
        await store.close()
    t1 = time.perf_counter()
    table = PairTable.from_counts(counts)
    fit = fit_bradley_terry(table)
    t2 = time.perf_counter()
    bootstrap_scores(table, fit, rounds, np.random.default_rng(seed))
    t3 = time.perf_counter()
    return {"open_and_query_s": t1 - t0, "fit_s": t2 - t1, "bootstrap_s": t3 - t2}


def spearman(truth: dict[str, float], scores: dict[str, float]) -> float:
    """Rank correlation over the models both name."""
    names = sorted(truth)
    return float(spearmanr([truth[n] for n in names], [scores[n] for n in names]).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="database (default: the data directory's)")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="Parley runs; the median is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db = args.db or Settings().database_path
    truth_file = db.parent / "true_ratings.json"
    if not db.exists() or not truth_file.exists():
        parser.error(f"no simulated votes at {db}: run scripts/simulate_votes.py first")
    truth = json.loads(truth_file.read_text())

    times = []
    for _ in range(args.repeat):
        rows, seconds = asyncio.run(parley(db, args.rounds, args.seed))
        times.append(seconds)
    stages = asyncio.run(parley_stages(db, args.rounds, args.seed))
    parley_scores = {r.model: r.score for r in rows}
    # scores are anchored at mean 1000; put the truth on the same anchor before comparing
    shift = 1000 - statistics.fmean(truth.values())
    covered = sum(r.ci_low <= truth[r.model] + shift <= r.ci_high for r in rows) / len(rows)
    models, ref_scores, ref_times = reference(db, args.rounds, args.seed)
    ref_by_name = dict(zip(models, ref_scores.tolist(), strict=True))

    true_spread = statistics.pstdev(truth.values())
    figures = {
        "votes": sum(r.votes for r in rows) // 2,
        "models": len(rows),
        "parley": {
            "total_s": statistics.median(times),
            "runs_s": times,
            **stages,
            "spearman": spearman(truth, parley_scores),
            "spread_ratio": statistics.pstdev(parley_scores.values()) / true_spread,
            "ci_coverage": covered,
        },
        "reference": {
            **ref_times,
            "spearman": spearman(truth, ref_by_name),
            "spread_ratio": statistics.pstdev(ref_by_name.values()) / true_spread,
        },
    }
    figures["speedup"] = ref_times["total_s"] / figures["parley"]["total_s"]
    figures["speedup_without_load"] = (ref_times["fit_s"] + ref_times["bootstrap_s"]) / figures[
        "parley"
    ]["total_s"]
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    p, r = figures["parley"], figures["reference"]
    print(
        f"{figures['votes']:,} battles, {figures['models']} models, {args.rounds} bootstrap rounds"
    )
    print(f"{'':12}{'total s':>9}{'spearman':>10}{'spread':>8}")
    print(f"{'parley':12}{p['total_s']:9.3f}{p['spearman']:10.4f}{p['spread_ratio']:8.3f}")
    print(
        f"{'reference':12}{r['total_s']:9.3f}{r['spearman']:10.4f}{r['spread_ratio']:8.3f}"
        f"   (load {r['load_s']:.2f} s, fit {r['fit_s']:.2f} s, bootstrap {r['bootstrap_s']:.2f} s)"
    )
    print(
        f"parley stages: open + pair counts {p['open_and_query_s']:.3f} s, fit {p['fit_s']:.3f} s,"
        f" bootstrap {p['bootstrap_s']:.3f} s; runs {', '.join(f'{t:.3f}' for t in times)} s"
    )
    print(
        f"speedup {figures['speedup']:.1f}x ({figures['speedup_without_load']:.1f}x against the"
        f" reference's fit + bootstrap alone); Parley 95% intervals cover the truth for "
        f"{p['ci_coverage']:.0%} of models"
    )


if __name__ == "__main__":
    main()
