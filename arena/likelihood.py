"""The Bradley-Terry likelihood with ties on a pair table, for many rounds at once.

With strengths βᵢ (natural-log units) and d = (βᵢ - βⱼ)/2, the outcome weights are e^d
(i wins), e^-d (j wins) and ν·cosh(d)^λ (a tie), each divided by their sum; covariates
(style differences) add θ·z to βᵢ - βⱼ. ``arena.ratings`` fits and bootstraps with these
pieces: the probabilities, the log-likelihood with its prior, the gradient and the
Fisher information, each for R rounds (resampled tables) of the same pairs.

The prior: each strength is normal about the mean strength with sd ``PRIOR_SD`` Elo
points. Votes outweigh it quickly (with 100 votes a model's score moves a few points),
but a model with one or two votes stays where its evidence puts it, within a few
hundred points of the others, instead of running off towards infinity with an
interval that claims certainty it does not have. The tie parameter log ν has a
whisper of prior (sd ~22) so a table without ties stays finite, and style
coefficients a standard normal one, as LMArena's contextual Bradley-Terry has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena.elo import SCORE_PER_LOG
from arena.pair_table import PairTable, scatter_sum

__all__ = [
    "COVARIATE_PRECISION",
    "NU_PRECISION",
    "PRIOR_SD",
    "Point",
    "Rounds",
    "bordered",
    "evaluate",
    "gradient",
    "information",
    "moments",
    "shape_terms",
    "strength_precision",
]

# Chosen on simulated votes with true ratings N(1000, 150) and confirmed on ratings
# twice as spread with the other tie model (docs/benchmarks.md, "Intervals at a few
# votes"): 95% intervals cover the truth from the first vote on.
PRIOR_SD = 200.0
NU_PRECISION = 2e-3
COVARIATE_PRECISION = 1.0


def strength_precision(prior_sd: float) -> float:
    """The precision of a strength's prior (natural-log units) for an sd in Elo points."""
    return (SCORE_PER_LOG / prior_sd) ** 2


@dataclass(frozen=True)
class Rounds:
    """Per round and pair: i's wins, j's wins, ties and battles (battles may be one row
    for all rounds); the strengths' prior precision, and per round its centre (None: 0
    for every round)."""

    wins_i: np.ndarray
    wins_j: np.ndarray
    ties: np.ndarray
    battles: np.ndarray
    strength_precision: float
    prior_centre: np.ndarray | None = None

    @classmethod
    def observed(cls, table: PairTable, prior_sd: float) -> Rounds:
        """The table's own counts as a single round."""
        return cls(
            table.wins_i[None],
            table.wins_j[None],
            table.fit_ties[None],
            table.battles,
            strength_precision(prior_sd),
        )

    def precision(self, n: int, k: int) -> np.ndarray:
        """The prior's precision per parameter: n strengths, k coefficients, log ν."""
        return np.concatenate(
            [np.full(n, self.strength_precision), np.full(k, COVARIATE_PRECISION), [NU_PRECISION]]
        )


@dataclass(frozen=True)
class Point:
    """The likelihood and outcome probabilities at one (beta, log ν), per round and pair.

    The common factor e^((βᵢ+βⱼ)/2) cancels: P(i) = e^d/E, P(j) = e^-d/E,
    P(tie) = ν·cosh(d)^λ/E with E = e^d + e^-d + ν·cosh(d)^λ, so one exponential per
    pair suffices and the likelihood needs no shift.
    """

    beta: np.ndarray  # (R, n + k): strengths, then covariate coefficients
    log_nu: np.ndarray  # (R,)
    shape: float  # λ
    log_likelihood: np.ndarray  # (R,), with the prior; NaN when not asked for
    p_i: np.ndarray  # (R, P)
    p_j: np.ndarray  # (R, P)
    p_tie: np.ndarray  # (R, P)
    slope: np.ndarray  # (R, P): λ·tanh(d), how a tie's log-probability moves with d
    log_cosh: np.ndarray  # (R, P): log cosh(d), how a tie's log-probability moves with λ
    precision: np.ndarray  # (n + k + 1,): the prior's, per parameter


def _offsets(beta: np.ndarray, log_nu: np.ndarray, rounds: Rounds, n: int) -> np.ndarray:
    """Each parameter's distance from its prior centre, (R, n + k + 1)."""
    params = np.concatenate([beta, log_nu[:, None]], axis=1)
    if rounds.prior_centre is None:
        return params
    out = params.copy()
    out[:, :n] -= rounds.prior_centre
    return out


def evaluate(
    beta: np.ndarray,
    log_nu: np.ndarray,
    shape: float,
    table: PairTable,
    rounds: Rounds,
    *,
    likelihood: bool = True,
) -> Point:
    """Probabilities at (beta, log ν) for tie shape λ, and the log-likelihood with the
    prior unless told it is not needed (chord steps never compare likelihoods)."""
    n = len(table.models)
    gap = beta[:, table.i] - beta[:, table.j]
    if n < beta.shape[1]:
        gap += beta[:, n:] @ table.z.T
    d = np.clip(gap / 2, -300, 300)  # e^300 is far inside float range
    up = np.exp(d)
    down = 1 / up
    both = up + down  # 2·cosh(d)
    nu = np.exp(log_nu)[:, None]
    log_cosh = np.log(both / 2)
    if shape == 0:  # Davidson, and λ = 1, without the power: the bootstrap's hot path
        tie = np.broadcast_to(nu, both.shape)
    elif shape == 1:
        tie = nu * both / 2
    else:
        tie = nu * np.exp(shape * log_cosh)
    total = both + tie
    prior = rounds.precision(n, beta.shape[1] - n)
    ll = np.full(len(beta), np.nan)
    if likelihood:
        offsets = _offsets(beta, log_nu, rounds, n)
        ll = (
            ((rounds.wins_i - rounds.wins_j) * d).sum(axis=1)
            + (rounds.ties * np.log(tie)).sum(axis=1)
            - (rounds.battles * np.log(total)).sum(axis=1)
            - 0.5 * (prior * offsets**2).sum(axis=1)
        )
    slope = shape * (up - down) / both  # λ·tanh(d)
    return Point(
        beta, log_nu, shape, ll, up / total, down / total, tie / total, slope, log_cosh, prior
    )


def moments(point: Point) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per battle of each pair, with y = ½([i wins] - [j wins] + λ·tanh(d)·[tie]) (the
    score of βᵢ; βⱼ's is -y) and t = [tie] (the score of log ν, plus a constant):
    E[y], Var(y) and Cov(y, t)."""
    p_i, p_j, p_tie, slope = point.p_i, point.p_j, point.p_tie, point.slope
    mean = (p_i - p_j + slope * p_tie) / 2
    var = (p_i + p_j + slope**2 * p_tie) / 4 - mean**2
    cov = p_tie * (slope / 2 - mean)
    return mean, var, cov


def gradient(point: Point, table: PairTable, rounds: Rounds) -> np.ndarray:
    """d log-likelihood / d(beta, θ, log ν) per round, shape (R, n + k + 1): observed
    minus expected y summed over each model's pairs (and weighted by each covariate),
    and observed minus expected ties, less the prior's pull."""
    count, width = point.beta.shape
    n = len(table.models)
    mean, _, _ = moments(point)
    g = (rounds.wins_i - rounds.wins_j + point.slope * rounds.ties) / 2 - rounds.battles * mean
    grad = np.empty((count, width + 1))
    grad[:, :n] = table.per_model(g, -g)
    grad[:, n:width] = g @ table.z
    grad[:, width] = (rounds.ties - rounds.battles * point.p_tie).sum(axis=1)
    offsets = _offsets(point.beta, point.log_nu, rounds, n)
    return grad - point.precision * offsets


def bordered(
    table: PairTable, weight: np.ndarray, cross: np.ndarray, corner: np.ndarray
) -> np.ndarray:
    """Σ over rows of weight·x·xᵀ with x = (eᵢ - eⱼ, the row's covariates), bordered by
    Σ cross·x and Σ corner: shape (R, n + k + 1, n + k + 1)."""
    count, n, z = weight.shape[0], len(table.models), table.z
    k = z.shape[1]
    out = np.zeros((count, n + k + 1, n + k + 1))
    out[:, :n, :n] = scatter_sum(
        np.concatenate([weight, weight, -weight, -weight], axis=1),
        np.concatenate(
            [table.i * (n + 1), table.j * (n + 1), table.i * n + table.j, table.j * n + table.i]
        ),
        n * n,
    ).reshape(count, n, n)
    for column in range(k):  # β-θ blocks
        side = table.per_model(weight * z[:, column], -weight * z[:, column])
        out[:, :n, n + column] = side
        out[:, n + column, :n] = side
    out[:, n : n + k, n : n + k] = np.einsum("rp,pa,pb->rab", weight, z, z)
    border = np.concatenate([table.per_model(cross, -cross), cross @ z], axis=1)
    out[:, : n + k, n + k] = border
    out[:, n + k, : n + k] = border
    out[:, n + k, n + k] = corner.sum(axis=1)
    return out


def information(point: Point, table: PairTable, battles: np.ndarray) -> np.ndarray:
    """The Fisher information per round plus the prior's precision, shape
    (R, n + k + 1, n + k + 1).

    It depends on how often pairs met, not on the observed counts, which lets the
    bootstrap reuse the full fit's. For λ = 0 it is also minus the Hessian.
    """
    _, var, cov = moments(point)
    tie_var = battles * point.p_tie * (1 - point.p_tie)
    info = bordered(table, battles * var, battles * cov, tie_var)
    width = point.beta.shape[1]
    diagonal = np.arange(width + 1)
    info[:, diagonal, diagonal] += point.precision
    return info


def shape_terms(point: Point, table: PairTable, rounds: Rounds) -> tuple[float, np.ndarray]:
    """For fitting λ beside the rest (one round): d log-likelihood / dλ, and λ's row of
    the Fisher information (against beta, θ, log ν, then λ itself).

    A tie's log-probability moves with λ by log cosh(d), so λ's score is log cosh(d)
    times log ν's, [tie] - P(tie), and its information borrows log ν's terms.
    """
    _, _, cov = moments(point)
    weight = point.log_cosh * rounds.battles
    tie_var = point.p_tie * (1 - point.p_tie)
    score = float((point.log_cosh * (rounds.ties - rounds.battles * point.p_tie)).sum())
    cross = weight * cov
    row = np.concatenate(
        [
            table.per_model(cross, -cross)[0],
            (cross @ table.z)[0],
            [(weight * tie_var).sum()],
            [(weight * point.log_cosh * tie_var).sum()],
        ]
    )
    return score, row
