"""Do votes steer? Active pairing and best-model answers against uniform pairing.

    python scripts/simulate_steering.py [--models 20] [--seeds 5] [--votes 20000]

Simulated voters with known truth (ratings from N(1000, 150), ties at 10% whatever the
gap, as ``simulate_votes.py`` draws them) vote in batches; after each batch the policy
sees the pair counts so far and picks the next batch's pairs:

- ``uniform``: every pair equally likely (the baseline the issue names);
- ``today``: ``arena.matchmaking.choose_contestants``'s weights (few votes, close scores);
- ``active``: ``arena.matchmaking.steering_weights`` (the next vote that most cuts the
  top models' score variance).

Measured per policy, averaged over the seeds: votes until the mean 95% interval width
(model-based normal intervals) of the current top five falls below ``--target`` (a run
that never gets there counts as the whole budget, so such means are lower bounds); how
often the estimated best is the true best at the end and at a quarter of the budget;
and, for the steered single answers (``choose_steered`` with its exploration share),
the share of single answers that came from the true best model (uniform: 1/models).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import statistics
import time

import numpy as np
from simulate_votes import outcomes

from arena.matchmaking import choose_steered, fitted_scores, pair_weight, steering_weights
from arena.pair_table import PairTable
from arena.ratings import fit_bradley_terry, normal_intervals, score_covariance
from arena.store import PairCount

POLICIES = ("uniform", "today", "active")


def counts_of(names: list[str], cells: np.ndarray) -> list[PairCount]:
    """Pair counts from a (models, models, 3) array of A wins, B wins, ties."""
    return [
        PairCount(names[i], names[j], *map(int, cells[i, j]))
        for i, j in itertools.combinations(range(len(names)), 2)
        if cells[i, j].sum()
    ]


def policy_weights(
    policy: str, names: list[str], counts: list[PairCount], top: int
) -> dict[tuple[str, str], float]:
    pairs = list(itertools.combinations(names, 2))
    if policy == "uniform":
        return dict.fromkeys(pairs, 1.0)
    if policy == "today":
        scores = fitted_scores(counts)
        votes = {(c.model_a, c.model_b): c.total for c in counts}
        return {
            (a, b): pair_weight(votes.get((a, b), 0), scores.get(a, 1000) - scores.get(b, 1000))
            for a, b in pairs
        }
    return steering_weights(names, counts, top=top)


def top_width(names: list[str], counts: list[PairCount], top: int) -> tuple[float, str]:
    """Mean 95% interval width of the current top models, and the current best."""
    table = PairTable.from_counts(counts)
    if len(table.models) < len(names):
        return float("inf"), ""
    fit = fit_bradley_terry(table, tolerance=1e-6)
    low, high = normal_intervals(fit, score_covariance(table, fit, robust=False))
    leaders = np.argsort(-fit.scores)[:top]
    return float(np.mean(high[leaders] - low[leaders])), table.models[int(leaders[0])]


def run(policy: str, seed: int, args: argparse.Namespace) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    picker = random.Random(seed)
    names = [f"m{k:02d}" for k in range(args.models)]
    truth = rng.normal(1000, 150, args.models)
    true_best = names[int(np.argmax(truth))]
    cells = np.zeros((args.models, args.models, 3))
    index = {n: k for k, n in enumerate(names)}
    reached, best_early, best_end, singles, from_best = None, False, False, 0, 0
    for done in range(args.batch, args.votes + 1, args.batch):
        counts = counts_of(names, cells)
        weights = policy_weights(policy, names, counts, args.top)
        pairs = list(weights)
        chosen = picker.choices(pairs, weights=[weights[p] for p in pairs], k=args.batch)
        a = np.array([index[x] for x, _ in chosen])
        b = np.array([index[y] for _, y in chosen])
        result = outcomes(truth, a, b, 0.1, "constant", rng)
        for i, j, r in zip(a, b, result, strict=True):
            cells[i, j, min(r, 2)] += 1  # both bad (3) is a tie
        counts = counts_of(names, cells)
        if policy == "active":  # the steered single answers of the same period
            for _ in range(args.singles):
                picked = choose_steered(names, counts, counts, battle_share=0.0, rng=picker)
                singles += 1
                from_best += picked[0] == true_best
        width, best = top_width(names, counts, args.top)
        if reached is None and width < args.target:
            reached = done
        if done == args.votes // 4 // args.batch * args.batch:
            best_early = best == true_best
        best_end = best == true_best
    return {
        "votes_to_target": float(reached) if reached is not None else float("nan"),
        "best_found_at_quarter": float(best_early),
        "best_found_at_end": float(best_end),
        "single_answers_from_best": from_best / singles if singles else 1 / args.models,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--votes", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200, help="votes between refits")
    parser.add_argument("--singles", type=int, default=20, help="single answers per batch")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--target", type=float, default=60.0, help="Elo points")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    results = {p: [run(p, seed, args) for seed in range(args.seeds)] for p in POLICIES}
    summary: dict = {}
    for policy, runs in results.items():
        summary[policy] = {key: statistics.fmean(r[key] for r in runs) for key in runs[0]}
        # a run that never reached the target counts as the whole budget: a lower bound
        reached = [r["votes_to_target"] for r in runs if not math.isnan(r["votes_to_target"])]
        summary[policy]["votes_to_target"] = statistics.fmean(
            args.votes if math.isnan(r["votes_to_target"]) else r["votes_to_target"] for r in runs
        )
        summary[policy]["reached"] = len(reached)
    both = [
        (u["votes_to_target"], a["votes_to_target"])
        for u, a in zip(results["uniform"], results["active"], strict=True)
        if not math.isnan(u["votes_to_target"] + a["votes_to_target"])
    ]
    summary["settings"] = {**vars(args), "seconds": time.perf_counter() - started}
    summary["fewer_votes_than_uniform"] = 1 - (
        summary["active"]["votes_to_target"] / summary["uniform"]["votes_to_target"]
    )
    summary["fewer_votes_where_both_reached"] = (
        1 - statistics.fmean(a for _, a in both) / statistics.fmean(u for u, _ in both)
        if both
        else float("nan")
    )
    if args.json:
        print(json.dumps({"summary": summary, "runs": results}, indent=2))
        return
    print(
        f"{args.models} models, {args.seeds} seeds, up to {args.votes:,} votes in batches of"
        f" {args.batch}; target: top-{args.top} mean 95% interval width < {args.target:g}"
    )
    print(
        f"{'policy':10}{'votes to target':>17}{'reached':>9}{'best @1/4':>11}{'best @end':>11}"
        f"{'singles':>9}"
    )
    for policy in POLICIES:
        s = summary[policy]
        print(
            f"{policy:10}{s['votes_to_target']:17,.0f}{s['reached']:9}"
            f"{s['best_found_at_quarter']:11.0%}{s['best_found_at_end']:11.0%}"
            f"{s['single_answers_from_best']:9.0%}"
        )
    print(
        f"active needs {summary['fewer_votes_than_uniform']:.0%} fewer votes than uniform"
        f" (runs short of the target count as the whole budget), "
        f"{summary['fewer_votes_where_both_reached']:.0%} where both reached it;"
        f" {summary['settings']['seconds']:.0f} s"
    )


if __name__ == "__main__":
    main()
