"""The throw-away index an attached document is searched in: ranked as the knowledge
base ranks (BM25 and the embedder's cosine, fused, duplicates collapsed), in memory."""

from __future__ import annotations

from knowledge.memory_index import MemoryIndex
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


def test_duplicates_collapse_and_every_passage_is_embedded_once() -> None:
    embedder = HashEmbedder()
    index = MemoryIndex(PASSAGES, embedder)
    assert embedder.texts == 4
    hits = index.search("annual fee invoiced", 4)
    assert [h.passage.id for h in hits].count("p1") + [h.passage.id for h in hits].count("p3") == 1
    assert hits[0].passage.text.startswith("The annual fee")
    assert embedder.texts == 5  # the query alone
    assert index.search("", 3) == [] and MemoryIndex([], embedder).search("fee", 3) == []
