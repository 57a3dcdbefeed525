"""A re-index killed with SIGKILL half way, through the service in a child process: the
next question is still answered, and the next re-index finishes the job, leaving the
same index a clean run builds (both stores agreeing)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from arena.store import Store
from bot.access import Requester
from bot.config import Settings
from bot.service import Ask, Service
from knowledge.base import KnowledgeBase
from tests.conftest import HashEmbedder
from tests.fakes.providers import fake, roster

ROOT = Path(__file__).parents[2]
FILES = 40
KILL_AFTER = 5  # files reported done

# The child: the service re-indexes with an embedder slowed down enough to be caught
# half way; each finished file is printed so the parent knows when to kill it.
CHILD = """
import asyncio, sys, time
from pathlib import Path
from arena.store import Store
from bot.access import Requester
from bot.config import Settings
from bot.service import Service
from knowledge.base import KnowledgeBase
from tests.conftest import HashEmbedder
from tests.fakes.providers import fake, roster

class Slow(HashEmbedder):
    def embed(self, texts):
        time.sleep(0.05)
        return super().embed(texts)

index_dir, docs = Path(sys.argv[1]), Path(sys.argv[2])
kb = KnowledgeBase.open(index_dir, embedder=Slow(), hold=True)

def index(paths, progress, passages):
    def shown(path, done, total):
        print(done, flush=True)
        progress(path, done, total)
    return kb.index(paths, shown, on_passages=passages, batch_size=1)

async def main():
    store = await Store.open(":memory:")
    service = Service(Settings(top_k=3, battle_share=0, sources=[docs]), search=kb.search,
                      roster=roster(fake("alpha")), store=store, index=index)
    await service.reindex(Requester("cli", "ops", platform_admin=True))

asyncio.run(main())
"""


def write_docs(docs: Path) -> None:
    docs.mkdir()
    for n in range(FILES):
        (docs / f"topic{n:02d}.md").write_text(
            f"# Topic {n}\n\nThe code word for topic {n} is word{n}.\n\n"
            f"## More\n\nRoll back topic {n} with shipit rollback {n}.\n"
        )


def kill_half_way(index_dir: Path, docs: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(index_dir), str(docs)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    for line in child.stdout:
        if int(line) >= KILL_AFTER:
            break
    assert child.poll() is None, "the re-index finished before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    child.stdout.close()


async def test_a_reindex_killed_half_way_is_finished_by_the_next(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write_docs(docs)
    index_dir = tmp_path / "index"
    await asyncio.to_thread(kill_half_way, index_dir, docs)

    kb = KnowledgeBase.open(index_dir, embedder=HashEmbedder(), hold=True)  # lock freed
    store = await Store.open(":memory:")
    try:
        service = Service(
            Settings(top_k=3, battle_share=0, sources=[docs]),
            search=kb.search,
            roster=roster(fake("alpha")),
            store=store,
            index=lambda paths, progress, passages: kb.index(paths, progress),
        )
        reply = await service.ask(Ask("What is the code word for topic 0?", "U1", "C1", None, "x"))
        assert reply.answers and reply.answers[0].answer.ok
        assert "topic00.md" in str(reply.answers[0].answer.citations)

        partial = kb.count()
        report = await service.reindex(Requester("cli", "ops", platform_admin=True))
        assert report.added > 0 and report.added + report.unchanged + report.changed == FILES
        health = kb.health()
        assert health.passages == health.vectors > partial
    finally:
        await store.close()
        kb.close()

    clean = KnowledgeBase.open(tmp_path / "clean", embedder=HashEmbedder())
    try:
        assert clean.index([docs]).passages == health.passages
    finally:
        clean.close()
