"""Database to finished leaderboard: Parley beside FastChat's method and LMArena's arena-rank.

    PARLEY_DATA_DIR=/tmp/sim python scripts/bench_ratings.py [--rounds 100] [--json]
        [--arena-rank-python /tmp/arena-rank-venv/bin/python | --make-arena-rank-venv DIR]
    python scripts/bench_ratings.py --coverage [--seeds 5] [--battles 100000] [--models 50]

Run ``scripts/simulate_votes.py`` first. Parley: pair counts from SQLite, the
Bradley-Terry fit with the nested tie model and ``--rounds`` bootstrap rounds (the
sandwich intervals, the leaderboard's default, are timed beside), the online Elo
(cached), through ``build_board``. The references (``rating_references.py``): a
reference following FastChat's published method, and arena-rank (LMArena's package) in
its own environment: pass its interpreter, or let the script make one. All are compared
with the true ratings and with each other.

``--coverage`` needs no database: it draws pair counts in memory under both tie
models (ties at a rate independent of the gap, and Davidson's) and reports, averaged
over the seeds, how often the bootstrap and the sandwich 95% intervals cover the true
rating, the spread (highest minus lowest score over the truth's), Spearman, the tie
shape chosen and the time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from functools import partial
from pathlib import Path

import numpy as np
from bench_leaderboard import empty_elo_cache, fill_elo_cache
from rating_references import arena_rank, make_arena_rank_venv, reference
from scipy.stats import spearmanr
from simulate_votes import TIE_MODELS, draw_battles

from arena.leaderboard import LeaderboardRow, build_board
from arena.pair_table import PairTable
from arena.ratings import (
    bootstrap_scores,
    data_seed,
    fit_bradley_terry,
    normal_intervals,
    score_covariance,
)
from arena.store import PairCount, Store
from bot.config import Settings


async def parley(db: Path, rounds: int, seed: int | None) -> tuple[list[LeaderboardRow], float]:
    """Database to finished leaderboard, as ``parley leaderboard`` does it, timed."""
    started = time.perf_counter()
    store = await Store.open(db)
    try:
        board = await build_board(store, rounds=rounds, seed=seed, intervals="bootstrap")
    finally:
        await store.close()
    return board.rows, time.perf_counter() - started


async def parley_stages(db: Path, rounds: int, seed: int) -> dict[str, float]:
    """The same work as ``build_board``, timed stage by stage (one run)."""
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
    score_covariance(table, fit)
    t4 = time.perf_counter()
    return {
        "open_and_query_s": t1 - t0,
        "fit_s": t2 - t1,
        "bootstrap_s": t3 - t2,
        "sandwich_s": t4 - t3,
        "tie_shape": fit.tie_shape,
    }


def spearman(truth: dict[str, float], scores: dict[str, float]) -> float:
    """Rank correlation over the models both name."""
    names = sorted(truth)
    return float(spearmanr([truth[n] for n in names], [scores[n] for n in names]).statistic)


def spread_ratio(truth: dict[str, float], scores: dict[str, float]) -> float:
    """Highest minus lowest score, over the same for the truth."""
    return (max(scores.values()) - min(scores.values())) / (
        max(truth.values()) - min(truth.values())
    )


def coverage(truth: dict[str, float], low: dict[str, float], high: dict[str, float]) -> float:
    """Share of models whose interval holds the truth (shifted to mean 1000)."""
    shift = 1000 - statistics.fmean(truth.values())
    return statistics.fmean(low[m] <= truth[m] + shift <= high[m] for m in truth)


def simulated_counts(
    models: int, battles: int, tie_model: str, seed: int
) -> tuple[dict[str, float], list[PairCount]]:
    """True ratings and pair counts drawn as ``simulate_votes.py`` draws battles."""
    names, truth, a, b, result = draw_battles(models, battles, 0.1, tie_model, seed)
    cells = np.zeros((models, models, 4), dtype=np.int64)
    np.add.at(cells, (a, b, result), 1)
    counts = [
        PairCount(names[i], names[j], *cells[i, j])
        for i in range(models)
        for j in range(models)
        if i != j and cells[i, j].sum()
    ]
    return dict(zip(names, truth.tolist(), strict=True)), counts


def coverage_run(models: int, battles: int, tie_model: str, seed: int, rounds: int) -> dict:
    """One simulated table: coverage, spread, Spearman and time, bootstrap and sandwich."""
    truth, counts = simulated_counts(models, battles, tie_model, seed)
    table = PairTable.from_counts(counts)
    t0 = time.perf_counter()
    fit = fit_bradley_terry(table)
    t1 = time.perf_counter()
    samples = bootstrap_scores(table, fit, rounds, np.random.default_rng(data_seed(table)))
    boot_low, boot_high = np.percentile(samples, [2.5, 97.5], axis=0)
    t2 = time.perf_counter()
    sand_low, sand_high = normal_intervals(fit, score_covariance(table, fit))
    t3 = time.perf_counter()
    davidson = fit_bradley_terry(table, tie_shape=0.0)  # the model before the tie shape
    old = bootstrap_scores(table, davidson, rounds, np.random.default_rng(data_seed(table)))
    old_low, old_high = np.percentile(old, [2.5, 97.5], axis=0)
    named = partial(zip, table.models, strict=True)
    scores = dict(named(fit.scores.tolist()))
    return {
        "tie_shape": fit.tie_shape,
        "bootstrap_coverage": coverage(truth, dict(named(boot_low)), dict(named(boot_high))),
        "sandwich_coverage": coverage(truth, dict(named(sand_low)), dict(named(sand_high))),
        "spread_ratio": spread_ratio(truth, scores),
        "davidson_only_spread_ratio": spread_ratio(truth, dict(named(davidson.scores.tolist()))),
        "davidson_only_coverage": coverage(truth, dict(named(old_low)), dict(named(old_high))),
        "spearman": spearman(truth, scores),
        "fit_s": t1 - t0,
        "bootstrap_s": t2 - t1,
        "sandwich_s": t3 - t2,
    }


def coverage_main(args: argparse.Namespace) -> None:
    """Coverage figures per tie model, averaged over seeds, then Spearman at a million."""
    figures: dict[str, dict] = {}
    for tie_model in TIE_MODELS:
        runs = [
            coverage_run(args.models, args.battles, tie_model, seed, args.rounds)
            for seed in range(args.seeds)
        ]
        figures[tie_model] = {key: statistics.fmean(r[key] for r in runs) for key in runs[0]} | {
            "min_bootstrap_coverage": min(r["bootstrap_coverage"] for r in runs)
        }
        million = coverage_run(args.models, 1_000_000, tie_model, 0, args.rounds)
        figures[tie_model]["spearman_at_1m"] = million["spearman"]
        figures[tie_model]["spread_ratio_at_1m"] = million["spread_ratio"]
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"{args.models} models, {args.battles:,} battles, {args.seeds} seeds, 10% ties,"
        f" {args.rounds} bootstrap rounds"
    )
    head = ["ties", "λ", "boot cover", "sandwich", "spread", "ρ", "ρ @1M", "boot s", "sand s"]
    print("".join(f"{h:>11}" for h in head))
    for tie_model, f in figures.items():
        cells = [
            tie_model,
            f"{f['tie_shape']:.2f}",
            f"{f['bootstrap_coverage']:.1%}",
            f"{f['sandwich_coverage']:.1%}",
            f"{f['spread_ratio']:.3f}",
            f"{f['spearman']:.4f}",
            f"{f['spearman_at_1m']:.4f}",
            f"{f['bootstrap_s']:.3f}",
            f"{f['sandwich_s']:.4f}",
        ]
        print("".join(f"{c:>11}" for c in cells))
    for tie_model, f in figures.items():
        print(
            f"{tie_model}: Davidson's model alone (λ = 0) covers"
            f" {f['davidson_only_coverage']:.1%}, spread {f['davidson_only_spread_ratio']:.3f};"
            f" lowest bootstrap coverage over the seeds {f['min_bootstrap_coverage']:.1%};"
            f" spread at 1M {f['spread_ratio_at_1m']:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="database (default: the data directory's)")
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="Parley runs; the median is kept")
    parser.add_argument("--seed", type=int, help="bootstrap seed (default: from the votes)")
    parser.add_argument("--arena-rank-python", type=Path, help="interpreter with arena-rank")
    parser.add_argument("--make-arena-rank-venv", type=Path, help="make that environment here")
    parser.add_argument("--coverage", action="store_true", help="simulated coverage, no database")
    parser.add_argument("--parley-only", action="store_true", help="time Parley alone")
    parser.add_argument("--seeds", type=int, default=5, help="--coverage: seeds per tie model")
    parser.add_argument("--battles", type=int, default=100_000, help="--coverage: per seed")
    parser.add_argument("--models", type=int, default=50, help="--coverage: models")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.coverage:
        coverage_main(args)
        return
    db = args.db or Settings().database_path
    truth_file = db.parent / "true_ratings.json"
    if not db.exists() or not truth_file.exists():
        parser.error(f"no simulated votes at {db}: run scripts/simulate_votes.py first")
    truth = json.loads(truth_file.read_text())
    arena_python = args.arena_rank_python
    if args.make_arena_rank_venv:
        arena_python = make_arena_rank_venv(args.make_arena_rank_venv)

    empty_elo_cache(db)  # the online Elo replayed over every stored vote
    elo_cold_s = asyncio.run(fill_elo_cache(db))
    times = []
    for _ in range(args.repeat):
        rows, seconds = asyncio.run(parley(db, args.rounds, args.seed))
        times.append(seconds)
    seed = args.seed if args.seed is not None else 0
    stages = asyncio.run(parley_stages(db, args.rounds, seed))
    parley_scores = {r.model: r.score for r in rows}
    if args.parley_only:
        print(json.dumps({"runs_s": times, "median_s": statistics.median(times), **stages}))
        return
    models, ref_scores, ref_times = reference(db, args.rounds, seed)
    ref_by_name = dict(zip(models, ref_scores.tolist(), strict=True))
    ref_low = dict(zip(models, ref_times.pop("ci_low"), strict=True))
    ref_high = dict(zip(models, ref_times.pop("ci_high"), strict=True))

    figures: dict = {
        "votes": sum(r.votes for r in rows) // 2,
        "models": len(rows),
        "parley": {
            "total_s": statistics.median(times),
            "runs_s": times,
            "elo_cold_s": elo_cold_s,
            **stages,
            "spearman": spearman(truth, parley_scores),
            "spread_ratio": spread_ratio(truth, parley_scores),
            "ci_coverage": coverage(
                truth, {r.model: r.ci_low for r in rows}, {r.model: r.ci_high for r in rows}
            ),
        },
        "fastchat_method": {
            **ref_times,
            "spearman": spearman(truth, ref_by_name),
            "spearman_with_parley": spearman(parley_scores, ref_by_name),
            "spread_ratio": spread_ratio(truth, ref_by_name),
            "ci_coverage": coverage(truth, ref_low, ref_high),
        },
    }
    parley_s = figures["parley"]["total_s"]
    figures["speedup"] = ref_times["total_s"] / parley_s
    figures["speedup_without_load"] = (ref_times["fit_s"] + ref_times["bootstrap_s"]) / parley_s
    if arena_python:
        ar = arena_rank(arena_python, db)
        ar_scores = dict(zip(ar["models"], ar["ratings"], strict=True))
        figures["arena_rank"] = {
            "import_s": ar["import_s"],
            "load_s": ar["load_s"],
            "fit_s": ar["fit_s"],
            "process_s": ar["process_s"],
            "spearman": spearman(truth, ar_scores),
            "spearman_with_parley": spearman(parley_scores, ar_scores),
            "spread_ratio": spread_ratio(truth, ar_scores),
            "ci_coverage": coverage(
                truth,
                dict(zip(ar["models"], ar["lower"], strict=True)),
                dict(zip(ar["models"], ar["upper"], strict=True)),
            ),
        }
        figures["speedup_vs_arena_rank"] = (ar["load_s"] + ar["fit_s"]) / parley_s
        figures["speedup_vs_arena_rank_without_load"] = ar["fit_s"] / parley_s
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print_figures(figures, args.rounds)


def print_figures(figures: dict, rounds: int) -> None:
    """The side-by-side table and the speed-ups."""
    print(f"{figures['votes']:,} battles, {figures['models']} models, {rounds} bootstrap rounds")
    print(f"{'':16}{'total s':>9}{'spearman':>10}{'ρ parley':>10}{'spread':>8}{'covers':>8}")
    p = figures["parley"]
    print(
        f"{'parley':16}{p['total_s']:9.3f}{p['spearman']:10.4f}{1:10.4f}"
        f"{p['spread_ratio']:8.3f}{p['ci_coverage']:8.0%}"
    )
    for name in ("fastchat_method", "arena_rank"):
        if name not in figures:
            continue
        r = figures[name]
        total = r.get("total_s", r.get("load_s", 0) + r.get("fit_s", 0))
        print(
            f"{name:16}{total:9.3f}{r['spearman']:10.4f}{r['spearman_with_parley']:10.4f}"
            f"{r['spread_ratio']:8.3f}{r['ci_coverage']:8.0%}"
        )
    r = figures["fastchat_method"]
    print(
        f"fastchat_method: load {r['load_s']:.2f} s, fit {r['fit_s']:.2f} s,"
        f" bootstrap {r['bootstrap_s']:.2f} s (process pool of {os.cpu_count()})"
    )
    if "arena_rank" in figures:
        a = figures["arena_rank"]
        print(
            f"arena_rank: import {a['import_s']:.2f} s, load {a['load_s']:.2f} s,"
            f" fit + sandwich {a['fit_s']:.2f} s"
        )
    print(
        f"parley stages: open + pair counts {p['open_and_query_s']:.3f} s, fit {p['fit_s']:.3f} s"
        f" (tie shape {p['tie_shape']:.2f}), bootstrap {p['bootstrap_s']:.3f} s, sandwich"
        f" {p['sandwich_s']:.3f} s; Elo replayed cold {p['elo_cold_s']:.2f} s;"
        f" runs {', '.join(f'{t:.3f}' for t in p['runs_s'])} s"
    )
    line = (
        f"speedup over the FastChat method {figures['speedup']:.1f}x"
        f" ({figures['speedup_without_load']:.1f}x against its fit + bootstrap alone)"
    )
    if "speedup_vs_arena_rank" in figures:
        line += (
            f"; over arena-rank {figures['speedup_vs_arena_rank']:.1f}x"
            f" ({figures['speedup_vs_arena_rank_without_load']:.1f}x against its fit alone)"
        )
    print(line)


if __name__ == "__main__":
    main()
