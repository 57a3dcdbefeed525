"""A re-index refused because another instance of the deployment runs one (PostgreSQL's
lock) is worded as one running here would be: who, since when, how far."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.access import Requester
from bot.errors import ReindexBusy
from bot.reindex import Reindexer
from knowledge.errors import IndexBusy
from knowledge.types import IndexProgress


async def test_a_run_on_another_instance_is_named_with_its_progress(tmp_path: Path) -> None:
    run = IndexProgress(
        "discord:42", time.time() - 180, 3, 40, "/docs/guide.pdf", host="host-b", pid=77
    )

    def index(paths, progress, passages):
        raise IndexBusy("a re-index is already running elsewhere", run)

    reindexer = Reindexer(index)
    with pytest.raises(ReindexBusy) as refused:
        await reindexer.run(Requester("slack", "U1"), [tmp_path])
    message = str(refused.value)
    assert message.startswith("A re-index is already running, started by discord:42 on host-b")
    assert "(3 min ago)" in message and "3 of 40 files (guide.pdf)" in message
    assert reindexer.status is None  # nothing runs here


async def test_a_busy_index_without_progress_passes_through(tmp_path: Path) -> None:
    def index(paths, progress, passages):
        raise IndexBusy("the index in /x is being written by another Parley process (pid 9)")

    with pytest.raises(IndexBusy, match="pid 9"):
        await Reindexer(index).run(Requester("slack", "U1"), [tmp_path])
