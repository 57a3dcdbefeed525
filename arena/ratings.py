"""From pair counts to ratings: Bradley-Terry with ties, and its intervals.

Bradley-Terry is fitted on the models x models table of pair counts, never on vote rows,
so a million votes cost what a thousand do. With strengths βᵢ (natural-log units) and
d = (βᵢ - βⱼ)/2, the outcome weights are e^d (i wins), e^-d (j wins) and ν·cosh(d)^λ
(a tie), each divided by their sum. λ = 0 is Davidson (1970), whose ties grow rarer as
the gap grows; λ = 1 makes the tie rate ν/(2 + ν) whatever the gap. Real votes follow
neither for sure, so λ is chosen in [0, 1] by likelihood along with β and ν. Either way,
given that a battle was not a tie, i wins with the Bradley-Terry probability
1/(1 + e^(βⱼ - βᵢ)), so the scores mean the same thing whatever λ is. Counting a tie as
half a win, as FastChat does, pulls every rating toward the middle. "Both bad" is a tie.

Scores are on the Elo scale, ``400·log10(e^βᵢ) + 1000``, anchored so that the mean of the
strengths is 0, i.e. the mean score is 1000. The fit is damped Fisher scoring with the
analytic gradient and information on per-pair arrays; the bootstrap refits all its
rounds at once. Beside it, ``score_covariance`` gives the sandwich (robust) covariance
that LMArena's arena-rank reports, for normal intervals without resampling.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from statistics import NormalDist

import numpy as np

from arena.elo import ELO_INITIAL, SCORE_PER_LOG
from arena.pair_table import PairTable, scatter_sum

__all__ = [
    "BTFit",
    "bootstrap_scores",
    "data_seed",
    "fit_bradley_terry",
    "normal_intervals",
    "rank_upper_bounds",
    "score_covariance",
]

# A whisper of prior (a normal with sd ~22 natural-log units, ~3900 Elo points) on the
# strengths and log ν, so an undefeated model (or a table without ties) stays finite;
# with real data it moves scores by far less than 0.1.
RIDGE = 1e-3
# Covariates (style differences, standardised) get a standard normal prior on their
# coefficients: a little L2, as LMArena's contextual Bradley-Terry has.
COVARIATE_RIDGE = 0.5
MAX_NEWTON_STEPS = 100
MAX_HALVINGS = 30
CHORD_STEPS = 12
SHAPE_TOLERANCE = 0.02  # how finely the tie shape λ is chosen


@dataclass(frozen=True)
class BTFit:
    """Strengths in natural-log units (mean 0), the tie parameters, and Elo-scale scores.

    ``tie_shape`` is λ of the tie model (see the module docstring): 0 is Davidson's
    gap-dependent ties, 1 ties whose rate does not depend on the gap.
    """

    strengths: np.ndarray
    log_nu: float
    tie_shape: float = 0.0
    coefficients: np.ndarray = field(default_factory=lambda: np.zeros(0))  # one per covariate

    @property
    def scores(self) -> np.ndarray:
        return SCORE_PER_LOG * self.strengths + ELO_INITIAL

    @property
    def nu(self) -> float:
        return math.exp(self.log_nu)


@dataclass(frozen=True)
class _Point:
    """The likelihood and outcome probabilities at one (beta, log ν), per round and pair.

    With d = (βᵢ - βⱼ)/2 the common factor e^((βᵢ+βⱼ)/2) cancels: P(i) = e^d/E,
    P(j) = e^-d/E, P(tie) = ν·cosh(d)^λ/E with E = e^d + e^-d + ν·cosh(d)^λ, so one
    exponential per pair suffices and the likelihood needs no shift.
    """

    beta: np.ndarray  # (R, n + k): strengths, then covariate coefficients
    log_nu: np.ndarray  # (R,)
    log_likelihood: np.ndarray  # (R,)
    p_i: np.ndarray  # (R, P)
    p_j: np.ndarray  # (R, P)
    p_tie: np.ndarray  # (R, P)
    slope: np.ndarray  # (R, P): λ·tanh(d), how a tie's log-probability moves with d


@dataclass(frozen=True)
class _Counts:
    """Per round and pair: i's wins, j's wins, ties; and per pair the battles (fixed)."""

    wins_i: np.ndarray
    wins_j: np.ndarray
    ties: np.ndarray
    battles: np.ndarray


def _evaluate(
    beta: np.ndarray,
    log_nu: np.ndarray,
    shape: float,
    table: PairTable,
    counts: _Counts,
    *,
    likelihood: bool = True,
) -> _Point:
    """Probabilities at (beta, log ν) for tie shape λ, and the log-likelihood unless told
    it is not needed (it is NaN then: the chord steps never compare likelihoods)."""
    n = len(table.models)
    gap = beta[:, table.i] - beta[:, table.j]
    if n < beta.shape[1]:
        gap += beta[:, n:] @ table.z.T
    d = np.clip(gap / 2, -300, 300)  # e^300 is far inside float range
    up = np.exp(d)
    down = 1 / up
    both = up + down  # 2·cosh(d)
    nu = np.exp(log_nu)[:, None]
    if shape == 0:  # Davidson, and λ = 1, without the power: the bootstrap's hot path
        tie = np.broadcast_to(nu, both.shape)
    elif shape == 1:
        tie = nu * both / 2
    else:
        tie = nu * (both / 2) ** shape
    total = both + tie
    ll = np.full(len(beta), np.nan)
    if likelihood:
        ll = (
            ((counts.wins_i - counts.wins_j) * d).sum(axis=1)
            + (counts.ties * np.log(tie)).sum(axis=1)
            - (counts.battles * np.log(total)).sum(axis=1)
            - RIDGE * ((beta[:, :n] ** 2).sum(axis=1) + log_nu**2)
            - COVARIATE_RIDGE * (beta[:, n:] ** 2).sum(axis=1)
        )
    slope = shape * (up - down) / both  # λ·tanh(d)
    return _Point(beta, log_nu, ll, up / total, down / total, tie / total, slope)


def _moments(point: _Point) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per battle of each pair, with y = ½([i wins] - [j wins] + λ·tanh(d)·[tie]) (the
    score of βᵢ; βⱼ's is -y) and t = [tie] (the score of log ν, plus a constant):
    E[y], Var(y) and Cov(y, t)."""
    p_i, p_j, p_tie, slope = point.p_i, point.p_j, point.p_tie, point.slope
    mean = (p_i - p_j + slope * p_tie) / 2
    var = (p_i + p_j + slope**2 * p_tie) / 4 - mean**2
    cov = p_tie * (slope / 2 - mean)
    return mean, var, cov


def _ridge(n: int, k: int) -> np.ndarray:
    """The prior's precision per parameter (β, θ, log ν), times two."""
    return 2 * np.concatenate([np.full(n, RIDGE), np.full(k, COVARIATE_RIDGE), [RIDGE]])


def _gradient(point: _Point, table: PairTable, counts: _Counts) -> np.ndarray:
    """d log-likelihood / d(beta, θ, log ν) per round, shape (R, n + k + 1): observed
    minus expected y summed over each model's pairs (and weighted by each covariate),
    and observed minus expected ties."""
    rounds, width = point.beta.shape
    n = len(table.models)
    mean, _, _ = _moments(point)
    g = (counts.wins_i - counts.wins_j + point.slope * counts.ties) / 2 - counts.battles * mean
    grad = np.empty((rounds, width + 1))
    grad[:, :n] = table.per_model(g, -g)
    grad[:, n:width] = g @ table.z
    grad[:, width] = (counts.ties - counts.battles * point.p_tie).sum(axis=1)
    params = np.concatenate([point.beta, point.log_nu[:, None]], axis=1)
    return grad - _ridge(n, width - n) * params


def _bordered(
    table: PairTable, weight: np.ndarray, cross: np.ndarray, corner: np.ndarray
) -> np.ndarray:
    """Σ over rows of weight·x·xᵀ with x = (eᵢ - eⱼ, the row's covariates), bordered by
    Σ cross·x and Σ corner: shape (R, n + k + 1, n + k + 1)."""
    rounds, n, z = weight.shape[0], len(table.models), table.z
    k = z.shape[1]
    out = np.zeros((rounds, n + k + 1, n + k + 1))
    out[:, :n, :n] = scatter_sum(
        np.concatenate([weight, weight, -weight, -weight], axis=1),
        np.concatenate(
            [table.i * (n + 1), table.j * (n + 1), table.i * n + table.j, table.j * n + table.i]
        ),
        n * n,
    ).reshape(rounds, n, n)
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


def _information(point: _Point, table: PairTable, battles: np.ndarray) -> np.ndarray:
    """The Fisher information per round (plus the ridge), shape (R, n + k + 1, n + k + 1).

    It depends on how often pairs met, not on the observed counts, which lets the
    bootstrap reuse the full fit's. For λ = 0 it is also minus the Hessian.
    """
    _, var, cov = _moments(point)
    tie_var = battles * point.p_tie * (1 - point.p_tie)
    info = _bordered(table, battles * var, battles * cov, tie_var)
    width = point.beta.shape[1]
    diagonal = np.arange(width + 1)
    info[:, diagonal, diagonal] += _ridge(len(table.models), width - len(table.models))
    return info


def _newton_step(point: _Point, table: PairTable, counts: _Counts) -> np.ndarray:
    """The scoring (Newton with the expected Hessian) direction per round, (R, n + k + 1)."""
    info = _information(point, table, counts.battles)
    return np.linalg.solve(info, _gradient(point, table, counts)[:, :, None])[:, :, 0]


def _fit_rounds(
    table: PairTable,
    counts: _Counts,
    beta: np.ndarray,
    log_nu: np.ndarray,
    shape: float,
    tolerance: float,
) -> _Point:
    """Damped scoring steps for R tables at once, until every round's step is below
    ``tolerance`` (natural-log units). A step that would lower a round's likelihood is
    halved until it does not. Strengths come back with mean 0 per round."""
    n = beta.shape[1]  # strengths and covariate coefficients
    point = _evaluate(beta, log_nu, shape, table, counts)
    for _ in range(MAX_NEWTON_STEPS):
        step = _newton_step(point, table, counts)
        scale = np.ones(len(step))
        for _ in range(MAX_HALVINGS):
            trial = _evaluate(
                point.beta + scale[:, None] * step[:, :n],
                point.log_nu + scale * step[:, n],
                shape,
                table,
                counts,
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


def _fit_at_shape(
    table: PairTable, shape: float, start: BTFit | None, tolerance: float
) -> tuple[BTFit, float]:
    """The fit for one tie shape λ, and its log-likelihood."""
    n, k = len(table.models), table.z.shape[1]
    beta = np.zeros((1, n + k))
    if start:
        beta[0, :n] = start.strengths
        beta[0, n:] = start.coefficients if len(start.coefficients) == k else 0.0
    log_nu = np.array([start.log_nu if start else -1.0])
    point = _fit_rounds(table, _observed(table), beta, log_nu, shape, tolerance)
    fit = BTFit(point.beta[0, :n], float(point.log_nu[0]), shape, point.beta[0, n:])
    return fit, float(point.log_likelihood[0])


def _observed(table: PairTable) -> _Counts:
    """The table's own counts as a single round."""
    return _Counts(table.wins_i[None], table.wins_j[None], table.fit_ties[None], table.battles)


def fit_bradley_terry(
    table: PairTable,
    *,
    start: BTFit | None = None,
    tolerance: float = 1e-9,
    tie_shape: float | None = None,
) -> BTFit:
    """Maximum likelihood of Bradley-Terry with the nested tie model on the table.

    ``tie_shape`` fixes λ; by default it is chosen in [0, 1] by likelihood (a
    golden-section search with the ends tried too, each step a warm-started fit).
    Models only compared within separate groups are held together by the ridge alone,
    so scores across such groups mean little (their intervals show it).
    """
    if tie_shape is not None:
        if not 0 <= tie_shape <= 1:
            raise ValueError(f"tie shape must lie in [0, 1], not {tie_shape}")
        return _fit_at_shape(table, tie_shape, start, tolerance)[0]
    if not table.fit_ties.any():  # no ties: λ has nothing to explain
        return _fit_at_shape(table, 0.0, start, tolerance)[0]
    warm = [start]
    profile: dict[float, float] = {}

    def likelihood(shape: float) -> float:
        warm[0], profile[shape] = _fit_at_shape(table, shape, warm[0], 1e-6)
        return profile[shape]

    _golden_section(likelihood, 0.0, 1.0, SHAPE_TOLERANCE)
    best = max(profile, key=profile.__getitem__)
    return _fit_at_shape(table, best, warm[0], tolerance)[0]


def _golden_section(f: Callable[[float], float], low: float, high: float, width: float) -> None:
    """Golden-section search for the maximum of a unimodal ``f`` on [low, high] until the
    bracket is narrower than ``width``; the ends are tried too (the caller keeps every
    value). Written out rather than taken from scipy.optimize, whose import alone costs
    ``parley leaderboard`` about half a second."""
    f(low)
    f(high)
    shrink = (math.sqrt(5) - 1) / 2
    a, b = low + (1 - shrink) * (high - low), low + shrink * (high - low)
    fa, fb = f(a), f(b)
    while high - low > width:
        if fa >= fb:
            high, b, fb = b, a, fa
            a = low + (1 - shrink) * (high - low)
            fa = f(a)
        else:
            low, a, fa = a, b, fb
            b = low + shrink * (high - low)
            fb = f(b)


def data_seed(table: PairTable) -> int:
    """A bootstrap seed taken from the counts themselves: the same votes, the same board."""
    digest = hashlib.sha256("\n".join(table.models).encode())
    for part in (table.i, table.j, table.wins_i, table.wins_j, table.ties, table.both_bad):
        digest.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
    return int.from_bytes(digest.digest()[:8], "little")


def bootstrap_scores(
    table: PairTable,
    fit: BTFit,
    rounds: int,
    rng: np.random.Generator,
    *,
    tolerance: float = 1e-6,
) -> np.ndarray:
    """Scores refitted on ``rounds`` resampled tables, shape (rounds, models).

    Each pair keeps its number of battles and draws its (i wins, j wins, tie) counts
    from a multinomial with the observed shares. Holding each pair's total fixed treats
    how often a pair met as the design (matchmaking chooses it), not as noise about the
    models, and keeps every observed pair in every round. The tie shape stays at the
    full fit's. All rounds are refitted together from the full fit (chord steps, then
    damped scoring for any straggler). Tables with covariates (one row per battle) have
    nothing to resample per row; use ``score_covariance`` for them.
    """
    if table.z.shape[1]:
        raise ValueError("the bootstrap resamples pair counts; this table has covariates")
    battles = table.battles
    # a multinomial of three cells as two binomials, vectorised over rounds and pairs;
    # rounds vary fastest so the sampler reuses its set-up for each pair's (n, p)
    wins_i = np.ascontiguousarray(
        rng.binomial(
            battles.astype(np.int64)[:, None],
            (table.wins_i / battles)[:, None],
            (len(battles), rounds),
        ).T
    )
    rest = battles - wins_i
    share_j = table.wins_j / np.maximum(table.wins_j + table.fit_ties, 1)
    wins_j = rng.binomial(rest.astype(np.int64), share_j)
    counts = _Counts(wins_i.astype(float), wins_j.astype(float), rest - wins_j, battles)
    beta, converged = _chord_rounds(table, counts, fit, tolerance)
    if not converged.all():  # far from the full fit: damped scoring, round by round
        slow = np.flatnonzero(~converged)
        some = _Counts(counts.wins_i[slow], counts.wins_j[slow], counts.ties[slow], battles)
        start_beta = np.repeat(fit.strengths[None, :], len(slow), axis=0)
        start_nu = np.full(len(slow), fit.log_nu)
        beta[slow] = _fit_rounds(table, some, start_beta, start_nu, fit.tie_shape, tolerance).beta
    return SCORE_PER_LOG * beta + ELO_INITIAL


def _chord_rounds(
    table: PairTable, counts: _Counts, fit: BTFit, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Scoring steps with the full fit's information for every round (the chord method).

    Resampled tables sit close to the full one, so its information, inverted once, is
    nearly right for all of them and each step cuts the error about a hundredfold.
    Returns strengths (mean 0) and which rounds converged within ``CHORD_STEPS``.
    """
    rounds, n = len(counts.wins_i), len(table.models)
    beta = np.repeat(fit.strengths[None, :], rounds, axis=0)
    log_nu = np.full(rounds, fit.log_nu)
    full = _evaluate(*_at(fit), fit.tie_shape, table, counts, likelihood=False)
    inverse = np.linalg.inv(_information(full, table, counts.battles)[0])
    converged = np.zeros(rounds, dtype=bool)
    for _ in range(CHORD_STEPS):
        point = _evaluate(beta, log_nu, fit.tie_shape, table, counts, likelihood=False)
        step = _gradient(point, table, counts) @ inverse
        step[converged] = 0.0
        beta += step[:, :n]
        log_nu += step[:, n]
        converged |= np.abs(step).max(axis=1) < tolerance
        if converged.all():
            break
    return beta - beta.mean(axis=1, keepdims=True), converged


def score_covariance(table: PairTable, fit: BTFit, *, robust: bool = True) -> np.ndarray:
    """The covariance of the scores (Elo points², models x models) from the fit.

    ``robust`` gives the sandwich estimator H⁻¹·M·H⁻¹ (M sums each battle's outer
    product of scores, so it holds when the tie model is wrong, as LMArena's arena-rank
    does); otherwise the inverse Fisher information. Scores are centred (mean fixed at
    1000), so the covariance is projected onto that constraint.
    """
    n = len(table.models)
    counts = _observed(table)
    point = _evaluate(*_at(fit), fit.tie_shape, table, counts)
    inverse = np.linalg.inv(_information(point, table, table.battles)[0])
    if robust:
        mean, _, _ = _moments(point)
        p_tie = point.p_tie
        # each outcome's (y score, tie score) and how often it happened
        outcomes = [
            (0.5 - mean, -p_tie, counts.wins_i),
            (-0.5 - mean, -p_tie, counts.wins_j),
            (point.slope / 2 - mean, 1 - p_tie, counts.ties),
        ]
        yy = sum(c * u**2 for u, _, c in outcomes)
        yt = sum(c * u * t for u, t, c in outcomes)
        tt = sum(c * t**2 for _, t, c in outcomes)
        meat = _bordered(table, yy, yt, tt)[0]
        inverse = inverse @ meat @ inverse
    centre = np.eye(n) - 1 / n
    return SCORE_PER_LOG**2 * centre @ inverse[:n, :n] @ centre


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


def rank_upper_bounds(ci_low: np.ndarray, ci_high: np.ndarray) -> np.ndarray:
    """Rank (UB) as Chatbot Arena defines it: 1 + models whose lower bound beats my upper."""
    return 1 + (ci_low[None, :] > ci_high[:, None]).sum(axis=1)
