"""Incremental indexing on both engines: add, change, delete, unchanged, bad files,
interruptions."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.errors import EmbedderMismatch, IndexStoreError
from knowledge.indexer import Indexer
from knowledge.store import VectorStore
from tests.conftest import HashEmbedder


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "parking.md").write_text("# Parking\n\nVisitors park on level minus two.\n")
    (folder / "lunch.md").write_text("# Lunch\n\nThe canteen serves lunch from noon.\n")
    (folder / "wifi.txt").write_text("Guest wifi password is printed at reception.\n")
    return folder


@pytest.fixture
def kb(tmp_path: Path, hash_embedder: HashEmbedder, open_kb):
    with open_kb(tmp_path / "index", embedder=hash_embedder) as base:
        yield base


def sources(kb: KnowledgeBase, query: str) -> list[str]:
    return [Path(h.passage.source).name for h in kb.search(query, 5)]


def test_first_run_adds_everything(kb: KnowledgeBase, docs: Path) -> None:
    report = kb.index([docs])
    assert (report.added, report.changed, report.removed, report.unchanged) == (3, 0, 0, 0)
    assert report.passages == kb.count() == 3
    assert sources(kb, "where do visitors park")[0] == "parking.md"


def test_unchanged_files_are_not_parsed_or_embedded(
    kb: KnowledgeBase, docs: Path, hash_embedder: HashEmbedder, monkeypatch
) -> None:
    kb.index([docs])
    embedded = hash_embedder.texts
    import knowledge.indexer

    def no_parsing(path):
        raise AssertionError(f"{path} was parsed again")

    monkeypatch.setattr(knowledge.indexer, "load_document", no_parsing)
    report = kb.index([docs])
    assert report.unchanged == 3 and report.added == report.changed == 0
    assert hash_embedder.texts == embedded


def test_touched_but_identical_file_counts_as_unchanged(kb: KnowledgeBase, docs: Path) -> None:
    kb.index([docs])
    os.utime(docs / "lunch.md", ns=(1, 1))
    assert kb.index([docs]).unchanged == 3


def test_changed_file_is_replaced(kb: KnowledgeBase, docs: Path) -> None:
    kb.index([docs])
    (docs / "lunch.md").write_text("# Lunch\n\nThe canteen now serves breakfast too.\n")
    report = kb.index([docs])
    assert (report.changed, report.unchanged) == (1, 2)
    texts = [h.passage.text for h in kb.search("canteen", 5)]
    assert any("breakfast" in t for t in texts)
    assert not any("from noon" in t for t in texts)
    assert kb.count() == 3


def test_deleted_file_is_removed(kb: KnowledgeBase, docs: Path) -> None:
    kb.index([docs])
    (docs / "wifi.txt").unlink()
    report = kb.index([docs])
    assert report.removed == 1 and kb.count() == 2
    assert "wifi.txt" not in sources(kb, "guest wifi password")


def test_bad_files_are_reported_and_skipped(kb: KnowledgeBase, docs: Path) -> None:
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (docs / "empty.md").write_text("")
    (docs / "photo.png").write_bytes(b"\x89PNG....")
    (docs / ".hidden.md").write_text("# Secret\n\nhidden\n")
    report = kb.index([docs])
    skipped = {Path(p).name: reason for p, reason in report.skipped}
    assert set(skipped) == {"broken.pdf", "empty.md", "photo.png"}
    assert "not a valid PDF" in skipped["broken.pdf"]
    assert report.added == 3


def index_within_seconds(kb: KnowledgeBase, paths: list[Path], pipes: list[Path]):
    """``kb.index(paths)``, failing the test (not hanging it) when the run blocks on a
    named pipe: opening each pipe for writing too lets a blocked reader see its end
    (again for every time the run opens one)."""
    reports = []
    run = threading.Thread(target=lambda: reports.append(kb.index(paths)), daemon=True)
    run.start()
    run.join(timeout=30)
    if run.is_alive():
        while run.is_alive():
            for pipe in pipes:
                os.close(os.open(pipe, os.O_RDWR | os.O_NONBLOCK))
            run.join(timeout=0.1)
        pytest.fail("indexing blocked reading a named pipe")
    return reports[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_skipped_and_reported_not_read(kb: KnowledgeBase, docs: Path) -> None:
    os.mkfifo(docs / "pipe.txt")
    elsewhere = docs.with_name("elsewhere.md")
    elsewhere.write_text("# Bikes\n\nBikes go in the shed by the gate.\n")
    (docs / "linked.md").symlink_to(elsewhere)  # a symlinked file is indexed as before
    report = index_within_seconds(kb, [docs], [docs / "pipe.txt"])
    pipe = (docs / "pipe.txt").as_posix()
    assert report.skipped == [(pipe, "not a regular file (a named pipe)")]
    assert report.added == 4 and kb.count() == 4
    assert sources(kb, "where do bikes go")[0] == "elsewhere.md"


def test_a_broken_link_is_reported_under_its_own_path(kb: KnowledgeBase, docs: Path) -> None:
    (docs / "dangling.md").symlink_to("/nonexistent/target.md")
    (docs / "loop.md").symlink_to(docs / "loop.md")  # a link to itself reaches nothing either
    report = kb.index([docs])
    assert report.skipped == [
        ((docs / "dangling.md").as_posix(), "a broken link (to /nonexistent/target.md)"),
        ((docs / "loop.md").as_posix(), f"a broken link (to {docs / 'loop.md'})"),
    ]
    assert report.added == 3


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_given_as_a_root_is_reported_not_read(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "pipe.md")
    report = index_within_seconds(kb, [tmp_path / "pipe.md"], [tmp_path / "pipe.md"])
    assert report.skipped == [
        ((tmp_path / "pipe.md").as_posix(), "not a regular file (a named pipe)")
    ]
    assert report.added == 0


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_file_replaced_by_a_named_pipe_loses_its_old_passages(
    kb: KnowledgeBase, docs: Path
) -> None:
    kb.index([docs])
    (docs / "lunch.md").unlink()
    os.mkfifo(docs / "lunch.md")
    report = index_within_seconds(kb, [docs], [docs / "lunch.md"])
    (path, reason), *_ = report.skipped
    assert Path(path).name == "lunch.md" and "named pipe" in reason
    assert "earlier passages were removed" in reason and kb.count() == 2


def test_roots_indexed_separately_keep_each_other(kb: KnowledgeBase, docs: Path, tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "holidays.md").write_text("# Holidays\n\nThe office closes on 24 December.\n")
    kb.index([docs])
    report = kb.index([other])
    assert report.removed == 0 and kb.count() == 4


class FailingEmbedder(HashEmbedder):
    """Dies on its n-th call, like a Ctrl-C in the middle of a run."""

    def __init__(self, fail_on_call: int) -> None:
        super().__init__()
        self.fail_on_call = fail_on_call

    def embed(self, texts):
        if self.calls + 1 == self.fail_on_call:
            self.calls += 1
            raise KeyboardInterrupt
        return super().embed(texts)


def test_interrupted_run_leaves_a_usable_index_and_the_next_run_finishes(
    open_kb, tmp_path: Path, docs: Path
) -> None:
    index = tmp_path / "index"
    with open_kb(index, embedder=HashEmbedder()) as kb:
        kb.index([docs])
    for n in range(5):
        (docs / f"extra{n}.md").write_text(f"# Extra {n}\n\nExtra fact number {n} about rockets.\n")
    (docs / "lunch.md").write_text("# Lunch\n\nThe canteen now serves soup.\n")
    failing = FailingEmbedder(fail_on_call=2)
    with open_kb(index, embedder=failing) as kb:
        with pytest.raises(KeyboardInterrupt):
            kb.index([docs], batch_size=1)
        assert failing.texts >= 1  # some files were written before the interruption
        assert sources(kb, "where do visitors park")[0] == "parking.md"  # still answers
    with open_kb(index, embedder=HashEmbedder()) as kb:
        report = kb.index([docs])
        assert report.added + report.changed >= 1
        assert kb.count() == 8  # 3 originals + 5 extras, no duplicates
        ids = [h.passage.id for h in kb.search("extra fact rockets", 20)]
        assert len(ids) == len(set(ids))
        assert kb.index([docs]).unchanged == 8


def test_handbook_moved_files_are_found_again(open_kb, tmp_path: Path, hash_embedder: HashEmbedder):
    from tests.conftest import HANDBOOK

    copy = tmp_path / "handbook"
    shutil.copytree(HANDBOOK, copy)
    with open_kb(tmp_path / "index", embedder=hash_embedder) as kb:
        first = kb.index([copy])
        assert first.added == len(list(HANDBOOK.iterdir())) and not first.skipped
        (copy / "on-call.md").rename(copy / "on-call-guide.md")
        report = kb.index([copy])
        assert (report.added, report.removed) == (1, 1)
        assert kb.count() == first.passages


def test_file_that_turns_unreadable_loses_its_old_passages(kb: KnowledgeBase, docs: Path):
    kb.index([docs])
    (docs / "lunch.md").write_bytes(b"")
    report = kb.index([docs])
    (path, reason), *_ = report.skipped
    assert Path(path).name == "lunch.md" and "earlier passages were removed" in reason
    assert kb.count() == 2
    assert "lunch.md" not in sources(kb, "canteen lunch noon")
    (docs / "lunch.md").write_text("# Lunch\n\nThe canteen serves lunch from noon.\n")
    assert kb.index([docs]).added == 1  # back as a new file


def test_a_run_interrupted_after_n_files_keeps_them_and_the_next_run_does_the_rest(
    open_kb, tmp_path: Path, docs: Path
) -> None:
    for n in range(6):
        (docs / f"extra{n}.md").write_text(f"# Extra {n}\n\nExtra fact number {n}.\n")
    finished: list[str] = []

    def stop_at_fifth(path: str, done: int, total: int) -> None:
        finished.append(path)
        if done == 5:
            raise KeyboardInterrupt

    index = tmp_path / "index"
    with open_kb(index, embedder=HashEmbedder()) as kb, pytest.raises(KeyboardInterrupt):
        kb.index([docs], stop_at_fifth)  # all nine fit one batch: written file by file
    again = HashEmbedder()
    with open_kb(index, embedder=again) as kb:
        assert kb.count() == 5  # what the callback was told was done is in the index
        assert {h.passage.source for h in kb.search("extra fact lunch parking wifi", 9)} == set(
            finished
        )
        before = again.texts
        report = kb.index([docs])
        assert (report.unchanged, report.added) == (5, 4)
        # the finished files were not embedded again, nor the four embedded but not written
        assert again.texts - before == 0
        assert kb.count() == kb._vectors.count() == 9


class RecordingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def embed(self, texts):
        self.sizes.append(len(texts))
        return super().embed(texts)


def long_text(words: int) -> str:
    return " ".join(f"Sentence {n} says word{n % 97} and more." for n in range(words // 6))


def test_a_long_file_is_embedded_in_batches_and_reports_its_progress(
    open_kb, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "big.txt").write_text(long_text(6000))  # one line, about 50 passages
    embedder = RecordingEmbedder()
    seen: list[tuple[str, int, int]] = []
    with open_kb(tmp_path / "index", embedder=embedder) as kb:
        report = kb.index([docs], batch_size=8, on_passages=lambda *a: seen.append(a))
    total = report.passages
    assert total > 30 and max(embedder.sizes) == 8
    assert len(embedder.sizes) == -(-total // 8) and sum(embedder.sizes) == total
    assert [done for _, done, _ in seen] == [*range(8, total, 8), total]
    assert {(Path(p).name, t) for p, _, t in seen} == {("big.txt", total)}


def test_interrupted_inside_a_long_file_keeps_the_files_before_it(open_kb, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(3):
        (docs / f"a{n}.md").write_text(f"# Note {n}\n\nA short note, number {n}.\n")
    (docs / "big.txt").write_text(long_text(6000))

    def stop_in_the_third_batch(path: str, done: int, total: int) -> None:
        if Path(path).name == "big.txt" and done > 16:
            raise KeyboardInterrupt

    index = tmp_path / "index"
    with open_kb(index, embedder=HashEmbedder()) as kb:
        with pytest.raises(KeyboardInterrupt):
            kb.index([docs], batch_size=8, on_passages=stop_in_the_third_batch)
        assert kb.count() == 3  # the short files, written with the first batch; none of big
        assert {Path(h.passage.source).name for h in kb.search("short note", 5)} == {
            "a0.md",
            "a1.md",
            "a2.md",
        }
        report = kb.index([docs])
        assert (report.unchanged, report.added) == (3, 1)


class OtherEmbedder(HashEmbedder):
    name = "other-embedder"


def test_an_index_refuses_an_embedder_other_than_its_own(
    open_kb, engine: str, tmp_path: Path, docs: Path
) -> None:
    index = tmp_path / "index"
    with open_kb(index, embedder=HashEmbedder()) as kb:
        kb.index([docs])
    refused = pytest.raises(EmbedderMismatch, match="built with the embedder hash-embedder")
    with open_kb(index, embedder=OtherEmbedder()) as kb, refused:
        kb.index([docs])  # nothing to embed: refused all the same
    (docs / "lunch.md").write_text("# Lunch\n\nThe canteen now serves soup.\n")
    with open_kb(index, embedder=OtherEmbedder()) as kb:
        with pytest.raises(EmbedderMismatch, match="built with the embedder hash-embedder"):
            kb.index([docs])
        rebuild = f"delete {index}" if engine == "sqlite" else "drop the kb_ tables"
        with pytest.raises(EmbedderMismatch, match=rebuild):
            kb.search("canteen")
        assert kb.search("canteen", mode="lexical")  # no vectors involved
        assert "noon" in kb.search("canteen", mode="lexical")[0].passage.text  # unchanged


class DyingAfterVectors:
    """A lexical index killed between the vector write and the lexical write of its
    n-th file."""

    def __init__(self, lexical, die_on_write: int) -> None:
        self._lexical = lexical
        self.writes = 0
        self.die_on_write = die_on_write

    def replace_file(self, record, passages):
        self.writes += 1
        if self.writes == self.die_on_write:
            raise KeyboardInterrupt
        return self._lexical.replace_file(record, passages)

    def __getattr__(self, name: str):
        return getattr(self._lexical, name)


def test_kill_between_the_two_stores_leaves_no_stray_vectors(
    tmp_path: Path, docs: Path, open_lexical
):
    index = tmp_path / "index"
    index.mkdir()
    vectors = VectorStore.persistent(index / "chroma")
    lexical = DyingAfterVectors(open_lexical(index / "lexical.db"), die_on_write=2)
    with KnowledgeBase(lexical, vectors, HashEmbedder()) as kb, pytest.raises(KeyboardInterrupt):
        kb.index([docs], batch_size=1)  # lunch.md written, parking.md only in Chroma
    assert (vectors.count(), open_lexical(index / "lexical.db").count()) == (2, 1)
    (docs / "parking.md").unlink()  # so no redo will overwrite its stray vector
    with KnowledgeBase(open_lexical(index / "lexical.db"), vectors, HashEmbedder()) as kb:
        report = kb.index([docs])
        assert kb.count() == vectors.count() == 2
        assert (report.added, report.unchanged, report.removed) == (1, 1, 0)


def test_missing_root_is_reported_and_removes_nothing(kb: KnowledgeBase, docs: Path) -> None:
    kb.index([docs])
    shutil.move(docs, docs.with_name("moved"))
    report = kb.index([docs])
    assert report.skipped == [(docs.as_posix(), "no such file or folder")]
    assert report.removed == 0 and kb.count() == 3


def test_an_edited_file_embeds_only_its_changed_passages(open_kb, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    sections = [f"# Part {n}\n\nThe text of part {n} about topic{n}." for n in range(6)]
    (docs / "guide.md").write_text("\n\n".join(sections))
    embedder = HashEmbedder()
    with open_kb(tmp_path / "index", embedder=embedder) as kb:
        kb.index([docs])
        sections[2] = "# Part 2\n\nRewritten: part two now covers lunches."
        (docs / "guide.md").write_text("\n\n".join([*sections, "# Part 6\n\nA new part."]))
        before = embedder.texts
        report = kb.index([docs])
        assert report.changed == 1 and embedder.texts - before == 2  # part 2 and part 6
        assert kb.count() == kb._vectors.count() == 7
        assert "lunches" in kb.search("what does part two cover", 1)[0].passage.text
        assert kb.search("topic4", 1)[0].passage.text.endswith("topic4.")  # kept its vector


def test_a_forced_run_embeds_every_file_again(
    kb: KnowledgeBase, docs: Path, hash_embedder: HashEmbedder
) -> None:
    kb.index([docs])
    before = hash_embedder.texts
    report = kb.index([docs], force=True)
    assert (report.added, report.changed, report.reembedded, report.unchanged) == (0, 0, 3, 0)
    assert hash_embedder.texts - before == 3
    assert kb.count() == kb._vectors.count() == 3
    assert kb.index([docs]).unchanged == 3  # and the next plain run skips them again


def test_a_forced_run_restores_the_vectors_a_damaged_store_lost(
    kb: KnowledgeBase, docs: Path
) -> None:
    kb.index([docs])
    kb._vectors.delete(list(kb._vectors.ids()))  # the vector store lost everything
    assert kb.index([docs]).unchanged == 3 and kb._vectors.count() == 0  # a plain run can't tell
    kb.index([docs], force=True)
    assert kb._vectors.count() == 3
    hits = kb.search("where do visitors park", 1, mode="dense")
    assert Path(hits[0].passage.source).name == "parking.md"


def test_a_deleted_vector_store_is_noticed_and_embedded_again_without_force(
    open_kb, tmp_path: Path, docs: Path
) -> None:
    with open_kb(tmp_path / "built", embedder=HashEmbedder()) as kb:
        kb.index([docs])
    # a copy without its vectors: Chroma keeps a store it opened in this process alive
    index = tmp_path / "index"
    shutil.copytree(tmp_path / "built", index, ignore=shutil.ignore_patterns("chroma"))
    embedder = HashEmbedder()
    with open_kb(index, embedder=embedder) as kb:
        assert "are missing" in kb.dense_unavailable
        assert kb.health().vectors == 0
        with pytest.raises(IndexStoreError, match="parley index"):
            kb.search("where do visitors park", 1, mode="dense")
        assert sources(kb, "where do visitors park")[0] == "parking.md"  # by words alone
        assert not (index / "chroma").exists()  # a search does not make an empty store
        report = kb.index([docs])
        assert (report.reembedded, report.unchanged, report.restored) == (3, 0, 3)
        assert embedder.texts == 3 and kb._vectors.count() == kb.count() == 3
        assert not kb.dense_unavailable
        hits = kb.search("where do visitors park", 1, mode="dense")
        assert Path(hits[0].passage.source).name == "parking.md"
        assert kb.index([docs]).unchanged == 3


def test_a_store_that_lost_some_vectors_gets_only_those_embedded_again(
    kb: KnowledgeBase, docs: Path, hash_embedder: HashEmbedder
) -> None:
    kb.index([docs])
    (lost,) = kb.search("where do visitors park", 1, mode="dense")
    kb._vectors.delete([lost.passage.id])
    before = hash_embedder.texts
    checking = Indexer(kb._lexical, kb._vectors, hash_embedder, check_vectors=True)
    report = checking.run([docs])
    assert (report.reembedded, report.unchanged, report.restored) == (1, 2, 1)
    assert hash_embedder.texts - before == 1
    assert kb._vectors.count() == 3
