"""What the index holds and how its runs went, as any process reading it sees them: the
indexed files, the last run's report with each skipped file's reason, and a run's
progress while it goes (written at most once a second, never failing the run), on both
engines of the record store."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.errors import IndexStoreError
from knowledge.indexer import IndexReport
from knowledge.status import RunRecorder, read_status
from tests.conftest import HashEmbedder


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "parking.md").write_text("# Parking\n\nVisitors park on level minus two.\n")
    (folder / "lunch.md").write_text("# Lunch\n\nThe canteen serves lunch from noon.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    (folder / "notes.xyz").write_text("an unsupported file")
    return folder


def test_the_status_lists_files_and_the_last_run_with_its_skipped_files(
    tmp_path: Path, docs: Path, open_kb
) -> None:
    with open_kb(tmp_path / "index", embedder=HashEmbedder()) as kb:
        assert kb.status().last_run is None and kb.status().sources == []
        report = kb.index([docs])
        status = kb.status()
    assert [Path(s.path).name for s in status.sources] == ["lunch.md", "parking.md"]
    assert [s.title for s in status.sources] == ["Lunch", "Parking"]
    assert status.passages == report.passages == sum(s.passages for s in status.sources)
    assert all(s.size > 0 and s.modified > 1e9 for s in status.sources)
    run = status.last_run
    assert (run.added, run.changed, run.removed, run.unchanged) == (2, 0, 0, 0)
    assert run.finished_at >= run.started_at and run.passages == report.passages
    reasons = {Path(path).name: reason for path, reason in run.skipped}
    assert set(reasons) == {"broken.pdf", "notes.xyz"}
    assert "unsupported" in reasons["notes.xyz"] and reasons["broken.pdf"]
    assert status.progress is None  # the run is over


def test_another_process_sees_a_run_in_progress(
    tmp_path: Path, docs: Path, open_kb, open_lexical
) -> None:
    seen = []

    def progress(path: str, done: int, total: int) -> None:
        other = open_lexical(tmp_path / "index" / "lexical.db")  # as a second process would
        seen.append(read_status(other).progress)

    with open_kb(tmp_path / "index", embedder=HashEmbedder()) as kb:
        kb.index([docs], progress)
    assert seen and all(p is not None for p in seen)
    assert seen[-1].done == seen[-1].total == 4  # two files, two skipped, all counted
    assert seen[-1].current.endswith(("parking.md", "lunch.md", "broken.pdf", "notes.xyz"))


class Recording:
    """A lexical index stand-in that keeps what is written, or fails as a full disk."""

    def __init__(self, fail: bool = False) -> None:
        self.writes: list[tuple[str, object]] = []
        self.fail = fail

    def write_state(self, name: str, value: object) -> None:
        if self.fail:
            raise IndexStoreError("lexical index write failed: database or disk is full")
        self.writes.append((name, value))


def test_progress_is_written_at_most_once_a_second_and_always_at_the_end() -> None:
    now = [100.0]
    lexical = Recording()
    recorder = RunRecorder(lexical, clock=lambda: now[0])  # type: ignore[arg-type]
    forwarded = []
    record = recorder.progress(lambda path, done, total: forwarded.append(done))
    for done in range(1, 11):
        now[0] += 0.25
        record(f"/d/{done}.md", done, 10)
    progress = [value for name, value in lexical.writes if name == "progress"]
    assert [p["done"] for p in progress] == [0, 4, 8, 10]  # start, each second, the last
    assert forwarded == list(range(1, 11))  # the caller hears every file
    recorder.finished(IndexReport(added=10, passages=30, seconds=2.5))
    assert lexical.writes[-2][0] == "last_run" and lexical.writes[-2][1]["added"] == 10
    assert lexical.writes[-1] == ("progress", None)


def test_a_failed_run_leaves_the_last_good_report_and_no_progress(
    tmp_path: Path, docs: Path, open_kb
) -> None:
    with open_kb(tmp_path / "index", embedder=HashEmbedder()) as kb:
        kb.index([docs])
        before = kb.status().last_run

        def explode(path: str, done: int, total: int) -> None:
            raise RuntimeError("killed mid-run")

        with pytest.raises(RuntimeError):
            kb.index([docs], explode)
        after = kb.status()
    assert after.last_run == before and after.progress is None


def test_a_full_disk_costs_the_record_not_the_run() -> None:
    recorder = RunRecorder(Recording(fail=True))  # type: ignore[arg-type]
    forwarded = []
    recorder.progress(lambda path, done, total: forwarded.append(done))("/d/a.md", 1, 1)
    recorder.finished(IndexReport(added=1))
    assert forwarded == [1]
