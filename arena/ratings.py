"""From pair counts to ratings: Bradley-Terry with ties, and its intervals.

Bradley-Terry is fitted on the models x models table of pair counts, never on vote rows,
so a million votes cost what a thousand do. The likelihood (``arena.likelihood``) gives
a tie the weight ν·cosh(d)^λ beside e^d and e^-d for the two wins, d half the strength
gap. λ = 0 is Davidson (1970), whose ties grow rarer as the gap grows; λ = 1 makes the
tie rate ν/(2 + ν) whatever the gap. Real votes follow neither for sure, so λ is fitted
in [0, 1] by likelihood along with the strengths and ν. Either way, given that a battle
was not a tie, i wins with the Bradley-Terry probability 1/(1 + e^(βⱼ - βᵢ)), so the
scores mean the same thing whatever λ is. Counting a tie as half a win, as FastChat
does, pulls every rating toward the middle. "Both bad" is a tie.

Scores are on the Elo scale, ``400·log10(e^βᵢ) + 1000``, anchored so that the mean of the
strengths is 0, i.e. the mean score is 1000. Each strength has a normal prior about the
mean (``arena.likelihood.PRIOR_SD``), so a model with one vote gets a finite score and
an interval as wide as its evidence. The fit is damped Fisher scoring with the analytic
gradient and information, λ included. Intervals: ``score_covariance`` gives the sandwich
(robust) covariance that LMArena's arena-rank reports, with the prior counted as data;
``bootstrap_scores`` refits resampled tables, all rounds at once, each with its prior
centre drawn from the prior, which is what lets a one-vote model's interval stay wide.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import numpy as np

from arena.elo import ELO_INITIAL, SCORE_PER_LOG
from arena.likelihood import (
    PRIOR_SD,
    Point,
    Rounds,
    bordered,
    evaluate,
    gradient,
    information,
    moments,
    shape_terms,
    strength_precision,
)
from arena.pair_table import PairTable

if TYPE_CHECKING:
    from threadpoolctl import ThreadpoolController

__all__ = [
    "BTFit",
    "bootstrap_scores",
    "cautious_covariance",
    "data_seed",
    "fit_bradley_terry",
    "normal_intervals",
    "rank_upper_bounds",
    "score_covariance",
    "spread_prior_sd",
]

MIN_SPREAD_MODELS = 3  # firm models needed before their spread sets the prior
MAX_NEWTON_STEPS = 100
MAX_HALVINGS = 30
CHORD_STEPS = 12

_P = ParamSpec("_P")
_T = TypeVar("_T")
_BLAS = threading.RLock()


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The loaded libraries' thread pools, found once (~10 ms with the import)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread(work: Callable[_P, _T]) -> Callable[_P, _T]:
    """Run ``work`` with the linear algebra library on one thread. The systems solved
    here are at most a few hundred wide, where a second thread only adds hand-offs,
    and on a busy machine OpenBLAS's waiting threads made each solve 50 times slower
    (a 200-model fit took 1-2 s instead of 0.02 s). One caller at a time, since the
    limit is process-wide and two overlapping limits would restore the wrong count."""

    @functools.wraps(work)
    def limited(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        with _BLAS, _blas_controller().limit(limits=1, user_api="blas"):
            return work(*args, **kwargs)

    return limited


@dataclass(frozen=True)
class BTFit:
    """Strengths in natural-log units (mean 0), the tie parameters, and Elo-scale scores.

    ``tie_shape`` is λ of the tie model (see the module docstring): 0 is Davidson's
    gap-dependent ties, 1 ties whose rate does not depend on the gap. ``prior_sd`` is
    the sd of the strengths' prior, in Elo points, that the fit was made with.
    ``anchor`` marks the models whose mean score is 1000 (None: all of them); scores,
    their covariance and the bootstrap all use it. Anchoring on the models with enough
    votes keeps a newcomer's uncertainty out of everyone else's interval: the mean of
    all models moves with every model's error, the newcomer's included.
    """

    strengths: np.ndarray
    log_nu: float
    tie_shape: float = 0.0
    coefficients: np.ndarray = field(default_factory=lambda: np.zeros(0))  # one per covariate
    prior_sd: float = PRIOR_SD
    anchor: np.ndarray | None = None

    @property
    def scores(self) -> np.ndarray:
        return self.elo_scale(self.strengths)

    def elo_scale(self, strengths: np.ndarray) -> np.ndarray:
        """Strengths (last axis: models) as scores, the anchor models' mean at 1000."""
        level = strengths @ self.anchor_weights()
        return SCORE_PER_LOG * (strengths - np.expand_dims(level, -1)) + ELO_INITIAL

    def anchor_weights(self) -> np.ndarray:
        """Per model, its weight in the mean that is held at 1000."""
        n = len(self.strengths)
        if self.anchor is None or not np.any(self.anchor):
            return np.full(n, 1 / n)
        mask = np.asarray(self.anchor, dtype=bool)
        return mask / mask.sum()

    @property
    def nu(self) -> float:
        return math.exp(self.log_nu)


def _newton_step(point: Point, table: PairTable, rounds: Rounds) -> np.ndarray:
    """The scoring (Newton with the expected Hessian) direction per round, (R, n + k + 1)."""
    info = information(point, table, rounds.battles)
    return np.linalg.solve(info, gradient(point, table, rounds)[:, :, None])[:, :, 0]


def _fit_rounds(
    table: PairTable,
    rounds: Rounds,
    beta: np.ndarray,
    log_nu: np.ndarray,
    shape: float,
    tolerance: float,
) -> Point:
    """Damped scoring steps for R tables at once at a fixed tie shape, until every
    round's step is below ``tolerance`` (natural-log units). A step that would lower a
    round's likelihood is halved until it does not. Strengths come back with mean 0."""
    n = beta.shape[1]  # strengths and covariate coefficients
    point = evaluate(beta, log_nu, shape, table, rounds)
    for _ in range(MAX_NEWTON_STEPS):
        step = _newton_step(point, table, rounds)
        scale = np.ones(len(step))
        for _ in range(MAX_HALVINGS):
            trial = evaluate(
                point.beta + scale[:, None] * step[:, :n],
                point.log_nu + scale * step[:, n],
                shape,
                table,
                rounds,
            )
            slack = 1e-12 * np.abs(point.log_likelihood)
            worse = trial.log_likelihood < point.log_likelihood - slack
            # a step already below tolerance is accepted: the likelihood is flat there
            worse &= np.abs(scale[:, None] * step).max(axis=1) >= tolerance
            if not worse.any():
                break
            scale[worse] /= 2
        point = trial
        if np.abs(scale[:, None] * step).max() < tolerance:
            break
    return replace(point, beta=_centred(point.beta, len(table.models)))


def _centred(beta: np.ndarray, n: int) -> np.ndarray:
    """The strengths (first n columns) shifted to mean 0; coefficients untouched."""
    out = beta.copy()
    out[:, :n] -= out[:, :n].mean(axis=1, keepdims=True)
    return out


def _start(table: PairTable, start: BTFit | None) -> tuple[np.ndarray, np.ndarray]:
    """One round's (beta with coefficients, log ν) to start from."""
    n, k = len(table.models), table.z.shape[1]
    beta = np.zeros((1, n + k))
    if start is not None and len(start.strengths) == n:
        beta[0, :n] = start.strengths
        beta[0, n:] = start.coefficients if len(start.coefficients) == k else 0.0
    return beta, np.array([start.log_nu if start is not None else -1.0])


def _as_fit(point: Point, n: int, prior_sd: float) -> BTFit:
    beta = _centred(point.beta, n)[0]
    return BTFit(beta[:n], float(point.log_nu[0]), point.shape, beta[n:], prior_sd)


def _shape_step(point: Point, table: PairTable, rounds: Rounds) -> np.ndarray:
    """One scoring direction in (beta, θ, log ν, λ) for a single round. λ stays in
    [0, 1]: at a bound that the step would cross, λ is held there for this step."""
    grad = gradient(point, table, rounds)[0]
    info = information(point, table, rounds.battles)[0]
    score, row = shape_terms(point, table, rounds)
    if row[-1] > 1e-12:  # λ has information (not at the start, where every d is 0)
        full = np.block([[info, row[:-1, None]], [row[None, :]]])
        step = np.linalg.solve(full, np.append(grad, score))
        leaving = (point.shape <= 0 and step[-1] < 0) or (point.shape >= 1 and step[-1] > 0)
        if not leaving:
            return step
    return np.append(np.linalg.solve(info, grad), 0.0)


def _fit_with_shape(
    table: PairTable, start: BTFit | None, tolerance: float, prior_sd: float
) -> BTFit:
    """The posterior mode over the strengths, coefficients, log ν and λ in [0, 1]
    together: damped scoring in all of them, so one fit finds λ too."""
    rounds = Rounds.observed(table, prior_sd)
    beta, log_nu = _start(table, start)
    shape = start.tie_shape if start is not None else 0.5
    point = evaluate(beta, log_nu, shape, table, rounds)
    width = beta.shape[1]
    for _ in range(MAX_NEWTON_STEPS):
        step = _shape_step(point, table, rounds)
        scale = 1.0
        if step[-1]:  # as far along the step as λ may go
            bound = 1.0 if step[-1] > 0 else 0.0
            scale = min(1.0, (bound - point.shape) / step[-1])
        stopped = scale < 1  # at a bound: the next step goes on without λ
        for _ in range(MAX_HALVINGS):
            trial = evaluate(
                point.beta + scale * step[None, :width],
                point.log_nu + scale * step[width],
                float(np.clip(point.shape + scale * step[-1], 0.0, 1.0)),
                table,
                rounds,
            )
            small = scale * np.abs(step).max() < tolerance
            slack = 1e-12 * abs(point.log_likelihood[0])
            if small or trial.log_likelihood[0] >= point.log_likelihood[0] - slack:
                break
            scale /= 2
        point = trial
        if not stopped and scale * np.abs(step).max() < tolerance:
            break
    return _as_fit(point, len(table.models), prior_sd)


def spread_prior_sd(fit: BTFit, members: np.ndarray) -> float:
    """The sd for the strengths' prior read from the data: the spread (sd) of the scores
    of ``members`` (a mask: the models with enough votes to be well measured), never
    below ``PRIOR_SD``, and ``PRIOR_SD`` with fewer than three members. A newcomer is
    taken to be drawn from the models already rated (empirical Bayes), so on a board
    whose models differ by more than the default allows, its interval widens to match."""
    scores = fit.scores[np.asarray(members, dtype=bool)]
    if len(scores) < MIN_SPREAD_MODELS:
        return PRIOR_SD
    return max(PRIOR_SD, float(np.std(scores, ddof=1)))


@_one_blas_thread
def fit_bradley_terry(
    table: PairTable,
    *,
    start: BTFit | None = None,
    tolerance: float = 1e-9,
    tie_shape: float | None = None,
    prior_sd: float = PRIOR_SD,
) -> BTFit:
    """The posterior mode of Bradley-Terry with the nested tie model on the table.

    ``tie_shape`` fixes λ; by default it is fitted in [0, 1] with the rest. ``start``
    (an earlier fit of the same models) only saves steps. ``prior_sd`` is the sd of
    each strength's prior in Elo points. Models only compared within separate groups
    are held together by the prior alone, so scores across such groups mean little
    (their intervals show it).
    """
    if tie_shape is not None and not 0 <= tie_shape <= 1:
        raise ValueError(f"tie shape must lie in [0, 1], not {tie_shape}")
    if prior_sd <= 0:
        raise ValueError(f"the prior's sd must be positive, not {prior_sd}")
    if tie_shape is None and table.fit_ties.any():
        return _fit_with_shape(table, start, tolerance, prior_sd)
    beta, log_nu = _start(table, start)
    shape = tie_shape or 0.0  # without ties, λ has nothing to explain
    rounds = Rounds.observed(table, prior_sd)
    point = _fit_rounds(table, rounds, beta, log_nu, shape, tolerance)
    return _as_fit(point, len(table.models), prior_sd)


def data_seed(table: PairTable) -> int:
    """A bootstrap seed taken from the counts themselves: the same votes, the same board."""
    digest = hashlib.sha256("\n".join(table.models).encode())
    for part in (table.i, table.j, table.wins_i, table.wins_j, table.ties, table.both_bad):
        digest.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
    return int.from_bytes(digest.digest()[:8], "little")


@_one_blas_thread
def bootstrap_scores(
    table: PairTable,
    fit: BTFit,
    rounds: int,
    rng: np.random.Generator,
    *,
    tolerance: float = 1e-6,
) -> np.ndarray:
    """Scores refitted on ``rounds`` resampled tables, shape (rounds, models).

    Each round resamples the battles, as FastChat's bootstrap does: every outcome
    count of every pair is drawn from a Poisson with the observed count as its mean
    (the Poisson bootstrap; a battle's weight is Poisson(1)), so a model whose pairs
    met once each still varies. Holding each pair's total fixed instead would make
    such a pair resample to itself and its model look certain. Each round also draws
    its prior centres from the prior (a randomised prior), so the prior's share of the
    uncertainty, nearly all of it for a model with a vote or two, shows in the spread as
    it does in the sandwich. The tie shape stays at the full fit's. All rounds are
    refitted together from the full fit (chord steps, then damped scoring for any
    straggler). Tables with covariates (one row per battle) have nothing to resample
    per pair; use ``score_covariance`` for them.
    """
    if table.z.shape[1]:
        raise ValueError("the bootstrap resamples pair counts; this table has covariates")
    shape = (rounds, len(table.i))
    wins_i = rng.poisson(table.wins_i, shape).astype(float)
    wins_j = rng.poisson(table.wins_j, shape).astype(float)
    ties = rng.poisson(table.fit_ties, shape).astype(float)
    centres = rng.normal(0.0, fit.prior_sd / SCORE_PER_LOG, (rounds, len(table.models)))
    precision = strength_precision(fit.prior_sd)
    counts = Rounds(wins_i, wins_j, ties, wins_i + wins_j + ties, precision, centres)
    beta, converged = _chord_rounds(table, counts, fit, tolerance)
    if not converged.all():  # far from the full fit: damped scoring, round by round
        slow = np.flatnonzero(~converged)
        some = Rounds(
            wins_i[slow], wins_j[slow], ties[slow], counts.battles[slow], precision, centres[slow]
        )
        start_beta = np.repeat(fit.strengths[None, :], len(slow), axis=0)
        start_nu = np.full(len(slow), fit.log_nu)
        beta[slow] = _fit_rounds(table, some, start_beta, start_nu, fit.tie_shape, tolerance).beta
    return fit.elo_scale(beta)


def _chord_rounds(
    table: PairTable, rounds: Rounds, fit: BTFit, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Scoring steps with the full fit's information for every round (the chord method).

    Resampled tables sit close to the full one, so its information, inverted once, is
    nearly right for all of them and each step cuts the error about a hundredfold.
    Returns strengths (mean 0) and which rounds converged within ``CHORD_STEPS``.
    """
    count, n = len(rounds.wins_i), len(table.models)
    beta = np.repeat(fit.strengths[None, :], count, axis=0)
    log_nu = np.full(count, fit.log_nu)
    observed = Rounds.observed(table, fit.prior_sd)
    full = evaluate(*_at(fit), fit.tie_shape, table, observed, likelihood=False)
    inverse = np.linalg.inv(information(full, table, table.battles)[0])
    converged = np.zeros(count, dtype=bool)
    for _ in range(CHORD_STEPS):
        point = evaluate(beta, log_nu, fit.tie_shape, table, rounds, likelihood=False)
        step = gradient(point, table, rounds) @ inverse
        step[converged] = 0.0
        beta += step[:, :n]
        log_nu += step[:, n]
        converged |= np.abs(step).max(axis=1) < tolerance
        if converged.all():
            break
    return beta - beta.mean(axis=1, keepdims=True), converged


@_one_blas_thread
def score_covariance(table: PairTable, fit: BTFit, *, robust: bool = True) -> np.ndarray:
    """The covariance of the scores (Elo points², models x models) from the fit.

    ``robust`` gives the sandwich estimator H⁻¹·(M + P)·H⁻¹: M sums each battle's outer
    product of scores, so it holds when the tie model is wrong, as LMArena's arena-rank
    does, and P, the prior's precision, counts the prior as the data it stands for
    (H = information + P). Averaged over the prior this is the estimate's mean squared
    error, bias included, which is what keeps a one-vote model's interval wide where M
    alone would call it certain. Otherwise H⁻¹, the posterior covariance. The anchor
    models' mean score is fixed at 1000, so the covariance is projected onto that
    constraint.
    """
    n = len(table.models)
    rounds = Rounds.observed(table, fit.prior_sd)
    point = evaluate(*_at(fit), fit.tie_shape, table, rounds)
    inverse = np.linalg.inv(information(point, table, table.battles)[0])
    if robust:
        mean, _, _ = moments(point)
        p_tie = point.p_tie
        # each outcome's (y score, tie score) and how often it happened
        outcomes = [
            (0.5 - mean, -p_tie, rounds.wins_i),
            (-0.5 - mean, -p_tie, rounds.wins_j),
            (point.slope / 2 - mean, 1 - p_tie, rounds.ties),
        ]
        yy = sum(c * u**2 for u, _, c in outcomes)
        yt = sum(c * u * t for u, t, c in outcomes)
        tt = sum(c * t**2 for _, t, c in outcomes)
        meat = bordered(table, yy, yt, tt)[0]
        meat[np.diag_indices_from(meat)] += point.precision
        inverse = inverse @ meat @ inverse
    centre = np.eye(n) - fit.anchor_weights()[None, :]
    return SCORE_PER_LOG**2 * centre @ inverse[:n, :n] @ centre.T


def cautious_covariance(table: PairTable, fit: BTFit) -> np.ndarray:
    """A diagonal score covariance: per model the larger of the sandwich variance and the
    posterior one. The sandwich holds where the tie model is wrong, which shows with many
    votes; with a few, its middle term is a handful of outer products, noisy and often
    small, and the model's own variance is the honest floor."""
    robust = np.diag(score_covariance(table, fit))
    model = np.diag(score_covariance(table, fit, robust=False))
    return np.diag(np.maximum(robust, model))


def _at(fit: BTFit) -> tuple[np.ndarray, np.ndarray]:
    """The fit as one round's (beta with coefficients, log ν)."""
    return np.concatenate([fit.strengths, fit.coefficients])[None, :], np.array([fit.log_nu])


def normal_intervals(
    fit: BTFit, covariance: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Score ± z·standard error from a score covariance (e.g. ``score_covariance``)."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    half = z * np.sqrt(np.clip(np.diag(covariance), 0, None))
    return fit.scores - half, fit.scores + half


def rank_upper_bounds(
    ci_low: np.ndarray, ci_high: np.ndarray, counted: np.ndarray | None = None
) -> np.ndarray:
    """Rank (UB) as Chatbot Arena defines it: 1 + the models whose lower bound beats my
    upper bound, counting only the ``counted`` ones (a boolean mask; default all), so a
    model too new to rank moves nobody else's rank."""
    above = ci_low[None, :] > ci_high[:, None]
    if counted is not None:
        above &= np.asarray(counted, dtype=bool)[None, :]
    return 1 + above.sum(axis=1)
