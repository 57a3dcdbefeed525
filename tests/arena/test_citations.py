"""Citations: passages from one source and place are one numbered source, 1..n."""

from __future__ import annotations

from arena.citations import resolve_citations
from knowledge.types import Hit, Passage

PAGE = "/docs/indexes-partial.html"
SECTION = ("11.8. Partial Indexes",)


def hit(
    pid: str, source: str = PAGE, heading: tuple[str, ...] = SECTION, location: str = ""
) -> Hit:
    return Hit(Passage(pid, f"text of {pid}", source, "Partial Indexes", heading, location), 1.0)


def test_passages_of_one_section_are_one_source_with_one_number() -> None:
    hits = [hit("p1"), hit("p2"), hit("other", "/docs/indexes-unique.html", ("11.6.",))]
    text, citations, fallback = resolve_citations("A [1] B [2] C [3].", hits)
    assert text == "A [1] B [1] C [2]."
    assert [(c.number, c.passage.id) for c in citations] == [(1, "p1"), (2, "other")]
    assert fallback is False


def test_numbers_follow_the_first_citation_without_gaps() -> None:
    hits = [hit(f"p{n}", f"/docs/page{n}.html") for n in range(1, 6)]
    text, citations, _ = resolve_citations("First [4]. Then [2, 4]. Last [5][2].", hits)
    assert text == "First [1]. Then [2][1]. Last [3][2]."
    assert [(c.number, c.passage.id) for c in citations] == [(1, "p4"), (2, "p2"), (3, "p5")]


def test_merged_markers_side_by_side_collapse_to_one() -> None:
    hits = [hit("p1"), hit("p2"), hit("p3", "/docs/other.html")]
    text, citations, _ = resolve_citations("A [2][1]. B [1, 2]. C [2] [3].", hits)
    assert text == "A [1]. B [1]. C [1][2]."
    assert [(c.number, c.passage.id) for c in citations] == [(1, "p1"), (2, "p3")]


def test_rows_of_one_file_stay_separate_sources() -> None:
    hits = [hit(f"r{n}", "/hb/on-call-rota.csv", (), f"row {n}") for n in (4, 5)]
    _, citations, _ = resolve_citations("Priya [1]. Luis [2].", hits)
    assert [c.passage.location for c in citations] == ["row 4", "row 5"]


def test_uncited_fallback_lists_each_place_once() -> None:
    hits = [hit("p1"), hit("p2"), hit("u", "/docs/unique.html"), hit("v", "/docs/v.html")]
    _, citations, fallback = resolve_citations("No markers here.", hits)
    assert fallback is True
    assert [(c.number, c.passage.id) for c in citations] == [(1, "p1"), (2, "u"), (3, "v")]
