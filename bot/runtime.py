"""Build the running parts from Settings: knowledge base, roster, store, service.

Kept apart from the CLI so the console, Slack and Discord start the same way. Heavy
imports (Chroma, onnxruntime) happen here, only for commands that need them, and the
knowledge base opens on first use, so ``parley leaderboard`` never touches the index.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from arena.store import Store

from . import messages
from .config import Settings
from .errors import BotError, IndexUnusable
from .service import Service

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from knowledge.processes import WorkerProcesses
    from knowledge.types import Hit, Mode
    from knowledge.web import WebSource

__all__ = [
    "open_knowledge",
    "open_service",
    "open_store",
    "open_web",
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

    def search(self, text: str, k: int, mode: Mode) -> list[Hit]:
        """The service's search: an index built by another embedder is IndexUnusable."""
        from knowledge.errors import EmbedderMismatch

        try:
            return self.get().search(text, k, mode)
        except EmbedderMismatch as exc:
            raise IndexUnusable(str(exc)) from exc

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
    rated_names: bool = False,
    processes: WorkerProcesses | None = None,
) -> AsyncIterator[Service]:
    """A Service over the knowledge base, the roster and the store (see ``open_store``
    for ``read_only``; a read-only service is for reports, which answer nothing, so it
    sets up no contestant, loads no model's SDK and opens no web search). A bot that
    re-indexes from chat passes ``hold_index``: it opens the index at once and keeps the
    right to write it, so a ``parley index`` run from another process is refused instead
    of writing under it. ``in_memory`` gives it an empty arena in memory and touches no
    data directory: for what needs only the roster (``parley models``, doctor's model
    check); with ``rated_names`` too, the arena is read (read-only) where there is one,
    so the roster carries the names its entries are rated under (``parley models``).
    ``processes``: the worker processes the offline answerers compose in (else worker
    threads)."""
    from arena.roster import Roster, build_roster

    # first, so a bad entry stops start-up before the index is opened
    roster = (
        Roster()
        if read_only
        else build_roster(
            settings.models,
            processes,
            top_k=settings.top_k,
            web_backend=settings.web.provider,
        )
    )
    knowledge = _OnFirstUse(settings, hold=hold_index)
    if hold_index or (settings.database_url and not in_memory):  # a wrong URL stops start-up
        await asyncio.to_thread(knowledge.get)
    if in_memory:
        rated = rated_names and (settings.database_url or settings.database_path.is_file())
        arena = open_store(settings, read_only=True) if rated else _arena_in_memory()
    else:
        arena = open_store(settings, read_only=read_only)
    answering = not (read_only or in_memory)  # reports and the roster's status search nothing
    searches_web = any(c.pipeline.web != "off" for c in roster.entries)
    web = open_web(settings) if answering and searches_web else None
    try:
        async with arena as store:
            service = Service(
                settings,
                search=knowledge.search,
                index=lambda paths, progress, passages, force=False: knowledge.get().index(
                    paths,
                    progress=progress,
                    on_passages=passages,
                    requested_by=requester(),
                    force=force,
                ),
                titles=lambda limit: knowledge.get().titles(limit),
                roster=roster,
                store=store,
                knowledge_status=lambda: knowledge.get().status(),
                web=web,
            )

            def requester() -> str:  # who asked for the re-index now running
                status = service.reindex_status
                return status.requested_by if status else ""

            yield service
    finally:
        knowledge.close()
        if web is not None:
            await web.close()
        await roster.aclose()


def open_web(settings: Settings) -> WebSource:
    """The web search the ``[web]`` table describes. A missing Brave key is logged here
    and said under every answer that wanted the web; it stops nothing."""
    from knowledge.web import DomainRules, WebLimits, open_web_source

    web = settings.web
    assert web.provider is not None  # Settings refuses web pipelines without one
    key = os.environ.get(web.api_key_env) if web.provider == "brave" else None
    if web.provider == "brave" and not key:
        log.warning("web search: %s is not set, so Brave Search cannot be asked", web.api_key_env)
    return open_web_source(
        web.provider,
        url=web.url,
        key=key,
        key_env=web.api_key_env,
        rules=DomainRules.of(web.allow, web.deny),
        limits=WebLimits(web.results, web.timeout, web.fetch_pages),
        max_page_bytes=web.max_page_bytes,
        allow_private=web.fetch_private,
    )


def _cores() -> int:
    """The cores this process may run on (fewer than the machine's when it is pinned)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@asynccontextmanager
async def serve_service(settings: Settings) -> AsyncIterator[Service]:
    """The service as a long-running bot needs it: holding the index, with its CPU work
    away from the event loop (so a burst of questions being answered cannot delay the
    next acknowledgement): the offline answerers in worker processes, one per core this
    process may run on (started by the first answer, each loading the embedding model
    once), search and the rest in worker threads that yield the cores to the loop; and
    with what start-up loaded set aside from the garbage collector, whose full
    collections would otherwise walk every one of those objects again and stall the
    loop for 50 ms or more."""
    from knowledge.embed import default_embedder
    from knowledge.processes import WorkerProcesses
    from knowledge.threads import worker_pool

    asyncio.get_running_loop().set_default_executor(worker_pool("parley-work"))
    processes = WorkerProcesses(_cores(), prepare=default_embedder)
    try:
        async with open_service(settings, hold_index=True, processes=processes) as service:
            gc.collect()
            gc.freeze()
            yield service
    finally:
        await asyncio.to_thread(processes.close)
