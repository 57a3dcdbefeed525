"""The throw-away index an attached document is searched in: ranked as the knowledge
base ranks (BM25 and the embedder's cosine, fused, duplicates collapsed), in memory."""

from __future__ import annotations

from knowledge.memory_index import DENSE_POOL, MemoryIndex
from knowledge.types import Passage
from tests.conftest import HashEmbedder

TEXTS = [
    "The agreement renews automatically on 1 March 2027.",
    "The annual fee is 12,000 euros, invoiced each January.",
    "Either party may end the agreement with ninety days' notice.",
    "The annual fee is 12,000 euros, invoiced each January.",  # the same clause again
]
PASSAGES = [Passage(f"p{n}", t, "attached:c.md", "c.md") for n, t in enumerate(TEXTS)]


def test_each_mode_ranks_the_passage_that_answers_first() -> None:
    index = MemoryIndex(PASSAGES, HashEmbedder())
    for mode in ("hybrid", "dense", "lexical"):
        hits = index.search("When does the agreement renew?", 2, mode)
        assert hits[0].passage.id == "p0", mode
    index.close()


def test_duplicates_collapse_and_nothing_is_embedded_before_a_search_needs_it() -> None:
    embedder = HashEmbedder()
    index = MemoryIndex(PASSAGES, embedder)
    assert embedder.texts == 0
    index.search("annual fee invoiced", 4, "lexical")
    assert embedder.texts == 0  # words alone need no vector
    hits = index.search("annual fee invoiced", 4)
    assert [h.passage.id for h in hits].count("p1") + [h.passage.id for h in hits].count("p3") == 1
    assert hits[0].passage.text.startswith("The annual fee")
    assert embedder.texts == 5  # the passages and the query
    assert index.search("", 3) == [] and MemoryIndex([], embedder).search("fee", 3) == []


def test_a_long_document_embeds_only_the_passages_its_words_pick() -> None:
    filler = [
        Passage(
            f"f{n}", f"Section {n} lists delivery item {n} for site {n}.", "attached:c.md", "c.md"
        )
        for n in range(3 * DENSE_POOL)
    ]
    embedder = HashEmbedder()
    index = MemoryIndex([*filler, *PASSAGES], embedder)
    hits = index.search("When does the agreement renew?", 3)
    assert hits[0].passage.id == "p0"
    assert embedder.texts == 3  # the two passages with its words, and the query
    before = embedder.texts
    # no word in common with any passage: meaning alone, over all of it
    assert index.search("zzz qqq", 2)
    assert embedder.texts - before == len(filler) + len(PASSAGES) + 1  # all, and the query
    before = embedder.texts
    index.search("delivery item site", 2)  # words every filler passage has
    assert embedder.texts - before == DENSE_POOL + 1
