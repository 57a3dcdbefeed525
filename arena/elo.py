"""Chatbot Arena's online Elo, and the Elo scale every Parley score is shown on.

Battles in time order each move both ratings by K·(actual - expected); a tie or "both
bad" counts as half. The Bradley-Terry scores (``arena.ratings``) use the same scale.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Protocol

from arena.types import Choice

__all__ = [
    "ELO_BASE",
    "ELO_INITIAL",
    "ELO_K",
    "ELO_SCALE",
    "SCORE_PER_LOG",
    "Outcome",
    "online_elo",
]

ELO_K = 4.0
ELO_SCALE = 400.0
ELO_BASE = 10.0
ELO_INITIAL = 1000.0
SCORE_PER_LOG = ELO_SCALE / math.log(ELO_BASE)  # natural-log strength -> Elo points


class Outcome(Protocol):
    """One voted battle, e.g. ``arena.store.BattleRecord``."""

    @property
    def model_a(self) -> str: ...
    @property
    def model_b(self) -> str: ...
    @property
    def choice(self) -> Choice: ...


def online_elo(
    battles: Iterable[Outcome | tuple[str, str, str]],
    k: float = ELO_K,
    *,
    start: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Chatbot Arena's online Elo over battles in time order; a tie or "both bad" is half.

    Each battle moves both ratings by k·(actual - expected) from the ratings before it.
    Battles are outcomes or plain (model A, model B, choice) tuples; ``start`` continues
    from earlier ratings (models not in it start at 1000).
    """
    ratings: dict[str, float] = dict(start or {})
    actual = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}
    for battle in battles:
        model_a, model_b, choice = (
            battle if isinstance(battle, tuple) else (battle.model_a, battle.model_b, battle.choice)
        )
        ra = ratings.get(model_a, ELO_INITIAL)
        rb = ratings.get(model_b, ELO_INITIAL)
        delta = k * (actual[choice] - 1 / (1 + ELO_BASE ** ((rb - ra) / ELO_SCALE)))
        ratings[model_a] = ra + delta
        ratings[model_b] = rb - delta
    return ratings
