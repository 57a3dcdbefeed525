"""Shared pieces for the hostile-input tests: an event loop in a thread (hypothesis drives
plain functions, the apps live in that loop), strategies for junk, and the scan for stack
traces in whatever Parley sent out."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

import pytest
from hypothesis import strategies as st

from tests.fakes.http_server import FakeServer

# anything JSON can carry, kept small: what a forged or broken payload puts in a field
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)
HUGE = "why " * 30_000  # 120 kB of question


@st.composite
def mangled(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with some keys dropped and some values replaced by junk."""
    out = dict(base)
    for key in base:
        how = draw(st.sampled_from(["keep", "keep", "keep", "drop", "junk"]))
        if how == "drop":
            del out[key]
        elif how == "junk":
            out[key] = draw(JSON)
    return out


class LoopThread:
    """An event loop running in its own thread: ``run`` a coroutine there and wait."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, work: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@pytest.fixture
def loop_thread():
    runner = LoopThread()
    yield runner
    runner.close()


def sent_text(server: FakeServer) -> str:
    """Everything Parley sent to the fake platform, as one text to scan."""
    return "\n".join(r.raw.decode("utf-8", "replace") for r in server.requests)


def assert_no_traceback(server: FakeServer) -> None:
    text = sent_text(server)
    assert "Traceback" not in text and 'File "' not in text
