"""From outcomes to ratings: online Elo, and Bradley-Terry with ties and bootstrap intervals.

Bradley-Terry is fitted on the O(models²) table of pair counts, never on vote rows, so
a million votes cost what a thousand do. Ties follow Davidson (1970): P(tie) is
ν·√(πᵢπⱼ)/(πᵢ + πⱼ + ν·√(πᵢπⱼ)), with ν fitted too. Counting a tie as half a win, as
FastChat does, pulls every rating toward the middle. "Both bad" is a tie in the fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from arena.types import Choice

__all__ = [
    "ELO_BASE",
    "ELO_INITIAL",
    "ELO_K",
    "ELO_SCALE",
    "BTFit",
    "PairTable",
    "bootstrap_scores",
    "fit_bradley_terry",
    "online_elo",
    "rank_upper_bounds",
]

ELO_K = 4.0
ELO_SCALE = 400.0
ELO_BASE = 10.0
ELO_INITIAL = 1000.0
RIDGE = 1e-3  # a whisper of prior: keeps undefeated models finite, negligible with data
SCORE_PER_LOG = ELO_SCALE / math.log(ELO_BASE)  # natural-log strength -> Elo points


def online_elo(battles: Iterable[tuple[str, str, Choice]], k: float = ELO_K) -> dict[str, float]:
    """Chatbot Arena's online Elo over (model_a, model_b, choice) in time order."""
    ratings: dict[str, float] = {}
    for model_a, model_b, choice in battles:
        ra = ratings.setdefault(model_a, ELO_INITIAL)
        rb = ratings.setdefault(model_b, ELO_INITIAL)
        expected_a = 1 / (1 + ELO_BASE ** ((rb - ra) / ELO_SCALE))
        actual_a = {"a": 1.0, "b": 0.0}.get(choice, 0.5)
        ratings[model_a] = ra + k * (actual_a - expected_a)
        ratings[model_b] = rb + k * ((1 - actual_a) - (1 - expected_a))
    return ratings


@dataclass(frozen=True)
class PairTable:
    """Pair counts as arrays: for pair p, model ``i[p]`` beat ``j[p]`` ``wins_i[p]`` times."""

    models: list[str]
    i: np.ndarray
    j: np.ndarray
    wins_i: np.ndarray
    wins_j: np.ndarray
    ties: np.ndarray  # ties and both-bad together

    @classmethod
    def from_counts(cls, counts: Sequence) -> PairTable:
        """From objects with model_a, model_b, a_wins, b_wins, ties, both_bad."""
        models = sorted({c.model_a for c in counts} | {c.model_b for c in counts})
        index = {m: n for n, m in enumerate(models)}
        return cls(
            models,
            np.array([index[c.model_a] for c in counts], dtype=np.int64),
            np.array([index[c.model_b] for c in counts], dtype=np.int64),
            np.array([c.a_wins for c in counts], dtype=np.float64),
            np.array([c.b_wins for c in counts], dtype=np.float64),
            np.array([c.ties + c.both_bad for c in counts], dtype=np.float64),
        )


@dataclass(frozen=True)
class BTFit:
    """Strengths in natural-log units (mean 0), the tie parameter, and Elo-scale scores."""

    strengths: np.ndarray
    log_nu: float

    @property
    def scores(self) -> np.ndarray:
        return SCORE_PER_LOG * self.strengths + ELO_INITIAL


def negative_log_likelihood(
    params: np.ndarray, table: PairTable, wins_i: np.ndarray, wins_j: np.ndarray, ties: np.ndarray
) -> tuple[float, np.ndarray]:
    """Davidson's model: the value and gradient, vectorised over pairs."""
    n = len(table.models)
    beta, log_nu = params[:n], params[n]
    a, b = beta[table.i], beta[table.j]
    tie_term = log_nu + (a + b) / 2
    top = np.maximum(np.maximum(a, b), tie_term)
    ea, eb, et = np.exp(a - top), np.exp(b - top), np.exp(tie_term - top)
    total = ea + eb + et
    log_denominator = top + np.log(total)
    count = wins_i + wins_j + ties
    ll = wins_i @ a + wins_j @ b + ties @ tie_term - count @ log_denominator
    pa, pb, pt = ea / total, eb / total, et / total
    grad_a = wins_i + ties / 2 - count * (pa + pt / 2)
    grad_b = wins_j + ties / 2 - count * (pb + pt / 2)
    grad = np.zeros(n + 1)
    np.add.at(grad, table.i, grad_a)
    np.add.at(grad, table.j, grad_b)
    grad[n] = float(np.sum(ties - count * pt))
    ll -= RIDGE * beta @ beta
    grad[:n] -= 2 * RIDGE * beta
    return -ll, -grad


def fit_bradley_terry(
    table: PairTable,
    wins_i: np.ndarray | None = None,
    wins_j: np.ndarray | None = None,
    ties: np.ndarray | None = None,
    start: BTFit | None = None,
) -> BTFit:
    """Maximum likelihood by L-BFGS with the analytic gradient (counts default to the table's)."""
    n = len(table.models)
    counts = (
        table.wins_i if wins_i is None else wins_i,
        table.wins_j if wins_j is None else wins_j,
        table.ties if ties is None else ties,
    )
    x0 = np.append(start.strengths, start.log_nu) if start else np.append(np.zeros(n), -1.0)
    result = minimize(
        negative_log_likelihood,
        x0,
        args=(table, *counts),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 500, "gtol": 1e-8},
    )
    beta = result.x[:n] - result.x[:n].mean()
    return BTFit(beta, float(result.x[n]))


def bootstrap_scores(
    table: PairTable, fit: BTFit, rounds: int, rng: np.random.Generator
) -> np.ndarray:
    """Scores refitted on ``rounds`` multinomial resamples of the whole outcome table.

    Resampling the cells (pair x outcome) with the total fixed is resampling battles,
    without ever touching one row per battle. Returns an array (rounds, models).
    """
    cells = np.concatenate([table.wins_i, table.wins_j, table.ties])
    total = int(cells.sum())
    draws = rng.multinomial(total, cells / total, size=rounds)
    pairs = len(table.i)
    out = np.empty((rounds, len(table.models)))
    for r, draw in enumerate(draws):
        w_i, w_j, t = draw[:pairs], draw[pairs : 2 * pairs], draw[2 * pairs :]
        out[r] = fit_bradley_terry(
            table, w_i.astype(float), w_j.astype(float), t.astype(float), fit
        ).scores
    return out


def rank_upper_bounds(ci_low: np.ndarray, ci_high: np.ndarray) -> np.ndarray:
    """Rank (UB) as Chatbot Arena defines it: 1 + models whose lower bound beats my upper."""
    return 1 + (ci_low[None, :] > ci_high[:, None]).sum(axis=1)
