"""Several instances over one PostgreSQL and one Chroma server (``chroma run``): they
search the same passages, see each other's re-index, and re-index one at a time, the
refused one told who runs the other, since when and how far."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from knowledge.base import KnowledgeBase
from knowledge.errors import IndexBusy
from knowledge.store import COLLECTION
from tests.conftest import ROOT, HashEmbedder


@pytest.fixture
def shared(pg_url, chroma_server, tmp_path):
    """Open instances as two machines would: the same database and Chroma server, each
    with an index folder of its own (which stays empty)."""
    import chromadb

    host, port = chroma_server
    client = chromadb.HttpClient(host=host, port=port)

    def empty() -> None:  # the session's server: start from nothing, and leave nothing
        if COLLECTION in [c.name for c in client.list_collections()]:
            client.delete_collection(COLLECTION)

    empty()
    opened = []

    def open_(name: str, embedder=None, **options) -> KnowledgeBase:
        kb = KnowledgeBase.open(
            tmp_path / name,
            chroma_host=host,
            chroma_port=port,
            database_url=pg_url,
            embedder=embedder or HashEmbedder(),
            **options,
        )
        opened.append(kb)
        return kb

    yield open_
    for kb in opened:
        kb.close()
    empty()


class Gated:
    """Another embedder's vectors, but after ``passing`` batches it waits for
    ``release``: a run that is certainly still going while the test tries another."""

    def __init__(self, inner, passing: int = 0) -> None:
        self.name, self.dim, self._inner = inner.name, inner.dim, inner
        self.started, self.release = threading.Event(), threading.Event()
        self._passing = passing

    def embed(self, texts):
        if self._passing == 0:
            self.started.set()
            assert self.release.wait(60)
        else:
            self._passing -= 1
        return self._inner.embed(texts)


def write_docs(folder: Path, files: int, version: str) -> Path:
    folder.mkdir(exist_ok=True)
    for n in range(files):
        (folder / f"file{n}.md").write_text(f"# File {n}\n\nHandbook file{n}, {version} edition.\n")
    return folder


def texts(kb: KnowledgeBase, query: str, mode: str = "hybrid") -> set[str]:
    return {h.passage.text for h in kb.search(query, 50, mode=mode)}


def test_two_instances_search_the_same_passages_and_see_each_others_reindex(
    shared, tmp_path: Path
) -> None:
    docs = write_docs(tmp_path / "docs", 3, "first")
    a, b = shared("a"), shared("b")
    assert a.index([docs]).added == 3
    for mode in ("hybrid", "dense", "lexical"):
        assert texts(b, "handbook edition", mode) == texts(a, "handbook edition", mode)
    assert len(texts(b, "handbook edition")) == 3
    (docs / "file0.md").write_text("# File 0\n\nHandbook file0, second edition.\n")
    (docs / "file2.md").unlink()
    report = b.index([docs])  # through the other instance
    assert (report.changed, report.removed, report.unchanged) == (1, 1, 1)
    assert texts(a, "handbook edition") == {
        "Handbook file0, second edition.",
        "Handbook file1, first edition.",
    }
    assert a.health().passages == a.health().vectors == 2
    assert not (tmp_path / "a").exists()  # nothing kept on the instance's own disk


def test_one_reindex_at_a_time_and_the_refused_one_sees_its_progress(
    shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("knowledge.pg_lock.PROGRESS_INTERVAL", 0)  # every step is written
    docs = write_docs(tmp_path / "docs", 12, "first")
    gated = Gated(HashEmbedder(), passing=3)  # one file a batch: three files written
    a = shared("a", embedder=gated)
    b = shared("b", hold=True)  # a bot holding its index does not stop a run elsewhere
    started = time.time()
    running = threading.Thread(
        target=lambda: a.index([docs], batch_size=1, requested_by="slack:UADMIN")
    )
    running.start()
    try:
        assert gated.started.wait(60)
        with pytest.raises(IndexBusy) as busy:
            b.index([docs])
    finally:
        gated.release.set()
        running.join()
    refused = busy.value
    run = refused.running
    assert run is not None and (run.requested_by, run.pid) == ("slack:UADMIN", os.getpid())
    assert started - 1 <= run.started_at <= time.time()
    third = sorted(path.name for path in docs.iterdir())[2]  # files go in name order
    assert (run.done, run.total, Path(run.current).name) == (3, 12, third)
    message = str(refused)
    assert "started by slack:UADMIN on " in message and f"(pid {os.getpid()})" in message
    assert b.index([docs]).unchanged == 12  # free again once the run is over


SHELL_INDEX = """
import sys
from bot.cli import main
sys.argv = ["parley", "index", sys.argv[1]]
main()
"""


def test_parley_index_from_a_shell_takes_the_same_lock(
    shared, pg_url, chroma_server, tmp_path: Path, real_embedder
) -> None:
    docs = write_docs(tmp_path / "docs", 8, "first")
    env = {
        **os.environ,
        "PARLEY_DATABASE_URL": pg_url,
        "PARLEY_CHROMA_HOST": chroma_server[0],
        "PARLEY_CHROMA_PORT": str(chroma_server[1]),
        "PARLEY_DATA_DIR": str(tmp_path / "shell"),
        "PYTHONPATH": str(ROOT),
    }

    def parley_index() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", SHELL_INDEX, str(docs)],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip

    gated = Gated(real_embedder)  # the shell's embedder, so either may index after the other
    a = shared("a", embedder=gated)
    running = threading.Thread(target=lambda: a.index([docs], requested_by="bot"))
    running.start()
    try:
        assert gated.started.wait(60)
        refused = parley_index()
    finally:
        gated.release.set()
        running.join()
    assert refused.returncode == 1
    assert "Error: A re-index is already running, started by bot on " in refused.stderr
    assert "Traceback" not in refused.stderr
    (docs / "file7.md").write_text("# File 7\n\nHandbook file7, second edition.\n")
    done = parley_index()  # nothing else running: the shell may index beside the bots
    assert done.returncode == 0, done.stderr
    assert "Handbook file7, second edition." in texts(a, "handbook second edition")


HOLDER = """
import sys, time
from pathlib import Path
from knowledge.base import KnowledgeBase
from tests.conftest import HashEmbedder

class Stuck(HashEmbedder):
    def embed(self, texts):
        print("embedding", flush=True)
        time.sleep(60)

kb = KnowledgeBase.open(Path(sys.argv[1]), chroma_host=sys.argv[3],
                        chroma_port=int(sys.argv[4]), database_url=sys.argv[2], embedder=Stuck())
kb.index([Path(sys.argv[5])], requested_by="doomed")
"""


def test_a_crashed_reindex_frees_the_lock_and_is_not_shown(
    shared, pg_url, chroma_server, tmp_path: Path
) -> None:
    docs = write_docs(tmp_path / "docs", 2, "first")
    host, port = chroma_server
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "x"), pg_url, host, str(port), str(docs)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "embedding"  # it holds the lock now
        b = shared("b")
        with pytest.raises(IndexBusy, match="started by doomed"):
            b.index([docs])
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    finally:
        holder.kill()
    deadline = time.monotonic() + 10  # the server notices the dead connection at once
    while True:
        try:
            assert b.index([docs]).added == 2
            break
        except IndexBusy:
            assert time.monotonic() < deadline, "the dead run's lock was never released"
            time.sleep(0.1)
    with psycopg.connect(pg_url) as check:  # its row was replaced, then cleared
        assert check.execute("SELECT count(*) FROM kb_runs").fetchone()[0] == 0
