"""A Service over the fake search hits: what the service, Slack and Discord tests share."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from arena.roster import Roster
from arena.store import Store
from bot.config import Settings
from bot.insights import KnowledgeStatusFn
from bot.reindex import IndexFn
from bot.retrieval import RelevanceFn
from bot.service import Service, TitlesFn
from knowledge.types import Hit
from knowledge.web import WebSource
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
    index: IndexFn | None = None,
    titles: TitlesFn | None = None,
    knowledge_status: KnowledgeStatusFn | None = None,
    searches: list[tuple[str, int, str]] | None = None,
    web_source: WebSource | None = None,
    relevant: RelevanceFn | None = None,
    **settings: Any,
) -> Service:
    """Searches return the first of ``hits`` (each query noted in ``searched`` when
    given, each call's query, k and mode in ``searches``); ``index`` and ``titles``
    stand in for the knowledge base's, ``web_source`` and ``relevant`` for the search engine
    and the relevance gate; the rest are settings (``admins=[...]``,
    ``max_votes_per_user_per_day=2``), passed through ``Settings`` as parley.toml's
    would be, so they are checked the same way."""

    unknown = set(settings) - set(Settings.model_fields)
    if unknown:  # Settings ignores unknown keys; a test's typo must not pass unnoticed
        raise TypeError(f"not a setting: {', '.join(sorted(unknown))}")

    def search(text: str, k: int, mode: str) -> list[Hit]:
        if searched is not None:
            searched.append(text)
        if searches is not None:
            searches.append((text, k, mode))
        return list(hits[:k])

    extra: dict[str, Any] = {"relevant": relevant} if relevant else {}

    return Service(
        Settings(top_k=5, battle_share=battle_share, **settings),
        search=search,
        roster=contestants,
        store=store,
        index=index,
        titles=titles,
        knowledge_status=knowledge_status,
        web=web_source,
        rng=random.Random(seed),
        **extra,
    )
