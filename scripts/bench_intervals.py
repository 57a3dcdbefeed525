"""Do the 95% intervals cover the truth for a model with one vote, five, a hundred?

    python scripts/bench_intervals.py [--seeds 40] [--truth-sd 150] [--tie-model constant]
        [--prior-sd 100 200 300] [--json]

Each seed draws true ratings N(1000, --truth-sd) for ``--established`` models that
meet in ``--battles`` uniformly paired battles, and for newcomers: ``--per-count`` of
them for each vote count in ``VOTE_COUNTS``, each with that many battles against
established models drawn at random (outcomes as ``simulate_votes.py`` draws them, 10%
ties). Every interval method is then asked whether its 95% interval holds each model's
true rating, centred as the scores are: the mean of the models with at least 20 votes
(the firm ones) is 1000 for Parley now, the mean of all models before.

The methods: with the leaderboard's own prior (``board_fit``: sd the firm models'
spread, at least 200 points), the leaderboard's default (per model the wider of the
next two), the sandwich with the prior counted as data, the posterior covariance, and
the bootstrap with randomised prior centres;
the sandwich with fixed priors (``--prior-sd``); and what Parley had before, the
whisper of a prior (sd ~3,900 points) under the sandwich and under the bootstrap that
redrew each pair's outcomes with its total fixed. Reported per vote count: coverage,
coverage in the tails (newcomers more than 1.5 sd from the mean, where the prior pulls
hardest) and the mean width. No database is needed.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from simulate_votes import TIE_MODELS, outcomes

from arena.leaderboard import board_fit
from arena.likelihood import NU_PRECISION
from arena.pair_table import PairTable
from arena.ratings import (
    BTFit,
    bootstrap_scores,
    cautious_covariance,
    data_seed,
    fit_bradley_terry,
    normal_intervals,
    score_covariance,
)
from arena.store import PairCount

VOTE_COUNTS = (1, 2, 3, 5, 10, 20, 50, 100)
PROVISIONAL_VOTES = 20  # the leaderboard's default: fewer votes than this are provisional
# the prior Parley had before: a ridge of 1e-3 on each strength, as an sd in Elo points
BEFORE_SD = 400 / np.log(10) / np.sqrt(NU_PRECISION)

Method = Callable[[PairTable, BTFit, int], tuple[np.ndarray, np.ndarray]]


def cautious(table: PairTable, fit: BTFit, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    return normal_intervals(fit, cautious_covariance(table, fit))


def sandwich(table: PairTable, fit: BTFit, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    return normal_intervals(fit, score_covariance(table, fit))


def posterior(table: PairTable, fit: BTFit, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    return normal_intervals(fit, score_covariance(table, fit, robust=False))


def bootstrap(table: PairTable, fit: BTFit, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    samples = bootstrap_scores(table, fit, rounds, np.random.default_rng(data_seed(table)))
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    return low, high


def pair_cell_bootstrap(table: PairTable, fit: BTFit, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Parley's bootstrap before: each pair's outcomes redrawn with its total fixed and
    the observed shares, refitted at the full fit's tie shape and prior."""
    rng = np.random.default_rng(data_seed(table))
    shares = np.stack([table.wins_i, table.wins_j, table.fit_ties], axis=1) / table.battles[:, None]
    samples = []
    for _ in range(rounds):
        cells = np.array(
            [rng.multinomial(n, p) for n, p in zip(table.battles.astype(int), shares, strict=True)]
        )
        counts = [
            PairCount(table.models[i], table.models[j], a, b, t)
            for i, j, (a, b, t) in zip(table.i, table.j, cells, strict=True)
        ]
        again = PairTable.from_counts(counts)
        if again.models != table.models:  # a pair that lost every battle: keep the shape
            continue
        refit = fit_bradley_terry(again, tie_shape=fit.tie_shape, prior_sd=fit.prior_sd)
        samples.append(refit.scores)
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    return low, high


def draw(args: argparse.Namespace, seed: int) -> tuple[np.ndarray, list[PairCount], np.ndarray]:
    """True ratings, pair counts, and each model's vote count (0: established)."""
    rng = np.random.default_rng(seed)
    old = args.established
    newcomers = args.per_count * len(VOTE_COUNTS)
    truth = rng.normal(1000, args.truth_sd, old + newcomers)
    a = rng.integers(0, old, args.battles)
    b = (a + rng.integers(1, old, args.battles)) % old
    votes = np.zeros(old + newcomers, dtype=int)
    firsts, seconds = [a], [b]
    for n, count in enumerate(np.repeat(VOTE_COUNTS, args.per_count)):
        model = old + n
        votes[model] = count
        firsts.append(np.full(count, model))
        seconds.append(rng.integers(0, old, count))
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    swap = rng.random(len(a)) < 0.5  # newcomers are shown left or right at random
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    result = outcomes(truth, a, b, 0.1, args.tie_model, rng)
    size = len(truth)
    cells = np.zeros((size, size, 4), dtype=np.int64)
    np.add.at(cells, (a, b, result), 1)
    counts = [
        PairCount(f"m{i:03d}", f"m{j:03d}", *cells[i, j])
        for i in range(size)
        for j in range(size)
        if i != j and cells[i, j].sum()
    ]
    return truth, counts, votes


def run(args: argparse.Namespace) -> dict[str, dict[str, dict[str, float]]]:
    """Per method and vote count: coverage, tail coverage, mean width."""
    methods: dict[str, tuple[float | None, Method]] = {
        "Parley (the wider of the two below)": (None, cautious),
        "sandwich, Parley's prior": (None, sandwich),
        "posterior, Parley's prior": (None, posterior),
        "bootstrap, Parley's prior": (None, bootstrap),
    }
    methods |= {f"sandwich, prior sd {sd:g}": (sd, sandwich) for sd in args.prior_sd}
    methods |= {
        "sandwich, before": (BEFORE_SD, sandwich),
        "bootstrap, before": (BEFORE_SD, pair_cell_bootstrap),
    }
    hits: dict[str, dict[str, list[float]]] = {name: {} for name in methods}
    for seed in range(args.seeds):
        truth, counts, votes = draw(args, seed)
        table = PairTable.from_counts(counts)
        firm = table.per_model(table.battles, table.battles) >= PROVISIONAL_VOTES
        tails = np.abs(truth - 1000) > 1.5 * args.truth_sd
        for name, (sd, method) in methods.items():
            if sd is None:  # the leaderboard's own: the firm models' spread, at least 200
                fit = board_fit(table, PROVISIONAL_VOTES)
                hits[name].setdefault("prior sd", []).append(fit.prior_sd)
            else:
                anchor = firm if sd != BEFORE_SD else np.ones(len(firm), dtype=bool)
                fit = replace(fit_bradley_terry(table, prior_sd=sd), anchor=anchor)
            centred = truth - truth[fit.anchor].mean() + 1000
            low, high = method(table, fit, args.rounds)
            covered = (low <= centred) & (centred <= high)
            for count in (0, *VOTE_COUNTS):
                group = votes == count
                cell = hits[name]
                cell.setdefault(f"cover {count}", []).extend(covered[group].tolist())
                cell.setdefault(f"tails {count}", []).extend(covered[group & tails].tolist())
                cell.setdefault(f"width {count}", []).extend((high - low)[group].tolist())
    return {
        name: {key: statistics.fmean(v) if v else float("nan") for key, v in cells.items()}
        for name, cells in hits.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--established", type=int, default=20)
    parser.add_argument("--battles", type=int, default=20_000, help="among the established")
    parser.add_argument("--per-count", type=int, default=5, help="newcomers per vote count")
    parser.add_argument("--truth-sd", type=float, default=150.0)
    parser.add_argument("--tie-model", choices=TIE_MODELS, default="constant")
    parser.add_argument("--rounds", type=int, default=100, help="bootstrap rounds")
    parser.add_argument(
        "--prior-sd", type=float, nargs="*", default=[], help="fixed prior sds to compare"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"{args.seeds} seeds; truth N(1000, {args.truth_sd:g}); {args.tie_model} ties;"
        f" {args.established} established models, {args.battles:,} battles among them;"
        f" {args.per_count} newcomers per vote count"
    )
    spread = figures["Parley (the wider of the two below)"]["prior sd"]
    print(f"Parley's prior sd (the firm models' spread, at least 200): {spread:.0f} on average")
    columns = [*VOTE_COUNTS, 0]
    head = "".join(f"{c if c else 'estab.':>8}" for c in columns)
    for what, form in (("cover", "{:8.1%}"), ("tails", "{:8.1%}"), ("width", "{:8.0f}")):
        print(f"\n{what} by votes{'':27}{head}")
        for name, cells in figures.items():
            row = "".join(form.format(cells[f"{what} {c}"]) for c in columns)
            print(f"{name:42}{row}")


if __name__ == "__main__":
    main()
