"""Searching while a re-index runs, two runs at once, and a second process that wants to
write, on both engines (with embedded Chroma, whose folder stays one writer's)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from knowledge.errors import IndexBusy
from tests.conftest import ROOT, HashEmbedder

FILES, SECTIONS = 10, 4


class SlowEmbedder(HashEmbedder):
    """Takes its time, so searches really do run while the index is being written."""

    def embed(self, texts):
        time.sleep(0.02)
        return super().embed(texts)


def write_docs(folder: Path, version: str) -> None:
    """FILES files of SECTIONS passages each; every passage names its file and version."""
    folder.mkdir(exist_ok=True)
    for f in range(FILES):
        body = "\n\n".join(
            f"# Part {s}\n\nShared handbook words for file{f} section{s}, {version} edition."
            for s in range(SECTIONS)
        )
        (folder / f"file{f}.md").write_text(body)


def test_searches_during_a_reindex_see_each_file_all_old_or_all_new(
    tmp_path: Path, open_kb
) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, "oldversion")
    with open_kb(tmp_path / "index", embedder=SlowEmbedder()) as kb:
        kb.index([docs])
        write_docs(docs, "newversion")
        for f in range(FILES):  # a new mtime even on a coarse clock
            os.utime(docs / f"file{f}.md", ns=(1, 10**9 * (f + 1)))
        results: list[dict[str, set[str]]] = []
        counts: list[int] = []
        errors: list[BaseException] = []
        indexing = threading.Thread(target=lambda: kb.index([docs], batch_size=3))

        def search(mode: str) -> None:
            try:
                while indexing.is_alive():
                    hits = kb.search("shared handbook words", 2 * FILES * SECTIONS, mode=mode)
                    versions: dict[str, set[str]] = {}
                    for hit in hits:
                        version = "new" if "newversion" in hit.passage.text else "old"
                        versions.setdefault(hit.passage.source, set()).add(version)
                    results.append(versions)
                    counts.append(kb.count())
            except BaseException as exc:
                errors.append(exc)

        searchers = [threading.Thread(target=search, args=(m,)) for m in ("hybrid", "lexical") * 2]
        indexing.start()
        for t in searchers:
            t.start()
        for t in [indexing, *searchers]:
            t.join()
        assert errors == []
        assert len(results) > 10 and all(results)  # every search answered
        assert all(len(v) == 1 for versions in results for v in versions.values())
        seen = {v for versions in results for vs in versions.values() for v in vs}
        assert seen == {"old", "new"}  # the searches did overlap the swap
        assert set(counts) == {FILES * SECTIONS}  # a file's passages never went missing
        hits = kb.search("shared handbook words", 2 * FILES * SECTIONS)
        assert len(hits) == FILES * SECTIONS and all("newversion" in h.passage.text for h in hits)


def test_a_second_run_in_the_same_process_is_refused(tmp_path: Path, open_kb) -> None:
    docs = tmp_path / "docs"
    write_docs(docs, "oldversion")
    with open_kb(tmp_path / "index", embedder=SlowEmbedder(), hold=True) as kb:
        first = threading.Thread(target=lambda: kb.index([docs], batch_size=1))
        first.start()
        time.sleep(0.2)
        with pytest.raises(IndexBusy, match="already running"):
            kb.index([docs])
        first.join()
        assert kb.count() == FILES * SECTIONS


OTHER_PROCESS = """
import sys
from pathlib import Path
from knowledge.base import KnowledgeBase
from knowledge.errors import KnowledgeError
from tests.conftest import HashEmbedder
url = sys.argv[3] if len(sys.argv) > 3 else None
with KnowledgeBase.open(Path(sys.argv[1]), embedder=HashEmbedder(), database_url=url) as kb:
    print(len(kb.search("shared handbook", 3, mode="lexical")))
    try:
        kb.index([Path(sys.argv[2])])
    except KnowledgeError as exc:
        print(type(exc).__name__, exc)
"""


def other_process(index: Path, docs: Path, url: str | None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(index), str(docs), *([url] if url else [])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_another_process_may_search_but_not_index_a_held_index(
    tmp_path: Path, open_kb, database_url: str | None
) -> None:
    docs, index = tmp_path / "docs", tmp_path / "index"
    write_docs(docs, "oldversion")
    with open_kb(index, embedder=HashEmbedder(), hold=True) as kb:
        kb.index([docs])  # the holder itself may write
        write_docs(docs, "newversion")
        (docs / "extra.md").write_text("# Extra\n\nA file only the other process saw.\n")
        before = (kb.count(), sorted(h.passage.id for h in kb.search("shared", 50, "lexical")))
        searched, refused = other_process(index, docs, database_url)
        assert searched == "3"
        assert refused.startswith("IndexBusy") and f"pid {os.getpid()}" in refused
        assert "re-index through the bot" in refused
        after = (kb.count(), sorted(h.passage.id for h in kb.search("shared", 50, "lexical")))
        assert after == before  # the refused run changed nothing
        with pytest.raises(IndexBusy):  # nor may a second holder in this process
            open_kb(index, embedder=HashEmbedder(), hold=True)
    assert other_process(index, docs, database_url) == ["3"]  # released on close: now it may
    with open_kb(index, embedder=HashEmbedder()) as kb:
        assert kb.count() == FILES * SECTIONS + 1
