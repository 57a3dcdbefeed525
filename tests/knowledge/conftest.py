"""Shared fixtures for knowledge tests: a passage factory and a local Chroma server.

The session-wide real embedder (``real_embedder``) lives in tests/conftest.py.
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from knowledge.types import Passage

CHROMA_START_SECONDS = 60


@pytest.fixture
def make_passage() -> Callable[..., Passage]:
    """Build a Passage with defaults for everything but the text (id from the text)."""

    def make(
        text: str,
        *,
        id: str | None = None,
        source: str = "/docs/a.md",
        title: str = "A",
        heading_path: tuple[str, ...] = (),
        location: str = "",
    ) -> Passage:
        return Passage(
            id or hashlib.sha1(text.encode()).hexdigest()[:16],
            text,
            source,
            title,
            heading_path,
            location,
        )

    return make


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """``chroma run`` on 127.0.0.1 for the whole session; yields (host, port)."""
    cli = shutil.which("chroma")
    if cli is None:
        pytest.skip("the `chroma` command (installed with chromadb) is not on PATH")
    host, port = "127.0.0.1", _free_port()
    data: Path = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("wb")
    process = subprocess.Popen(
        [cli, "run", "--path", str(data / "db"), "--host", host, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + CHROMA_START_SECONDS
        while not _heartbeat(host, port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"chroma run did not start: see {data / 'server.log'}")
            time.sleep(0.2)
        yield host, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _heartbeat(host: str, port: int) -> bool:
    """True once the server answers; http.client, unlike urllib, never goes through a proxy."""
    connection = http.client.HTTPConnection(host, port, timeout=1)
    try:
        connection.request("GET", "/api/v2/heartbeat")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    """Run the test once on each engine of the record store and lexical search."""
    return request.param


@pytest.fixture
def database_url(engine: str, request: pytest.FixtureRequest) -> str | None:
    """None on SQLite; on PostgreSQL, an empty schema of the test's own."""
    return request.getfixturevalue("pg_url") if engine == "postgresql" else None


@pytest.fixture
def open_lexical(database_url: str | None) -> Iterator[Callable[..., object]]:
    """Open the lexical index: the SQLite file at ``path`` (default in memory), or the
    test's PostgreSQL schema (the same one each time, so a reopened index persists)."""
    from knowledge.lexical import LexicalIndex
    from knowledge.pg_lexical import PgLexicalIndex

    opened: list = []

    def open_(path: Path | str = ":memory:"):
        index = PgLexicalIndex.open(database_url) if database_url else LexicalIndex(path)
        opened.append(index)
        return index

    yield open_
    for index in opened:
        index.close()


@pytest.fixture
def open_kb(database_url: str | None) -> Callable[..., object]:
    """``KnowledgeBase.open`` on the engine under test (the index folder keeps Chroma)."""
    from knowledge.base import KnowledgeBase

    def open_(index_dir: Path, **options):
        return KnowledgeBase.open(index_dir, database_url=database_url, **options)

    return open_
