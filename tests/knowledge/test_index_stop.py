"""Stopping an index run (Ctrl-C, a bot shutting down): it ends at its next step, keeps
every file it finished and every vector it embedded, and the next run does only the rest
(on both engines of the record store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.errors import IndexStopped
from knowledge.indexer import EMBED_STEP
from tests.conftest import HashEmbedder


class RecordingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def embed(self, texts):
        self.sizes.append(len(texts))
        return super().embed(texts)


def long_text(passages: int) -> str:
    """About ``passages`` passages of distinct text."""
    return " ".join(f"Sentence {n} says word{n % 97} and more." for n in range(passages * 21))


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(3):
        (folder / f"a{n}.md").write_text(f"# Note {n}\n\nA short note, number {n}.\n")
    (folder / "big.txt").write_text(long_text(120))
    return folder


def stop_when(condition):
    def callback(path: str, done: int, total: int) -> None:
        if condition(Path(path).name, done, total):
            raise IndexStopped

    return callback


def test_a_stop_inside_a_long_file_ends_at_the_next_step_and_keeps_what_was_embedded(
    tmp_path: Path, docs: Path, open_kb
) -> None:
    embedder = RecordingEmbedder()
    index = tmp_path / "index"
    with open_kb(index, embedder=embedder) as kb:
        report = kb.index(
            [docs], on_passages=stop_when(lambda name, done, total: name == "big.txt")
        )
        # one batch holds the short notes and big.txt's start: the step that reached
        # big.txt finished, no other began
        assert report.stopped and embedder.sizes == [EMBED_STEP]
        assert (report.added, report.changed, report.removed) == (3, 0, 0)
        assert report.pending == EMBED_STEP - 3  # big.txt's passages in that step
        assert kb.count() == report.passages == 3  # the notes are searchable, big.txt is not
        assert kb.health().pending == report.pending

    again = RecordingEmbedder()
    with open_kb(index, embedder=again) as kb:
        report = kb.index([docs])
        assert not report.stopped and (report.unchanged, report.added) == (3, 1)
        total = report.passages - 3
        assert total > 100 and sum(again.sizes) == total - (EMBED_STEP - 3)  # only the rest
        assert kb.count() == kb._vectors.count() and kb.health().pending == 0
        assert "big.txt" in kb.search("word42 sentence", 1)[0].passage.source


def test_a_stop_after_some_files_writes_them_and_removes_nothing(
    tmp_path: Path, docs: Path, open_kb
) -> None:
    index = tmp_path / "index"
    with open_kb(index, embedder=HashEmbedder()) as kb:
        kb.index([docs])
        (docs / "a2.md").unlink()
        for n in range(4):
            (docs / f"b{n}.md").write_text(f"# More {n}\n\nAnother note, number {n}.\n")
        report = kb.index([docs], stop_when(lambda name, done, total: done == 5), batch_size=1)
        assert report.stopped and report.removed == 0  # a2.md stays until a run completes
        assert (report.unchanged, report.added) == (2, 3)  # a0, a1; then b0..b2
        report = kb.index([docs])
        assert (report.removed, report.added, report.unchanged) == (1, 1, 6)


def test_vectors_kept_for_a_file_that_then_disappears_are_cleared(
    tmp_path: Path, docs: Path, open_kb
) -> None:
    index = tmp_path / "index"
    with open_kb(index, embedder=HashEmbedder()) as kb:
        first = kb.index([docs], on_passages=stop_when(lambda name, *_: name == "big.txt"))
        assert first.pending > 0
        (docs / "big.txt").unlink()
        report = kb.index([docs])
        assert kb.count() == kb._vectors.count() == 3 and kb.health().pending == 0
        assert (report.added, report.unchanged) == (0, 3)


def test_vectors_kept_for_a_file_gone_by_a_later_run_of_its_folder_are_cleared(
    tmp_path: Path, docs: Path, open_kb
) -> None:
    """A stopped run of two folders, a complete run of the other one (which keeps the
    first's pending vectors), then the first folder without its file: nothing is left."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "note.md").write_text("# Other\n\nA note elsewhere.\n")
    index = tmp_path / "index"
    with open_kb(index, embedder=HashEmbedder()) as kb:
        stop = stop_when(lambda name, *_: name == "big.txt")
        assert kb.index([docs, other], on_passages=stop).pending > 0
        kb.index([other])
        assert kb.health().pending > 0  # big.txt's, outside that run's roots
        (docs / "big.txt").unlink()
        kb.index([docs])
        assert kb.health().pending == 0
        assert kb.count() == kb._vectors.count() == 4
