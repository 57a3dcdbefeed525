"""From outcomes to ratings: online Elo, and Bradley-Terry with ties and bootstrap intervals.

Bradley-Terry is fitted on the models x models table of pair counts, never on vote rows,
so a million votes cost what a thousand do. Ties follow Davidson (1970): for models i
and j with strengths πᵢ = e^βᵢ, P(i wins) = πᵢ/D, P(tie) = ν·√(πᵢπⱼ)/D with
D = πᵢ + πⱼ + ν·√(πᵢπⱼ), and ν is fitted too. Counting a tie as half a win, as FastChat
does, pulls every rating toward the middle. "Both bad" is a tie in the fit.

Scores are on the Elo scale, ``400·log10(πᵢ) + 1000``, anchored so that the mean of the
natural-log strengths is 0, i.e. the mean score is 1000. The fit is a damped Newton
method on dense (models x models) arrays, run for every bootstrap round at once.
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
    """Pair counts as dense matrices over ``models`` (sorted by name).

    ``wins[i, j]``: times i beat j. ``ties[i, j]`` (symmetric): plain ties.
    ``both_bad[i, j]`` (symmetric): "both bad" votes, a tie for the fit.
    """

    models: list[str]
    wins: np.ndarray
    ties: np.ndarray
    both_bad: np.ndarray

    @classmethod
    def from_counts(cls, counts: Sequence[Counted]) -> PairTable:
        """From per-pair counts (either order; repeated pairs add up)."""
        models = sorted({c.model_a for c in counts} | {c.model_b for c in counts})
        index = {m: n for n, m in enumerate(models)}
        n = len(models)
        wins, ties, both_bad = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
        for c in counts:
            a, b = index[c.model_a], index[c.model_b]
            if a == b:
                raise ValueError(f"a model cannot battle itself: {c.model_a}")
            wins[a, b] += c.a_wins
            wins[b, a] += c.b_wins
            for matrix, value in ((ties, c.ties), (both_bad, c.both_bad)):
                matrix[a, b] += value
                matrix[b, a] += value
        return cls(models, wins, ties, both_bad)

    @property
    def fit_ties(self) -> np.ndarray:
        """Ties as the fit sees them: plain ties and "both bad" together."""
        return self.ties + self.both_bad

    @property
    def votes(self) -> np.ndarray:
        """Per model, the battles it was in."""
        return (self.wins + self.wins.T + self.fit_ties).sum(axis=1)


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


def _outcome_probabilities(
    beta: np.ndarray, log_nu: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For rounds (R, n) and (R,): log D, P(i beats j) and P(tie), each (R, n, n)."""
    a = beta[:, :, None]
    b = beta[:, None, :]
    tie = log_nu[:, None, None] + (a + b) / 2
    top = np.maximum(np.maximum(a, b), tie)
    ea, eb, et = np.exp(a - top), np.exp(b - top), np.exp(tie - top)
    total = ea + eb + et
    return top + np.log(total), ea / total, et / total


def _log_likelihood(
    beta: np.ndarray, log_nu: np.ndarray, wins: np.ndarray, ties: np.ndarray
) -> np.ndarray:
    """Davidson's log-likelihood with the ridge, per round (R,).

    Summed over ordered pairs, each unordered pair counts twice, hence the halving.
    """
    log_d, _, _ = _outcome_probabilities(beta, log_nu)
    n_pair = wins + wins.transpose(0, 2, 1) + ties
    tie_logit = log_nu[:, None, None] + (beta[:, :, None] + beta[:, None, :]) / 2
    ll = (
        (wins * beta[:, :, None]).sum(axis=(1, 2))  # i's strength for each of i's wins
        + 0.5 * (ties * tie_logit).sum(axis=(1, 2))
        - 0.5 * (n_pair * log_d).sum(axis=(1, 2))
    )
    return ll - RIDGE * ((beta**2).sum(axis=1) + log_nu**2)


def _newton_steps(
    beta: np.ndarray, log_nu: np.ndarray, wins: np.ndarray, ties: np.ndarray
) -> np.ndarray:
    """Newton directions for (beta, log ν) per round, shape (R, n + 1).

    For pair (i, j), i's score is s = [i wins] + ½[tie]; the gradient in βᵢ is
    Σⱼ (observed s - expected s) and the information is the covariance of the scores
    (and of the tie indicator for log ν), weighted by the pair's battles. The
    log-likelihood is concave, so Newton with step halving converges in a few steps.
    """
    rounds, n = beta.shape
    _, p_win, p_tie = _outcome_probabilities(beta, log_nu)
    p_lose = p_win.transpose(0, 2, 1)
    n_pair = wins + wins.transpose(0, 2, 1) + ties
    mean_s = p_win + p_tie / 2  # E[s_i] for pair (i, j)
    mean_s_other = p_lose + p_tie / 2

    grad = np.empty((rounds, n + 1))
    grad[:, :n] = (wins + ties / 2 - n_pair * mean_s).sum(axis=2) - 2 * RIDGE * beta
    grad[:, n] = 0.5 * (ties - n_pair * p_tie).sum(axis=(1, 2)) - 2 * RIDGE * log_nu

    info = np.empty((rounds, n + 1, n + 1))
    block = n_pair * (p_tie / 4 - mean_s * mean_s_other)  # Cov(s_i, s_j), off-diagonal
    var_s = (p_win + p_tie / 4 - mean_s**2) * n_pair
    info[:, :n, :n] = block
    diagonal = var_s.sum(axis=2) + 2 * RIDGE
    idx = np.arange(n)
    info[:, idx, idx] = diagonal
    cross = (n_pair * (p_tie / 2 - mean_s * p_tie)).sum(axis=2)  # Cov(s_i, [tie])
    info[:, :n, n] = cross
    info[:, n, :n] = cross
    info[:, n, n] = 0.5 * (n_pair * p_tie * (1 - p_tie)).sum(axis=(1, 2)) + 2 * RIDGE
    return np.linalg.solve(info, grad[:, :, None])[:, :, 0]


def _fit_rounds(
    wins: np.ndarray,
    ties: np.ndarray,
    beta: np.ndarray,
    log_nu: np.ndarray,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton for R independent tables at once (all arrays carry a round axis)."""
    beta, log_nu = beta.copy(), log_nu.copy()
    n = beta.shape[1]
    current = _log_likelihood(beta, log_nu, wins, ties)
    active = np.ones(len(beta), dtype=bool)
    for _ in range(MAX_NEWTON_STEPS):
        rows = np.flatnonzero(active)
        if not len(rows):
            break
        step = _newton_steps(beta[rows], log_nu[rows], wins[rows], ties[rows])
        scale = np.ones(len(rows))
        for _ in range(MAX_HALVINGS):  # halve where the likelihood would fall
            trial_beta = beta[rows] + scale[:, None] * step[:, :n]
            trial_nu = log_nu[rows] + scale * step[:, n]
            trial = _log_likelihood(trial_beta, trial_nu, wins[rows], ties[rows])
            worse = trial < current[rows] - 1e-12 * np.abs(current[rows])
            if not worse.any():
                break
            scale[worse] /= 2
        beta[rows], log_nu[rows], current[rows] = trial_beta, trial_nu, trial
        moved = np.abs(scale[:, None] * step).max(axis=1)
        active[rows[moved < tolerance]] = False
    return beta - beta.mean(axis=1, keepdims=True), log_nu


def fit_bradley_terry(
    table: PairTable, *, start: BTFit | None = None, tolerance: float = 1e-9
) -> BTFit:
    """Maximum likelihood of Davidson's Bradley-Terry model on the table.

    A model that never met the others stays at the mean; a disconnected comparison
    graph is only held together by the ridge, so its scores are not comparable.
    """
    n = len(table.models)
    beta = start.strengths[None, :] if start else np.zeros((1, n))
    log_nu = np.array([start.log_nu if start else -1.0])
    beta, log_nu = _fit_rounds(
        table.wins[None], table.fit_ties[None], beta, log_nu, tolerance
    )
    return BTFit(beta[0], float(log_nu[0]))


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
    how often a pair met as the design (matchmaking chooses it), not as noise about
    the models; it also keeps every observed pair in every round. All rounds are
    refitted together, warm-started from the full fit.
    """
    n = len(table.models)
    upper_i, upper_j = np.triu_indices(n, k=1)
    cells = np.stack(
        [
            table.wins[upper_i, upper_j],
            table.wins[upper_j, upper_i],
            table.fit_ties[upper_i, upper_j],
        ],
        axis=1,
    )
    totals = cells.sum(axis=1)
    met = totals > 0
    shares = cells[met] / totals[met, None]
    draws = rng.multinomial(totals[met].astype(np.int64), shares, size=(rounds, int(met.sum())))
    i, j = upper_i[met], upper_j[met]
    wins = np.zeros((rounds, n, n))
    ties = np.zeros((rounds, n, n))
    wins[:, i, j] = draws[:, :, 0]
    wins[:, j, i] = draws[:, :, 1]
    ties[:, i, j] = draws[:, :, 2]
    ties[:, j, i] = draws[:, :, 2]
    beta0 = np.repeat(fit.strengths[None, :], rounds, axis=0)
    log_nu0 = np.full(rounds, fit.log_nu)
    beta, _ = _fit_rounds(wins, ties, beta0, log_nu0, tolerance)
    return SCORE_PER_LOG * beta + ELO_INITIAL


def rank_upper_bounds(ci_low: np.ndarray, ci_high: np.ndarray) -> np.ndarray:
    """Rank (UB) as Chatbot Arena defines it: 1 + models whose lower bound beats my upper."""
    return 1 + (ci_low[None, :] > ci_high[:, None]).sum(axis=1)
