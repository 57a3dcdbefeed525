"""Who answers: one model, or two anonymous ones for a battle.

Battles favour pairs with few votes (to learn where we know least) and models with
close scores (a close fight is informative; a rout is not). Left and right are random.
"""

from __future__ import annotations

import itertools
import math
import random

from arena.ratings import PairTable, fit_bradley_terry
from arena.store import PairCount

__all__ = ["CLOSENESS_SCALE", "choose_contestants", "pair_weight"]

CLOSENESS_SCALE = 200.0  # Elo points at which a pair's weight falls by e


def pair_weight(votes: int, score_gap: float) -> float:
    return math.exp(-abs(score_gap) / CLOSENESS_SCALE) / (1 + votes)


def choose_contestants(
    names: list[str], counts: list[PairCount], *, battle_share: float, rng: random.Random
) -> list[str]:
    """One name (a single answer) or two (a battle, in the order shown: A then B)."""
    if len(names) < 2 or rng.random() >= battle_share:
        return [rng.choice(names)]
    scores = dict.fromkeys(names, 0.0)
    if counts:
        table = PairTable.from_counts(counts)
        scores.update(zip(table.models, fit_bradley_terry(table).scores - 1000, strict=True))
    votes = {(c.model_a, c.model_b): c.total for c in counts}
    pairs = list(itertools.combinations(sorted(names), 2))
    weights = [pair_weight(votes.get(p, 0), scores[p[0]] - scores[p[1]]) for p in pairs]
    pair = list(rng.choices(pairs, weights=weights)[0])
    rng.shuffle(pair)
    return pair
