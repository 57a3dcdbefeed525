"""Chunking: within the model's window, never across sections, with stable ids."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from knowledge import chunking
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


def test_overlap_is_whole_sentences_within_the_budget() -> None:
    passages = chunk_document(doc(Section(LONG)), max_tokens=120, overlap_tokens=32)
    for first, second in itertools.pairwise(passages):
        shared = [s for s in split_sentences(second.text) if s in split_sentences(first.text)]
        assert shared and second.text.startswith(" ".join(shared))
        assert count_tokens(" ".join(shared)) <= 32


def test_no_overlap_when_asked_for_none() -> None:
    passages = chunk_document(doc(Section(LONG)), max_tokens=120, overlap_tokens=0)
    sentences = [s for p in passages for s in split_sentences(p.text)]
    assert sentences == split_sentences(LONG)


def test_windows_prefer_to_end_at_a_paragraph() -> None:
    paragraph = " ".join(f"Step {i} of the rollback is described here." for i in range(12))
    text = "\n\n".join([paragraph, paragraph.replace("rollback", "deploy")] * 2)
    passages = chunk_document(doc(Section(text)), max_tokens=200, overlap_tokens=0)
    assert len(passages) > 1
    assert [p.text for p in passages[:2]] == [paragraph, paragraph.replace("rollback", "deploy")]


def test_rows_stay_as_they_are() -> None:
    rows = [Section(f"Service: s{n}; Owner: Team {n}", (), f"sheet S, row {n}") for n in (2, 3)]
    passages = chunk_document(doc(*rows))
    assert [(p.text, p.location) for p in passages] == [
        ("Service: s2; Owner: Team 2", "sheet S, row 2"),
        ("Service: s3; Owner: Team 3", "sheet S, row 3"),
    ]


def test_different_text_or_place_gives_different_ids() -> None:
    base = chunk_document(doc(Section("Meals: 60 EUR a day.", ("Expenses",))))[0].id
    assert chunk_document(doc(Section("Meals: 60 EUR a day.", ("Expenses",))))[0].id == base
    others = [
        doc(Section("Meals: 65 EUR a day.", ("Expenses",))),
        doc(Section("Meals: 60 EUR a day.", ("Travel",))),
        doc(Section("Meals: 60 EUR a day.", ("Expenses",), "page 2")),
    ]
    assert {chunk_document(d)[0].id for d in others}.isdisjoint({base})
    assert len({chunk_document(d)[0].id for d in others}) == 3


def test_identical_sections_are_one_passage() -> None:
    twice = doc(Section("Same words.", ("A",)), Section("Same words.", ("A",)))
    assert len(chunk_document(twice)) == 1


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        chunk_document(doc(Section("x")), max_tokens=10, overlap_tokens=10)


def test_all_lists_the_public_names() -> None:
    assert set(chunking.__all__) <= set(dir(chunking))


def test_heading_lines_never_start_the_sentence_below_them() -> None:
    # a PDF page as text extraction gives it: headings on lines of their own
    page = (
        "Expenses policy\n"
        "This policy covers travel, meals and equipment bought for work by members of the team.\n"
        "Submit every expense in Expensify within 30 days, with a photo of the receipt.\n"
        "Meals\n"
        "When travelling for work, meals are reimbursed up to 60 EUR per day. Alcohol is not\n"
        "reimbursed. Team dinners need approval from your manager and are capped at 45 EUR per\n"
        "Person Of The Team.\n"
    )
    sentences = split_sentences(page)
    assert sentences[0] == "Expenses policy"
    assert sentences[1].startswith("This policy covers")
    assert "Meals" in sentences and sentences[sentences.index("Meals") + 1].startswith("When")
    # a wrapped line that happens to be followed by a capital is not a heading
    assert sentences[-1].endswith("capped at 45 EUR per Person Of The Team.")
    assert "Alcohol is not reimbursed." in sentences


def test_heading_lines_become_paragraph_breaks_in_passages() -> None:
    text = "Approval\nExpenses under 100 EUR are approved automatically by the expenses tool."
    (passage,) = chunk_document(doc(Section(text)))
    assert (
        passage.text
        == "Approval\n\nExpenses under 100 EUR are approved automatically by the expenses tool."
    )


def test_a_full_stop_after_an_initial_or_a_title_does_not_end_the_sentence() -> None:
    text = (
        "He was succeeded by Command Sergeant Major Daniel A. Dailey. "
        "J. R. R. Tolkien taught in the U.S. and at Oxford. "
        "Dr. Ada Byron moved to St. Louis on Dec. 5 and lived at No. 10 Main Street. "
        "The war ended after World War I. Apple Inc. The company grew."
    )
    assert split_sentences(text) == [
        "He was succeeded by Command Sergeant Major Daniel A. Dailey.",
        "J. R. R. Tolkien taught in the U.S. and at Oxford.",
        "Dr. Ada Byron moved to St. Louis on Dec. 5 and lived at No. 10 Main Street.",
        "The war ended after World War I.",  # a numeral, not an initial
        "Apple Inc.",  # often the end of a sentence, so still one
        "The company grew.",
    ]


def test_a_day_before_its_month_does_not_end_the_sentence() -> None:
    text = (
        "Der Vertrag verlängert sich am 1. März 2027 um ein Jahr. "
        "Die Kündigung muss bis zum 15. Dezember eingehen. Version 2. April kam später."
    )
    assert split_sentences(text) == [
        "Der Vertrag verlängert sich am 1. März 2027 um ein Jahr.",
        "Die Kündigung muss bis zum 15. Dezember eingehen.",
        "Version 2. April kam später.",
    ]
    assert split_sentences("We shipped 3. Then we rested.") == ["We shipped 3.", "Then we rested."]


def test_a_sentence_ends_before_a_closing_quote_or_bracket_too() -> None:
    text = 'Our stock trades as “LWAY.” Trading began in 1988. He said "Go." (See below.) We left.'
    assert split_sentences(text) == [
        "Our stock trades as “LWAY.”",
        "Trading began in 1988.",
        'He said "Go."',
        "(See below.)",
        "We left.",
    ]


def test_windows_never_cut_a_name_at_its_initial() -> None:
    line = "Officer {} was relieved by Major Daniel A. Dailey of Ohio."
    names = " ".join(line.format(i) for i in range(40))
    # 40 word pieces end a window after "A." when sentences end there
    passages = chunk_document(doc(Section(names)), max_tokens=40, overlap_tokens=0)
    assert len(passages) > 3
    assert all(p.text.endswith("Dailey of Ohio.") for p in passages)
    assert not any(p.text.startswith("Dailey") for p in passages)


def test_heading_paragraphs_can_be_left_out_of_the_sentences() -> None:
    """A title line states nothing; a table row or the passage's last line is kept."""
    text = "North African Campaign\n\nInformation gleaned via Ultra helped. It was secret."
    assert split_sentences(text) == [
        "North African Campaign",
        "Information gleaned via Ultra helped.",
        "It was secret.",
    ]
    assert split_sentences(text, headings=False) == [
        "Information gleaned via Ultra helped.",
        "It was secret.",
    ]
    rows = "Service: auth; Owner: Identity\n\nService: billing; Owner: Payments"
    assert split_sentences(rows, headings=False) == split_sentences(rows)
    dated = "1973 oil crisis\n\nThe price of oil rose fourfold."
    assert split_sentences(dated, headings=False) == ["The price of oil rose fourfold."]
    steps = "1. Run the tests\n\n2. Deploy to staging"
    assert split_sentences(steps, headings=False) == split_sentences(steps)
    assert split_sentences("Deploy freeze", headings=False) == ["Deploy freeze"]
