"""Ctrl-C during `parley index`, and a bot shutting down during a re-index: the run
stops at its next step instead of running to the end, says what it kept, and keeps it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import knowledge.base
from arena.store import Store
from bot.access import Requester
from bot.cli import cli
from knowledge.errors import IndexStopped
from knowledge.indexer import EMBED_STEP, IndexReport
from tests.conftest import HashEmbedder
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes


class InterruptedEmbedder(HashEmbedder):
    """Presses Ctrl-C during its second call, as a user does during a long file, and
    takes a moment, as a real embedding step does."""

    def embed(self, texts):
        if self.calls == 1:
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.3)
        return super().embed(texts)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(3):
        (folder / f"a{n}.md").write_text(f"# Note {n}\n\nA short note, number {n}.\n")
    text = " ".join(f"Sentence {n} says word{n % 97} and more." for n in range(2500))
    (folder / "big.txt").write_text(text)  # about 120 passages
    return folder


def test_ctrl_c_stops_parley_index_at_once_and_says_what_it_kept(
    docs: Path, tmp_path: Path, monkeypatch
) -> None:
    embedder = InterruptedEmbedder()
    monkeypatch.setattr(knowledge.base, "default_embedder", lambda: embedder)
    data = ["--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(cli, [*data, "index", str(docs)])
    assert result.exit_code == 130, result.output
    assert embedder.calls == 2  # the step under way when Ctrl-C came was the last
    assert "Stopping: finishing the step in progress" in result.output
    kept = 2 * EMBED_STEP - 3  # big.txt's share of the two steps
    assert "Kept 3 finished files (3 added, 0 changed, 0 unchanged)" in result.output
    assert f"and {kept} passages embedded from files not finished" in result.output
    assert "3 passages in the index" in result.output
    doctor = CliRunner().invoke(cli, [*data, "doctor", "--no-models", "--json"])
    (index,) = [f for f in json.loads(doctor.stdout) if f["check"] == "index"]
    assert f"{kept} of the vectors are for files it had not written yet" in index["detail"]
    assert index["fix"].endswith("without embedding those again")

    again = HashEmbedder()
    monkeypatch.setattr(knowledge.base, "default_embedder", lambda: again)
    result = CliRunner().invoke(cli, [*data, "index", str(docs)])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output and "3 unchanged" in result.output
    total = int(result.output.split("skipped; ")[1].split(" passages")[0])
    assert again.texts == total - 3 - kept  # nothing embedded twice


async def test_a_cancelled_reindex_stops_its_thread_instead_of_running_on(
    store: Store,
) -> None:
    steps: list[int] = []
    ended = threading.Event()

    def endless_index(paths, progress, passages) -> IndexReport:
        try:
            for n in range(10_000):  # far longer than the test waits
                time.sleep(0.01)
                steps.append(n)
                passages("big.txt", n, 10_000)
        except IndexStopped:
            return IndexReport(stopped=True)
        finally:
            ended.set()
        return IndexReport()

    service = service_over_fakes(store, roster(fake("alpha")), index=endless_index)
    run = asyncio.create_task(
        service.reindex(Requester("slack", "ops", platform_admin=True), [Path("/kb")])
    )
    while len(steps) < 5:
        await asyncio.sleep(0.01)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert ended.is_set()  # waited for: the thread ended before the cancellation went on
    assert len(steps) < 50
    assert service.reindex_status is None  # a new re-index may start
