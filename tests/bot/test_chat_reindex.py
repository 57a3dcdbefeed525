"""The re-index flow chat surfaces share: what the one edited message says."""

from __future__ import annotations

import asyncio
import threading

from arena.store import Store
from bot import messages
from bot.access import Requester
from bot.chat_reindex import MAX_SKIPPED_SHOWN, reindex_from_chat, report_text
from bot.config import Settings
from bot.service import Service
from knowledge.indexer import IndexReport
from tests.fakes.providers import fake, roster


def service(store: Store, index, sources=("/hb",)) -> Service:
    return Service(
        Settings(battle_share=0.0, sources=list(sources), admins=["slack:admin"]),
        search=lambda text, k, mode: [],
        roster=roster(fake("alpha")),
        store=store,
        index=index,
    )


async def test_refusals_are_shown_not_raised() -> None:
    store = await Store.open(":memory:")
    shown: list[str] = []

    async def show(text: str) -> None:
        shown.append(text)

    release = threading.Event()

    def slow_index(paths, progress, passages):
        release.wait(5)
        return IndexReport()

    svc = service(store, slow_index)
    await reindex_from_chat(svc, Requester("slack", "someone"), show)
    assert shown == [messages.not_admin()]
    running = asyncio.create_task(reindex_from_chat(svc, Requester("slack", "admin"), show))
    await asyncio.sleep(0.05)
    await reindex_from_chat(svc, Requester("discord", "boss", platform_admin=True), show)
    assert shown[-1].startswith("A re-index is already running, started by slack:admin")
    release.set()
    await running
    assert shown[-1] == messages.index_summary(IndexReport())
    await reindex_from_chat(
        service(store, slow_index, sources=()), Requester("slack", "admin"), show
    )
    assert shown[-1] == messages.no_sources()
    await store.close()


def test_the_report_lists_a_few_skipped_files() -> None:
    skipped = [(f"/hb/bad{n}.pdf", "not a PDF") for n in range(MAX_SKIPPED_SHOWN + 2)]
    lines = report_text(IndexReport(added=1, skipped=skipped)).splitlines()
    assert lines[0] == messages.index_summary(IndexReport(added=1, skipped=skipped))
    assert lines[1] == "Skipped /hb/bad0.pdf: not a PDF"
    assert len(lines) == 1 + MAX_SKIPPED_SHOWN + 1 and lines[-1] == "... and 2 more skipped."
