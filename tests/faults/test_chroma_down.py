"""A real Chroma server that hangs, then dies, while questions arrive: each question gets
"search is unavailable right now" (no crash, no hung thread), and once the server is back
on the same port and data the next question is answered, with nothing restarted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from arena.store import Store
from bot import messages
from bot.config import Settings
from bot.service import Ask, Service
from knowledge import store as vector_store
from knowledge.base import KnowledgeBase
from tests.conftest import HashEmbedder
from tests.fakes.providers import fake, roster
from tests.knowledge.conftest import CHROMA_START_SECONDS, _free_port, _heartbeat

HOST = "127.0.0.1"


class ChromaServer:
    """``chroma run`` on one port and one data folder, stopped and started at will."""

    def __init__(self, data: Path) -> None:
        cli = shutil.which("chroma")
        if cli is None:
            pytest.skip("the `chroma` command (installed with chromadb) is not on PATH")
        self.cli, self.data, self.port = cli, data, _free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.data / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.cli,
                "run",
                "--path",
                str(self.data / "db"),
                "--host",
                HOST,
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + CHROMA_START_SECONDS
        while not _heartbeat(HOST, self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"chroma run did not start: see {self.data / 'server.log'}")
            time.sleep(0.1)

    def signal(self, number: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, number)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process and server.process.poll() is None:
            server.signal(signal.SIGCONT)
            server.kill()


async def test_questions_while_chroma_hangs_and_dies_then_comes_back(
    tmp_path: Path, chroma: ChromaServer, monkeypatch
) -> None:
    monkeypatch.setattr(vector_store, "CHROMA_TIMEOUT", 1.0)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deploys.md").write_text("# Deploys\n\nRun shipit rollback to roll back a deploy.\n")
    kb = KnowledgeBase.open(
        tmp_path / "index", chroma_host=HOST, chroma_port=chroma.port, embedder=HashEmbedder()
    )
    store = await Store.open(":memory:")
    service = Service(
        Settings(top_k=3, battle_share=0),
        search=kb.search,
        roster=roster(fake("alpha")),
        store=store,
    )

    async def ask() -> list[str]:
        reply = await service.ask(Ask("How do I roll back a deploy?", "U1", "C1", None, "slack"))
        return reply.notices if not reply.answers else [reply.answers[0].answer.text]

    try:
        assert kb.index([docs]).added == 1
        answered = await ask()
        assert answered != [messages.search_unavailable()]

        chroma.signal(signal.SIGSTOP)  # hung: it accepts connections and never answers
        started = time.monotonic()
        assert await ask() == [messages.search_unavailable()]
        assert time.monotonic() - started < 5  # the timeout, not forever
        chroma.signal(signal.SIGCONT)
        assert await ask() == answered

        chroma.kill()  # gone: connections refused
        assert await ask() == [messages.search_unavailable()]
        assert await ask() == [messages.search_unavailable()]
        chroma.start()  # back on the same port and data
        assert await ask() == answered
    finally:
        await store.close()
        kb.close()
