"""KnowledgeBase: what it creates on disk, reopening, laziness, and the real handbook (on
both engines where the record store matters)."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

import knowledge.base
from knowledge.base import KnowledgeBase
from knowledge.errors import EmbedderMismatch, IndexStoreError
from tests.conftest import HANDBOOK, HashEmbedder


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "parking.md").write_text("# Parking\n\nVisitors park on level minus two.\n")
    (folder / "lunch.md").write_text("# Lunch\n\nThe canteen serves lunch from noon.\n")
    return folder


def test_open_lays_out_the_index_folder(tmp_path: Path) -> None:
    index = tmp_path / "deep" / "index"
    with KnowledgeBase.open(index, embedder=HashEmbedder()) as kb:
        assert kb.count() == 0
        assert kb.search("anything", 5) == []
        assert kb.dense_unavailable == "nothing has been indexed yet"  # not "missing"
    assert (index / "lexical.db").is_file()
    assert not (index / "chroma").exists()  # the first run that embeds creates it


def test_reopened_index_answers_and_knows_its_files(tmp_path: Path, docs: Path, open_kb) -> None:
    with open_kb(tmp_path / "index", embedder=HashEmbedder()) as kb:
        kb.index([docs])
    with open_kb(tmp_path / "index", embedder=HashEmbedder()) as kb:
        assert Path(kb.search("where do visitors park", 1)[0].passage.source).name == "parking.md"
        assert kb.index([docs]).unchanged == 2


def test_unchanged_reindex_loads_neither_model_nor_chroma(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch, open_kb, real_embedder
) -> None:
    with open_kb(tmp_path / "index", embedder=real_embedder) as kb:
        kb.index([docs])

    def no_model():
        raise AssertionError("the embedding model was loaded")

    def no_chroma(path):
        raise AssertionError("Chroma was opened")

    monkeypatch.setattr(knowledge.base, "default_embedder", no_model)
    monkeypatch.setattr(knowledge.base.VectorStore, "persistent", no_chroma)
    with open_kb(tmp_path / "index") as kb:
        report = kb.index([docs])
        assert (report.unchanged, report.passages) == (2, 2)
        assert kb.search("canteen", 1, mode="lexical")  # lexical search needs no model either


def test_an_unchanged_reindex_refuses_another_embedders_index_without_loading_the_model(
    tmp_path: Path, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with KnowledgeBase.open(tmp_path / "index", embedder=HashEmbedder()) as kb:
        kb.index([docs])

    def no_model():
        raise AssertionError("the embedding model was loaded")

    monkeypatch.setattr(knowledge.base, "default_embedder", no_model)
    refused = pytest.raises(EmbedderMismatch, match="built with the embedder hash-embedder")
    with KnowledgeBase.open(tmp_path / "index") as kb, refused:
        kb.index([docs])  # the configured model's name and size are known unloaded


def test_a_closed_knowledge_base_fails_clearly(tmp_path: Path, docs: Path, open_kb) -> None:
    with open_kb(tmp_path / "index", embedder=HashEmbedder()) as kb:
        kb.index([docs])
    with pytest.raises(IndexStoreError):
        kb.search("canteen", 1, mode="lexical")


def test_a_read_only_open_on_postgresql_writes_nothing_and_names_missing_tables(
    tmp_path: Path, docs: Path, pg_url: str
) -> None:
    with pytest.raises(IndexStoreError, match="not there: run parley index"):
        KnowledgeBase.open(tmp_path / "index", database_url=pg_url, read_only=True)
    with KnowledgeBase.open(tmp_path / "index", embedder=HashEmbedder(), database_url=pg_url) as kb:
        kb.index([docs])
    with KnowledgeBase.open(
        tmp_path / "index", embedder=HashEmbedder(), database_url=pg_url, read_only=True
    ) as kb:
        assert kb.search("canteen", 1, mode="lexical")[0].passage.title == "Lunch"
        assert kb.status().last_run.added == 2
        (docs / "desk.md").write_text("# Desks\n\nHot desks are on floor three.\n")
        with pytest.raises(IndexStoreError, match="read-only transaction"):
            kb.index([docs])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def handbook_kb(request, tmp_path_factory: pytest.TempPathFactory, real_embedder):
    if not HANDBOOK.is_dir():
        pytest.skip("examples/handbook is not present")
    copy = tmp_path_factory.mktemp("handbook") / "handbook"
    shutil.copytree(HANDBOOK, copy)
    with ExitStack() as stack:
        url = None
        if request.param == "postgresql":
            url = stack.enter_context(request.getfixturevalue("postgres").schema())
        kb = stack.enter_context(
            KnowledgeBase.open(copy.parent / "index", embedder=real_embedder, database_url=url)
        )
        report = kb.index([copy])
        assert report.added == len(list(HANDBOOK.iterdir())) and not report.skipped
        yield kb


@pytest.mark.parametrize(
    ("question", "expected_file"),
    [
        ("How do I roll back a deploy?", "deploys-and-rollbacks.md"),
        ("Can I deploy on a Friday afternoon?", "deploys-and-rollbacks.md"),
        ("What is the home office budget for a chair or monitor?", "expenses-policy.pdf"),
        ("Who should write the postmortem after a SEV1?", "incident-process.html"),
        ("How much is the on-call stipend?", "on-call.md"),
        ("Which squad owns checkout-api?", "service-catalogue.xlsx"),
        ("Where are secrets stored?", "security-basics.docx"),
        ("What is an error budget?", "glossary.txt"),
    ],
)
def test_handbook_questions_find_the_right_file(
    handbook_kb: KnowledgeBase, question: str, expected_file: str
) -> None:
    hits = handbook_kb.search(question, 3)
    assert Path(hits[0].passage.source).name == expected_file


def test_a_deferred_object_is_built_once_when_threads_race() -> None:
    builds = []

    def build() -> HashEmbedder:
        builds.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while it is built
        return HashEmbedder()

    lazy = knowledge.base.deferred(build)
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(lambda _: lazy.dim, range(8))) == {HashEmbedder.dim}
    assert len(builds) == 1
