"""A Service over the fake search hits: what the service, Slack and Discord tests share."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from arena.roster import Roster
from arena.store import Store
from bot.service import Service
from knowledge.types import Hit
from tests.fakes.providers import HITS

__all__ = ["service_over_fakes"]


def service_over_fakes(
    store: Store,
    contestants: Roster,
    *,
    battle_share: float = 0.0,
    seed: int = 3,
    hits: Sequence[Hit] = HITS,
    searched: list[str] | None = None,
    **options: Any,
) -> Service:
    """Searches return the first of ``hits`` (each query noted in ``searched`` when
    given); the rest of the service's settings pass through ``options``."""

    def search(text: str, k: int) -> list[Hit]:
        if searched is not None:
            searched.append(text)
        return list(hits[:k])

    return Service(
        search=search,
        roster=contestants,
        store=store,
        top_k=5,
        battle_share=battle_share,
        rng=random.Random(seed),
        **options,
    )
