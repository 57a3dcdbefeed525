"""Build the running parts from Settings: knowledge base, roster, store, service.

Kept apart from the CLI so the console, Slack and Discord start the same way. Heavy
imports (Chroma, onnxruntime) happen here, only for commands that need them, and the
knowledge base opens on first use, so ``parley leaderboard`` never touches the index.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from arena.store import Store

from .config import Settings
from .service import Service

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

__all__ = [
    "open_knowledge",
    "open_service",
    "open_store",
]


def open_knowledge(settings: Settings) -> KnowledgeBase:
    """Open the index in the data directory (or the configured Chroma server)."""
    from knowledge.base import KnowledgeBase

    return KnowledgeBase.open(
        settings.index_dir, chroma_host=settings.chroma_host, chroma_port=settings.chroma_port
    )


class _OnFirstUse:
    """The knowledge base, opened by the first search or re-index (from any thread)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._kb: KnowledgeBase | None = None
        self._lock = threading.Lock()

    def get(self) -> KnowledgeBase:
        with self._lock:
            if self._kb is None:
                self._kb = open_knowledge(self._settings)
            return self._kb

    def close(self) -> None:
        with self._lock:
            if self._kb is not None:
                self._kb.close()


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """The arena database, migrated, closed on exit."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await Store.open(settings.database_path)
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def open_service(settings: Settings) -> AsyncIterator[Service]:
    """A Service over the knowledge base, the roster and the store."""
    from arena.roster import build_roster

    knowledge = _OnFirstUse(settings)
    try:
        async with open_store(settings) as store:
            yield Service(
                search=lambda text, k: knowledge.get().search(text, k),
                index=lambda paths, progress: knowledge.get().index(paths, progress=progress),
                titles=lambda limit: knowledge.get().titles(limit),
                roster=build_roster(settings.models),
                store=store,
                top_k=settings.top_k,
                battle_share=settings.battle_share,
                channel_battle_share=settings.channel_battle_share,
                sources=settings.sources,
                admins=settings.admins,
                bootstrap_rounds=settings.bootstrap_rounds,
                provisional_votes=settings.provisional_votes,
            )
    finally:
        knowledge.close()
