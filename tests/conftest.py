"""Fakes that are real classes, registered exactly as the real ones are."""

from __future__ import annotations

import hashlib
import logging
import re
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from arena.roster import Roster
from tests.fakes.http_server import FakeServer

ROOT = Path(__file__).resolve().parents[1]

_sdk_clients: list[weakref.ref] = []


def _track_sdk_clients() -> None:
    """Remember every HTTP client the OpenAI and Anthropic SDKs open. One left open is
    closed by the SDK from its garbage collector, on whatever event loop runs then: in a
    later test, whose loop then logs "Event loop is closed"."""
    import anthropic._base_client
    import openai._base_client

    for sdk in (openai._base_client, anthropic._base_client):
        cls = sdk.AsyncHttpxClientWrapper
        opened = cls.__init__

        def remembering(self, *args, __opened=opened, **kwargs) -> None:
            __opened(self, *args, **kwargs)
            _sdk_clients.append(weakref.ref(self))

        cls.__init__ = remembering


_track_sdk_clients()


@pytest.fixture
async def closing() -> AsyncIterator[Callable[[Roster], Roster]]:
    """``closing(roster)`` gives the roster back and closes it when the test ends."""
    rosters: list[Roster] = []

    def keep(roster: Roster) -> Roster:
        rosters.append(roster)
        return roster

    yield keep
    for roster in rosters:
        await roster.aclose()


@pytest.fixture(autouse=True)
def sdk_clients_closed() -> Iterator[None]:
    """A test (or the code it runs) that opens a hosted model's client must close it."""
    _sdk_clients.clear()
    yield
    left_open = [c for ref in _sdk_clients if (c := ref()) is not None and not c.is_closed]
    _sdk_clients.clear()
    assert not left_open, f"{len(left_open)} SDK HTTP client(s) left open: close the roster"


@pytest.fixture(autouse=True)
def logging_levels_restored() -> Iterator[None]:
    """The CLI sets the root logger's level (errors only) and Parley's own when a test
    runs it in process; restored after each test, so a later test's log capture does not
    depend on which tests ran before it."""
    names = ("", "bot", "arena.roster")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


HANDBOOK = ROOT / "examples" / "handbook"


class HashEmbedder:
    """Bag-of-words vectors from hashed words: fast, deterministic, and similar texts
    really are closer. Counts its calls so tests can prove what was (not) embedded."""

    name = "hash-embedder"
    dim = 256

    def __init__(self) -> None:
        self.calls = 0
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim
                out[row, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    from knowledge.embed import default_embedder

    return default_embedder()


@pytest.fixture
def fake_api():
    """A local HTTP server that plays providers, Slack, Discord or a judge from a script."""
    with FakeServer() as server:
        yield server


ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Suites that exercise the arena's SQL opt in to both engines with
    ``pytestmark = pytest.mark.both_engines``: each of their tests that uses the store
    (``store``, ``store_target``) runs on SQLite and again on PostgreSQL. Other tests
    that merely need a store get SQLite alone, which keeps the suite's time in check."""
    if "store_engine" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_engines"
    ):
        metafunc.parametrize("store_engine", ENGINES, indirect=True)


@pytest.fixture
def store_engine(request: pytest.FixtureRequest) -> str:
    """The arena's engine for this test: SQLite unless its suite runs on both."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def store_target(store_engine: str, request: pytest.FixtureRequest) -> str:
    """Where the test's arena lives: ``":memory:"``, or on PostgreSQL a URL to an empty
    schema of the test's own."""
    return request.getfixturevalue("pg_url") if store_engine == "postgresql" else ":memory:"


@pytest.fixture
def durable_target(store_engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's arena lives when it must outlast the Store: a file on SQLite (in
    WAL mode, with readers of their own), or the test's PostgreSQL schema."""
    if store_engine == "postgresql":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "parley.db")


@pytest.fixture
async def store(store_target: str):
    """A migrated arena store (in memory, or the test's PostgreSQL schema), closed after
    the test."""
    from arena.store import Store

    opened = await Store.open(store_target)
    yield opened
    await opened.close()


@pytest.fixture(scope="session")
def postgres():
    """A throw-away PostgreSQL cluster for the session (see tests/postgres.py); tests
    that need it are skipped, with the reason, when it cannot be found or started."""
    from tests.postgres import ClusterUnavailable, throwaway_cluster

    try:
        with throwaway_cluster() as cluster:
            yield cluster
    except ClusterUnavailable as exc:
        pytest.skip(f"PostgreSQL is not available: {exc}")


@pytest.fixture
def pg_url(postgres) -> str:
    """A URL to an empty schema of its own on the session's PostgreSQL, dropped after."""
    with postgres.schema() as url:
        yield url
