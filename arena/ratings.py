"""From outcomes to ratings: online Elo, and Bradley-Terry with ties and bootstrap intervals.

Bradley-Terry is fitted on the models x models table of pair counts, never on vote rows,
so a million votes cost what a thousand do. Ties follow Davidson (1970): for models i
and j with strengths πᵢ = e^βᵢ, P(i wins) = πᵢ/D, P(tie) = ν·√(πᵢπⱼ)/D with
D = πᵢ + πⱼ + ν·√(πᵢπⱼ), and ν is fitted too. Counting a tie as half a win, as FastChat
does, pulls every rating toward the middle. "Both bad" is a tie in the fit.

Scores are on the Elo scale, ``400·log10(πᵢ) + 1000``, anchored so that the mean of the
natural-log strengths is 0, i.e. the mean score is 1000. The fit is a damped Newton
method with the analytic gradient and Hessian on per-pair arrays; the bootstrap refits
all its rounds at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from arena.types import Choice

__all__ = [
    "ELO_BASE",
    "ELO_INITIAL",
    "ELO_K",
    "ELO_SCALE",
    "BTFit",
    "Counted",
    "Outcome",
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
SCORE_PER_LOG = ELO_SCALE / math.log(ELO_BASE)  # natural-log strength -> Elo points
# A whisper of prior (a normal with sd ~22 natural-log units, ~3900 Elo points) on the
# strengths and log ν, so an undefeated model (or a table without ties) stays finite;
# with real data it moves scores by far less than 0.1.
RIDGE = 1e-3
MAX_NEWTON_STEPS = 100
MAX_HALVINGS = 30
CHORD_STEPS = 12


class Outcome(Protocol):
    """One voted battle, e.g. ``arena.store.BattleRecord``."""

    @property
    def model_a(self) -> str: ...
    @property
    def model_b(self) -> str: ...
    @property
    def choice(self) -> Choice: ...


class Counted(Protocol):
    """Outcome counts of one model pair, e.g. ``arena.store.PairCount``."""

    @property
    def model_a(self) -> str: ...
    @property
    def model_b(self) -> str: ...
    @property
    def a_wins(self) -> int: ...
    @property
    def b_wins(self) -> int: ...
    @property
    def ties(self) -> int: ...
    @property
    def both_bad(self) -> int: ...


def online_elo(battles: Iterable[Outcome], k: float = ELO_K) -> dict[str, float]:
    """Chatbot Arena's online Elo over battles in time order; a tie or "both bad" is half.

    Each battle moves both ratings by k·(actual - expected) from the ratings before it.
    """
    ratings: dict[str, float] = {}
    for battle in battles:
        ra = ratings.setdefault(battle.model_a, ELO_INITIAL)
        rb = ratings.setdefault(battle.model_b, ELO_INITIAL)
        expected_a = 1 / (1 + ELO_BASE ** ((rb - ra) / ELO_SCALE))
        actual_a = {"a": 1.0, "b": 0.0}.get(battle.choice, 0.5)
        ratings[battle.model_a] = ra + k * (actual_a - expected_a)
        ratings[battle.model_b] = rb + k * ((1 - actual_a) - (1 - expected_a))
    return ratings


@dataclass(frozen=True)
class PairTable:
    """Pair counts as arrays over the pairs that met: pair p is ``models[i[p]]`` (the
    first by name) against ``models[j[p]]``; "both bad" is kept apart for its rate."""

    models: list[str]
    i: np.ndarray
    j: np.ndarray
    wins_i: np.ndarray
    wins_j: np.ndarray
    ties: np.ndarray
    both_bad: np.ndarray

    @classmethod
    def from_counts(cls, counts: Sequence[Counted]) -> PairTable:
        """From per-pair counts; pairs given twice (in either order) add up. Pairs with
        no battles are left out, so every model listed has at least one."""
        counts = [c for c in counts if c.a_wins + c.b_wins + c.ties + c.both_bad > 0]
        models = sorted({c.model_a for c in counts} | {c.model_b for c in counts})
        index = {m: n for n, m in enumerate(models)}
        merged: dict[tuple[int, int], np.ndarray] = {}
        for c in counts:
            a, b = index[c.model_a], index[c.model_b]
            if a == b:
                raise ValueError(f"a model cannot battle itself: {c.model_a}")
            row = np.array([c.a_wins, c.b_wins, c.ties, c.both_bad], dtype=np.float64)
            if a > b:
                a, b, row = b, a, row[[1, 0, 2, 3]]
            merged[a, b] = merged.get((a, b), 0) + row
        keys = sorted(merged)
        cells = np.array([merged[k] for k in keys]).reshape(-1, 4)
        pairs = np.array(keys, dtype=np.int64).reshape(-1, 2)
        return cls(models, pairs[:, 0], pairs[:, 1], *cells.T)

    @property
    def fit_ties(self) -> np.ndarray:
        """Ties as the fit sees them: plain ties and "both bad" together."""
        return self.ties + self.both_bad

    @property
    def battles(self) -> np.ndarray:
        """Per pair, the battles it had."""
        return self.wins_i + self.wins_j + self.fit_ties

    def per_model(self, at_i: np.ndarray, at_j: np.ndarray) -> np.ndarray:
        """Sum per-pair values (last axis: pairs) into models: ``at_i`` to each pair's
        first model, ``at_j`` to its second. Leading axes (rounds) are kept."""
        lead = np.broadcast_shapes(np.shape(at_i), np.shape(at_j))[:-1]
        n = len(self.models)
        grid = np.zeros((*lead, n, n))
        grid[..., self.i, self.j] = at_i
        grid[..., self.j, self.i] = at_j
        return grid.sum(axis=-1)


@dataclass(frozen=True)
class BTFit:
    """Strengths in natural-log units (mean 0), the tie parameter, and Elo-scale scores."""

    strengths: np.ndarray
    log_nu: float

    @property
    def scores(self) -> np.ndarray:
        return SCORE_PER_LOG * self.strengths + ELO_INITIAL

    @property
    def nu(self) -> float:
        return math.exp(self.log_nu)


@dataclass(frozen=True)
class _Point:
    """The likelihood and outcome probabilities at one (beta, log ν), per round and pair.

    With d = (βᵢ - βⱼ)/2 the common factor e^((βᵢ+βⱼ)/2) cancels from Davidson's
    probabilities: P(i) = e^d/E, P(j) = e^-d/E, P(tie) = ν/E with E = e^d + e^-d + ν,
    so one exponential per pair suffices and the likelihood needs no shift.
    """

    beta: np.ndarray  # (R, n)
    log_nu: np.ndarray  # (R,)
    log_likelihood: np.ndarray  # (R,)
    p_i: np.ndarray  # (R, P)
    p_tie: np.ndarray  # (R, P)


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
    table: PairTable,
    counts: _Counts,
    *,
    likelihood: bool = True,
) -> _Point:
    """Probabilities at (beta, log ν), and the log-likelihood unless told it is not needed
    (it is NaN then: the chord steps never compare likelihoods)."""
    d = np.clip((beta[:, table.i] - beta[:, table.j]) / 2, -300, 300)
    up = np.exp(d)
    nu = np.exp(log_nu)[:, None]
    total = up + 1 / up + nu
    ll = np.full(len(beta), np.nan)
    if likelihood:
        ll = (
            ((counts.wins_i - counts.wins_j) * d).sum(axis=1)
            + counts.ties.sum(axis=1) * log_nu
            - (counts.battles * np.log(total)).sum(axis=1)
            - RIDGE * ((beta**2).sum(axis=1) + log_nu**2)
        )
    return _Point(beta, log_nu, ll, up / total, nu / total)


def _gradient(point: _Point, table: PairTable, counts: _Counts) -> np.ndarray:
    """d log-likelihood / d(beta, log ν) per round, shape (R, n + 1).

    For a pair, i's score is s = [i wins] + ½[tie] and j's is 1 - s, so the gradient in
    βᵢ is Σ (observed s - expected s) over i's pairs.
    """
    rounds, n = point.beta.shape
    p_i, p_tie, battles = point.p_i, point.p_tie, counts.battles
    g = counts.wins_i + counts.ties / 2 - battles * (p_i + p_tie / 2)  # beta_j gets -g
    grad = np.empty((rounds, n + 1))
    grad[:, :n] = table.per_model(g, -g) - 2 * RIDGE * point.beta
    grad[:, n] = (counts.ties - battles * p_tie).sum(axis=1) - 2 * RIDGE * point.log_nu
    return grad


def _information(point: _Point, table: PairTable, battles: np.ndarray) -> np.ndarray:
    """Minus the Hessian per round, shape (R, n + 1, n + 1).

    A graph Laplacian weighted by battles·Var(s), bordered by battles·Cov(s, [tie]) for
    log ν. It does not depend on the observed counts, only on how often pairs met.
    """
    rounds, n = point.beta.shape
    p_i, p_tie = point.p_i, point.p_tie
    mean_s = p_i + p_tie / 2
    v = battles * (p_i + p_tie / 4 - mean_s**2)  # battles * Var(s)
    c = battles * p_tie * (0.5 - mean_s)  # battles * Cov(s, [tie])
    info = np.zeros((rounds, n + 1, n + 1))
    info[:, table.i, table.j] = -v
    info[:, table.j, table.i] = -v
    diagonal = np.arange(n)
    info[:, diagonal, diagonal] = table.per_model(v, v) + 2 * RIDGE
    cross = table.per_model(c, -c)
    info[:, :n, n] = cross
    info[:, n, :n] = cross
    info[:, n, n] = (battles * p_tie * (1 - p_tie)).sum(axis=1) + 2 * RIDGE
    return info


def _newton_step(point: _Point, table: PairTable, counts: _Counts) -> np.ndarray:
    """The Newton direction for (beta, log ν) per round, shape (R, n + 1). The
    log-likelihood is concave, so Newton with step halving converges in a few steps."""
    info = _information(point, table, counts.battles)
    return np.linalg.solve(info, _gradient(point, table, counts)[:, :, None])[:, :, 0]


def _fit_rounds(
    table: PairTable, counts: _Counts, beta: np.ndarray, log_nu: np.ndarray, tolerance: float
) -> _Point:
    """Damped Newton for R tables at once, until every round's step is below
    ``tolerance`` (natural-log units). A step that would lower a round's likelihood is
    halved until it does not. Strengths come back with mean 0 per round."""
    n = beta.shape[1]
    point = _evaluate(beta, log_nu, table, counts)
    for _ in range(MAX_NEWTON_STEPS):
        step = _newton_step(point, table, counts)
        scale = np.ones(len(step))
        for _ in range(MAX_HALVINGS):
            trial = _evaluate(
                point.beta + scale[:, None] * step[:, :n],
                point.log_nu + scale * step[:, n],
                table,
                counts,
            )
            slack = 1e-12 * np.abs(point.log_likelihood)
            worse = trial.log_likelihood < point.log_likelihood - slack
            if not worse.any():
                break
            scale[worse] /= 2
        point = trial
        if np.abs(scale[:, None] * step).max() < tolerance:
            break
    centred = point.beta - point.beta.mean(axis=1, keepdims=True)
    return _Point(centred, point.log_nu, point.log_likelihood, point.p_i, point.p_tie)


def fit_bradley_terry(
    table: PairTable, *, start: BTFit | None = None, tolerance: float = 1e-9
) -> BTFit:
    """Maximum likelihood of Davidson's Bradley-Terry model on the table.

    Models only compared within separate groups are held together by the ridge alone,
    so scores across such groups mean little (their intervals show it).
    """
    n = len(table.models)
    beta = start.strengths[None, :] if start else np.zeros((1, n))
    log_nu = np.array([start.log_nu if start else -1.0])
    counts = _Counts(table.wins_i[None], table.wins_j[None], table.fit_ties[None], table.battles)
    point = _fit_rounds(table, counts, beta, log_nu, tolerance)
    return BTFit(point.beta[0], float(point.log_nu[0]))


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
    models, and keeps every observed pair in every round. All rounds are refitted
    together from the full fit (chord steps, then damped Newton for any straggler).
    """
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
    if not converged.all():  # far from the full fit: damped Newton, round by round
        slow = np.flatnonzero(~converged)
        some = _Counts(counts.wins_i[slow], counts.wins_j[slow], counts.ties[slow], battles)
        start_beta = np.repeat(fit.strengths[None, :], len(slow), axis=0)
        start_nu = np.full(len(slow), fit.log_nu)
        beta[slow] = _fit_rounds(table, some, start_beta, start_nu, tolerance).beta
    return SCORE_PER_LOG * beta + ELO_INITIAL


def _chord_rounds(
    table: PairTable, counts: _Counts, fit: BTFit, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps with the full fit's information for every round (the chord method).

    Resampled tables sit close to the full one, so its Hessian, factorised once, is
    nearly right for all of them and each step cuts the error about a hundredfold.
    Returns strengths (mean 0) and which rounds converged within ``CHORD_STEPS``.
    """
    rounds, n = len(counts.wins_i), len(table.models)
    beta = np.repeat(fit.strengths[None, :], rounds, axis=0)
    log_nu = np.full(rounds, fit.log_nu)
    at_fit = (fit.strengths[None, :], np.array([fit.log_nu]))
    full = _evaluate(*at_fit, table, counts, likelihood=False)
    inverse = np.linalg.inv(_information(full, table, counts.battles)[0])
    converged = np.zeros(rounds, dtype=bool)
    for _ in range(CHORD_STEPS):
        point = _evaluate(beta, log_nu, table, counts, likelihood=False)
        step = _gradient(point, table, counts) @ inverse
        step[converged] = 0.0
        beta += step[:, :n]
        log_nu += step[:, n]
        converged |= np.abs(step).max(axis=1) < tolerance
        if converged.all():
            break
    return beta - beta.mean(axis=1, keepdims=True), converged


def rank_upper_bounds(ci_low: np.ndarray, ci_high: np.ndarray) -> np.ndarray:
    """Rank (UB) as Chatbot Arena defines it: 1 + models whose lower bound beats my upper."""
    return 1 + (ci_low[None, :] > ci_high[:, None]).sum(axis=1)
