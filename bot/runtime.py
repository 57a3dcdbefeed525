"""Build the running parts from Settings: knowledge base, roster, store, service.

Kept apart from the CLI so the console (and later Slack and Discord) start the same
way. Heavy imports (Chroma, onnxruntime) happen here, only for commands that need them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arena.store import Store

from .config import Settings
from .service import Service

__all__ = [
    "open_knowledge",
    "open_service",
    "open_store",
]


def open_knowledge(settings: Settings):  # -> KnowledgeBase, imported lazily on purpose
    """Open the index in the data directory (or the configured Chroma server)."""
    from knowledge.base import KnowledgeBase

    return KnowledgeBase.open(
        settings.index_dir, chroma_host=settings.chroma_host, chroma_port=settings.chroma_port
    )


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

    knowledge = open_knowledge(settings)
    try:
        async with open_store(settings) as store:
            yield Service(
                search=lambda text, k: knowledge.search(text, k),
                roster=build_roster(settings.models),
                store=store,
                top_k=settings.top_k,
                battle_share=settings.battle_share,
                channel_battle_share=settings.channel_battle_share,
            )
    finally:
        knowledge.close()
