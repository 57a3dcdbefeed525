"""Build the running parts from Settings: knowledge base, roster, store, service.

Kept apart from the CLI so the console, Slack and Discord start the same way. Heavy
imports (Chroma, onnxruntime) happen here, only for commands that need them, and the
knowledge base opens on first use, so ``parley leaderboard`` never touches the index.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from arena.store import Store

from . import messages
from .config import Settings
from .errors import BotError
from .service import Service

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

__all__ = [
    "open_knowledge",
    "open_service",
    "open_store",
    "require_index",
    "serve_service",
    "writable_data_dir",
]


def open_knowledge(
    settings: Settings, *, hold: bool = False, read_only: bool = False
) -> KnowledgeBase:
    """Open the index in the data directory (or PostgreSQL and the Chroma server when
    configured); ``hold`` keeps the right to write it, ``read_only`` writes nothing (see
    ``KnowledgeBase.open``)."""
    from knowledge.base import KnowledgeBase

    url = settings.database_url
    return KnowledgeBase.open(
        settings.index_dir,
        chroma_host=settings.chroma_host,
        chroma_port=settings.chroma_port,
        hold=hold,
        read_only=read_only,
        database_url=url.get_secret_value() if url else None,
    )


class _OnFirstUse:
    """The knowledge base, opened by the first search or re-index (from any thread)."""

    def __init__(self, settings: Settings, *, hold: bool = False) -> None:
        self._settings = settings
        self._hold = hold
        self._kb: KnowledgeBase | None = None
        self._lock = threading.Lock()

    def get(self) -> KnowledgeBase:
        with self._lock:
            if self._kb is None:
                self._kb = open_knowledge(self._settings, hold=self._hold)
            return self._kb

    def close(self) -> None:
        with self._lock:
            if self._kb is not None:
                self._kb.close()


def writable_data_dir(settings: Settings) -> None:
    """Create the data directory, or say plainly why it cannot be used."""
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BotError(messages.cannot_create_data_dir(folder, str(exc.strerror))) from exc
    if not os.access(folder, os.W_OK):
        raise BotError(messages.data_dir_not_writable(folder))


@asynccontextmanager
async def open_store(settings: Settings, *, read_only: bool = False) -> AsyncIterator[Store]:
    """The arena database (PostgreSQL when ``database_url`` is set, else the SQLite file
    in the data directory), migrated, closed on exit.

    ``read_only`` (reports: leaderboard, export) creates nothing: a mistyped
    ``--data-dir`` is an error, a data directory with no database yet reads as an empty
    arena, and a database on a read-only mount is read without writing a byte. On
    PostgreSQL it reads in read-only transactions (the Elo cache is left to the bots).
    """
    if settings.database_url:
        store = await Store.open(settings.arena_database, read_only=read_only)
    elif read_only:
        if not settings.data_dir.is_dir():
            raise BotError(messages.no_data_dir(settings.data_dir))
        path = settings.database_path
        if not path.is_file():  # nothing recorded yet: an empty arena, and no file made
            store = await Store.open(":memory:")
        else:  # a writable database keeps its caches (the Elo replay) up to date
            writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
            store = await Store.open(path, read_only=not writable)
    else:
        writable_data_dir(settings)
        store = await Store.open(settings.database_path)
    try:
        yield store
    finally:
        await store.close()


def require_index(settings: Settings) -> None:
    """Commands that answer from the index (ask, chat, search) have nothing to answer
    from without one: say so, and how to make one, before anything is created (a
    mistyped ``--data-dir`` must not become an empty folder and "not found"). On
    PostgreSQL the index is on the server: opening it says whether it can be reached."""
    if not settings.database_url and not (settings.index_dir / "lexical.db").is_file():
        raise BotError(messages.no_index(settings.index_dir))


@asynccontextmanager
async def _arena_in_memory() -> AsyncIterator[Store]:
    store = await Store.open(":memory:")
    try:
        yield store
    finally:
        await store.close()


@asynccontextmanager
async def open_service(
    settings: Settings,
    *,
    read_only: bool = False,
    hold_index: bool = False,
    in_memory: bool = False,
) -> AsyncIterator[Service]:
    """A Service over the knowledge base, the roster and the store (see ``open_store``
    for ``read_only``; a read-only service is for reports, which answer nothing, so it
    sets up no contestant and loads no model's SDK). A bot that re-indexes from chat
    passes ``hold_index``: it opens the index at once and keeps the right to write it,
    so a ``parley index`` run from another process is refused instead of writing under
    it. ``in_memory`` gives it an empty arena in memory and touches no data directory:
    for what needs only the roster (``parley models``, doctor's model check)."""
    from arena.roster import Roster, build_roster

    knowledge = _OnFirstUse(settings, hold=hold_index)
    if hold_index or (settings.database_url and not in_memory):  # a wrong URL stops start-up
        await asyncio.to_thread(knowledge.get)
    arena = _arena_in_memory() if in_memory else open_store(settings, read_only=read_only)
    try:
        async with arena as store:
            service = Service(
                settings,
                search=lambda text, k: knowledge.get().search(text, k),
                index=lambda paths, progress, passages: knowledge.get().index(
                    paths, progress=progress, on_passages=passages, requested_by=requester()
                ),
                titles=lambda limit: knowledge.get().titles(limit),
                roster=Roster() if read_only else build_roster(settings.models),
                store=store,
                knowledge_status=lambda: knowledge.get().status(),
            )

            def requester() -> str:  # who asked for the re-index now running
                status = service.reindex_status
                return status.requested_by if status else ""

            yield service
    finally:
        knowledge.close()


@asynccontextmanager
async def serve_service(settings: Settings) -> AsyncIterator[Service]:
    """The service as a long-running bot needs it: holding the index, with its CPU work
    in worker threads that yield the cores to the event loop (so a burst of questions
    being answered cannot delay the next acknowledgement), and with what start-up loaded
    set aside from the garbage collector, whose full collections would otherwise walk
    every one of those objects again and stall the loop for 50 ms or more."""
    from knowledge.threads import worker_pool

    asyncio.get_running_loop().set_default_executor(worker_pool("parley-work"))
    async with open_service(settings, hold_index=True) as service:
        gc.collect()
        gc.freeze()
        yield service
