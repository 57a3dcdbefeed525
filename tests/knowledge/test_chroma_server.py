"""Server mode: a real ``chroma run`` on 127.0.0.1, indexed and searched through Parley."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from knowledge.base import KnowledgeBase
from tests.conftest import HashEmbedder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = shutil.which("chroma")
    if exe is None:
        pytest.skip("the chroma CLI is not installed")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen(
        [exe, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("chroma run did not start within 60 s")
        yield port
    finally:
        process.terminate()
        process.wait(10)


def test_index_and_search_through_a_chroma_server(tmp_path: Path, chroma_server: int) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text("# Parking\n\nVisitors park on level minus two.\n")
    (docs / "lunch.md").write_text("# Lunch\n\nThe canteen serves lunch from noon.\n")
    embedder = HashEmbedder()
    with KnowledgeBase.open(
        tmp_path / "index", chroma_host="127.0.0.1", chroma_port=chroma_server, embedder=embedder
    ) as kb:
        assert kb.index([docs]).added == 2
        hits = kb.search("where do visitors park", 2, mode="dense")
        assert Path(hits[0].passage.source).name == "parking.md"
        (docs / "lunch.md").unlink()
        assert kb.index([docs]).removed == 1
        assert [Path(h.passage.source).name for h in kb.search("canteen lunch", 5, "dense")] == [
            "parking.md"
        ]
    assert not (tmp_path / "index" / "chroma").exists()  # nothing embedded locally
