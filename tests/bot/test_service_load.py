"""The service under load: 50 questions answered by the offline answerers while a
re-index of changed files runs, with the event loop free throughout.

The embedder is a fake that sleeps a little on every call, as a real model computes:
were the answerers or the indexer to run it on the event loop, the loop's lag would add
up to seconds; in worker threads it stays small.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from arena.models.offline import PassageAnswerer, SentenceAnswerer
from arena.roster import Contestant, Roster
from arena.store import Store
from arena.types import ModelSpec
from bot.access import Requester
from bot.config import Settings
from bot.service import Ask, Service
from knowledge.base import KnowledgeBase
from tests.conftest import HashEmbedder

FILES = 12
WORK_PER_CALL = 0.2  # seconds a fake embedding call keeps its thread busy


class BusyEmbedder(HashEmbedder):
    """Hash vectors that take time, holding the GIL-free sleep as a model holds a core."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(WORK_PER_CALL)
        return super().embed(texts)


def write_docs(folder: Path, version: int) -> None:
    folder.mkdir(exist_ok=True)
    for n in range(FILES):
        (folder / f"service-{n}.md").write_text(
            f"# Service {n}\n\n"
            + "\n\n".join(
                f"## Part {p}\n\nService {n} part {p} is owned by team {n % 4}. "
                f"Its deploy window is version {version}, from {p + 8}:00 to {p + 9}:00."
                for p in range(6)
            )
        )


async def test_fifty_asks_while_changed_files_are_reindexed(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, version=1)
    embedder = BusyEmbedder()
    kb = KnowledgeBase.open(tmp_path / "index", embedder=embedder)
    kb.index([docs])
    store = await Store.open(tmp_path / "parley.db")
    roster = Roster(
        [
            Contestant(spec, cls(spec, embedder=lambda: embedder))
            for spec, cls in (
                (ModelSpec(name="sentences", provider="offline-sentences"), SentenceAnswerer),
                (ModelSpec(name="passages", provider="offline-passages"), PassageAnswerer),
            )
        ]
    )
    service = Service(
        Settings(top_k=5, battle_share=0.5, admins=["test:admin"]),
        search=kb.search,
        index=lambda paths, progress, passages: kb.index(
            paths, progress=progress, on_passages=passages
        ),
        roster=roster,
        store=store,
    )
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(0.005)
            lags.append(time.perf_counter() - asked - 0.005)

    try:
        write_docs(docs, version=2)  # every file changes
        tick = asyncio.create_task(ticker())
        reindex = asyncio.create_task(service.reindex(Requester("test", "admin"), [docs]))
        replies = await asyncio.gather(
            *(
                service.ask(Ask(f"Who owns service {n % FILES}?", f"u{n}", "c", None, "test"))
                for n in range(50)
            )
        )
        report = await reindex
        stop.set()
        await tick
    finally:
        await store.close()
        kb.close()
    assert report.changed == FILES and not report.skipped
    assert all(reply.answers and not reply.notices for reply in replies)
    for reply in replies:  # each answer read one version of each file, never a mix
        for shown in reply.answers:
            versions: dict[str, set[str]] = {}
            for passage in shown.answer.shown:
                version = "2" if "version 2" in passage.text else "1"
                versions.setdefault(passage.source, set()).add(version)
            assert all(len(v) == 1 for v in versions.values()), versions
    # on the loop, each of the ~100 answers' embedding calls would block it for 0.2 s;
    # in threads a busy machine may still delay a wake-up now and then
    blocked = [lag for lag in lags if lag > 0.15]
    assert len(blocked) <= 3, f"the event loop was blocked {len(blocked)} times: {blocked[:5]}"
