"""Chunking: within the model's window, never across sections, with stable ids."""

from __future__ import annotations

import itertools
from pathlib import Path

from knowledge.chunking import chunk_document, split_sentences
from knowledge.loaders import load_document
from knowledge.tokens import count_tokens
from knowledge.types import LoadedDocument, Section

LONG = " ".join(f"Sentence number {i} explains one more detail of the deploy." for i in range(120))


def doc(*sections: Section, source: str = "/docs/a.md") -> LoadedDocument:
    return LoadedDocument(source=source, title="A", sections=list(sections))


def test_long_sections_are_split_within_the_token_limit_with_overlap() -> None:
    passages = chunk_document(doc(Section(LONG, ("Deploys",))), max_tokens=200, overlap_tokens=32)
    assert len(passages) > 3
    assert all(count_tokens(p.text) <= 200 for p in passages)
    for first, second in itertools.pairwise(passages):
        last_sentence = split_sentences(first.text)[-1]
        assert last_sentence in second.text  # whole-sentence overlap
    assert all(p.heading_path == ("Deploys",) for p in passages)


def test_sections_are_never_merged() -> None:
    passages = chunk_document(
        doc(Section("Short one.", ("A",)), Section("Short two.", ("B",), "page 2"))
    )
    assert [(p.text, p.heading_path, p.location) for p in passages] == [
        ("Short one.", ("A",), ""),
        ("Short two.", ("B",), "page 2"),
    ]


def test_ids_are_stable_and_distinct() -> None:
    first = chunk_document(doc(Section(LONG, ("X",))))
    again = chunk_document(doc(Section(LONG, ("X",))))
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == len(first)
    moved = chunk_document(doc(Section(LONG, ("X",)), source="/docs/b.md"))
    assert not {p.id for p in first} & {p.id for p in moved}


def test_a_single_giant_sentence_is_still_cut(tmp_path: Path) -> None:
    words = " ".join(["supercalifragilistic"] * 600)
    passages = chunk_document(doc(Section(words)))
    assert all(count_tokens(p.text) <= 200 for p in passages)


def test_handbook_chunks_fit_the_window() -> None:
    path = Path(__file__).resolve().parents[2] / "examples/handbook/deploys-and-rollbacks.md"
    passages = chunk_document(load_document(path))
    assert passages and all(count_tokens(p.text) <= 200 for p in passages)
