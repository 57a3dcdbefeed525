"""Who answers: one model, or two anonymous ones for a battle.

A share of questions (``battle_share``; the caller applies per-channel overrides, and
0 turns battles off) gets two answers. The pair is drawn with weight
``1 / (1 + votes of the pair) · exp(-|score gap| / CLOSENESS_SCALE)``: pairs with few
votes are where we know least, and a close fight says more than a rout. Left and right
are random. With fewer than two contestants there is always a single answer.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence

from arena.errors import ConfigError
from arena.ratings import ELO_INITIAL, Counted, PairTable, fit_bradley_terry

__all__ = ["CLOSENESS_SCALE", "choose_contestants", "fitted_scores", "pair_weight", "total_votes"]

CLOSENESS_SCALE = 200.0  # Elo points at which a pair's weight falls by a factor e


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
    if not names:
        raise ConfigError("no contestants to answer the question")
    if not 0 <= battle_share <= 1:
        raise ConfigError(f"battle share must lie in [0, 1], not {battle_share}")
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
