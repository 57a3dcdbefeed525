"""Who answers: one model, or two anonymous ones for a battle.

A share of questions (``battle_share``; the caller applies per-channel overrides, and
0 turns battles off) gets two answers. Left and right are random. With fewer than two
contestants there is always a single answer.

``choose_contestants`` is the first policy: single answers uniformly from the roster,
and pairs drawn with weight ``1 / (1 + votes of the pair) · exp(-|score gap| /
CLOSENESS_SCALE)``: pairs with few votes are where we know least, and a close fight
says more than a rout.

``choose_steered`` lets the votes steer. A single answer comes from the best-rated
model: the channel's own board once it has ``min_channel_votes`` votes, the overall
board before that, except for an ``exploration`` share of answers, drawn uniformly. A
battle picks the pair whose next vote most reduces the uncertainty about the ranking
near the top of the overall board, where every vote counts (active sampling): for
each pair, one more battle adds Fisher information w·xxᵀ with x = eₐ - e_b, and by
the rank-one update the variance of each top model's score falls by
w·(Σx)ₖ²/(1 + w·xᵀΣx); pairs are drawn in proportion to the square of that fall summed
over the current top ``top`` models (``GREED``: squaring favours the best pairs more;
chosen on a 12-model simulation, confirmed on a 20-model one, see
``scripts/simulate_steering.py``). Models with no votes yet are paired first.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence

import numpy as np

from arena.elo import ELO_INITIAL, SCORE_PER_LOG
from arena.errors import ConfigError
from arena.pair_table import Counted, PairTable
from arena.ratings import (
    fit_bradley_terry,
    score_covariance,
)

__all__ = [
    "CLOSENESS_SCALE",
    "DEFAULT_EXPLORATION",
    "DEFAULT_MIN_CHANNEL_VOTES",
    "DEFAULT_TOP",
    "GREED",
    "best_rated",
    "choose_contestants",
    "choose_steered",
    "fitted_scores",
    "pair_weight",
    "steering_weights",
    "total_votes",
]

CLOSENESS_SCALE = 200.0  # Elo points at which a pair's weight falls by a factor e
DEFAULT_EXPLORATION = 0.1  # share of single answers drawn uniformly, not from the best
DEFAULT_MIN_CHANNEL_VOTES = 50  # votes before a channel's own board picks its answers
DEFAULT_TOP = 5  # how many leading models battles try to tell apart
GREED = 2.0  # pairs are drawn in proportion to their variance cut to this power


def pair_weight(votes: int, score_gap: float) -> float:
    """How much matchmaking wants this pair: fewer votes and closer scores, more."""
    return math.exp(-abs(score_gap) / CLOSENESS_SCALE) / (1 + votes)


def choose_contestants(
    names: Sequence[str],
    pair_counts: Sequence[Counted],
    ratings: Mapping[str, float] | None = None,
    *,
    battle_share: float,
    rng: random.Random,
) -> list[str]:
    """One name (a single answer) or two (a battle, in the order shown: A then B).

    ``ratings`` maps names to scores; without it they are fitted from ``pair_counts``
    (a quick Bradley-Terry fit, no bootstrap). Unrated models count as 1000.
    """
    _refuse_bad_choice(names, battle_share)
    if len(set(names)) < 2 or rng.random() >= battle_share:
        return [rng.choice(list(names))]
    scores = dict(ratings) if ratings is not None else fitted_scores(pair_counts)
    votes = {tuple(sorted((c.model_a, c.model_b))): total_votes(c) for c in pair_counts}
    pairs = list(itertools.combinations(sorted(set(names)), 2))
    weights = [
        pair_weight(
            votes.get(pair, 0),
            scores.get(pair[0], ELO_INITIAL) - scores.get(pair[1], ELO_INITIAL),
        )
        for pair in pairs
    ]
    chosen = list(rng.choices(pairs, weights=weights)[0])
    rng.shuffle(chosen)
    return chosen


def _refuse_bad_choice(names: Sequence[str], battle_share: float) -> None:
    """What both ways of choosing need: someone to answer, a battle share in [0, 1]."""
    if not names:
        raise ConfigError("no contestants to answer the question")
    if not 0 <= battle_share <= 1:
        raise ConfigError(f"battle share must lie in [0, 1], not {battle_share}")


def total_votes(counts: Counted) -> int:
    """All outcomes of one pair."""
    return counts.a_wins + counts.b_wins + counts.ties + counts.both_bad


def fitted_scores(pair_counts: Sequence[Counted]) -> dict[str, float]:
    """Bradley-Terry scores from pair counts; empty without any."""
    table = PairTable.from_counts(pair_counts)
    if not table.models:
        return {}
    fit = fit_bradley_terry(table, tolerance=1e-4)
    return dict(zip(table.models, fit.scores.tolist(), strict=True))


def choose_steered(
    names: Sequence[str],
    channel_counts: Sequence[Counted],
    overall_counts: Sequence[Counted],
    *,
    battle_share: float,
    rng: random.Random,
    exploration: float = DEFAULT_EXPLORATION,
    min_channel_votes: int = DEFAULT_MIN_CHANNEL_VOTES,
    top: int = DEFAULT_TOP,
) -> list[str]:
    """One name (a single answer) or two (a battle, A then B), steered by the votes.

    ``channel_counts`` are the asking channel's pair counts, ``overall_counts`` every
    channel's (both as ``Store.pair_counts`` gives them). Fits a small Bradley-Terry
    model, so call it off the event loop (``asyncio.to_thread``) on a large roster.
    """
    _refuse_bad_choice(names, battle_share)
    if not 0 <= exploration <= 1:
        raise ConfigError(f"exploration share must lie in [0, 1], not {exploration}")
    roster = sorted(set(names))
    channel_votes = sum(total_votes(c) for c in channel_counts)
    counts = channel_counts if channel_votes >= min_channel_votes else overall_counts
    if len(roster) < 2 or rng.random() >= battle_share:
        if rng.random() < exploration:
            return [rng.choice(roster)]
        return [best_rated(roster, counts) or rng.choice(roster)]
    weights = steering_weights(roster, overall_counts, top=top)
    pairs = list(weights)
    chosen = list(rng.choices(pairs, weights=[weights[p] for p in pairs])[0])
    rng.shuffle(chosen)
    return chosen


def best_rated(names: Sequence[str], counts: Sequence[Counted]) -> str | None:
    """The named model with the highest Bradley-Terry score, or None when none is rated."""
    scores = fitted_scores([c for c in counts if c.model_a in names and c.model_b in names])
    rated = [n for n in names if n in scores]
    return max(rated, key=lambda n: (scores[n], n)) if rated else None


def steering_weights(
    names: Sequence[str], counts: Sequence[Counted], *, top: int = DEFAULT_TOP
) -> dict[tuple[str, str], float]:
    """Per pair of names (in name order), its weight for the next battle: how much its
    next vote would cut the summed score variance of the current top ``top`` models,
    to the power ``GREED`` (see the module docstring).

    While any named model has no votes, only pairs with such a model get weight (equal).
    """
    roster = sorted(set(names))
    pairs = list(itertools.combinations(roster, 2))
    table = PairTable.from_counts(
        [c for c in counts if c.model_a in roster and c.model_b in roster]
    )
    unrated = set(roster) - set(table.models)
    if unrated or len(table.models) < 2:
        return {p: float(bool(unrated & set(p)) or not unrated) for p in pairs}
    fit = fit_bradley_terry(table, tolerance=1e-6)
    covariance = score_covariance(table, fit, robust=False) / SCORE_PER_LOG**2
    index = {m: k for k, m in enumerate(table.models)}
    a = np.array([index[x] for x, _ in pairs])
    b = np.array([index[y] for _, y in pairs])
    gap = (fit.strengths[a] - fit.strengths[b]) / 2
    # Var(y) of one battle at the fit (y as in arena.ratings), from the outcome shares
    up, down = np.exp(gap), np.exp(-gap)
    both = up + down
    tie = fit.nu * (both / 2) ** fit.tie_shape
    p_a, p_b, p_tie = up / (both + tie), down / (both + tie), tie / (both + tie)
    slope = fit.tie_shape * (up - down) / both
    mean = (p_a - p_b + slope * p_tie) / 2
    information = (p_a + p_b + slope**2 * p_tie) / 4 - mean**2
    spread = covariance[:, a] - covariance[:, b]  # Σx per pair, (models, pairs)
    own = spread[a, np.arange(len(pairs))] - spread[b, np.arange(len(pairs))]  # xᵀΣx
    leaders = np.argsort(-fit.strengths)[: max(1, top)]
    fall = information * (spread[leaders] ** 2).sum(axis=0) / (1 + information * own)
    relative = fall / max(fall.max(), 1e-300)  # the floor below stays relative at any scale
    return dict(zip(pairs, (relative**GREED + 1e-9).tolist(), strict=True))
