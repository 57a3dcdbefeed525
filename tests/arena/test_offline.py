"""The two offline answerers, with a small bag-of-words embedder standing in for MiniLM."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from arena.answers import answer_question
from arena.compose import NOT_FOUND
from arena.models.offline import PassageAnswerer, SentenceAnswerer
from arena.roster import Contestant
from arena.types import ModelSpec, Question
from knowledge.types import Hit, Passage


class FakeEmbedder:
    """Hashed bag of words: texts sharing words are similar, others nearly orthogonal."""

    name = "fake-bow"
    dim = 256

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


HITS = [
    Hit(
        Passage(
            "a",
            "The office opens at nine. Parking is free for staff on weekdays.",
            "handbook.md",
            "Handbook",
        ),
        0.9,
    ),
    Hit(
        Passage(
            "b",
            "Lunch is served in the canteen from noon. The canteen closes at two.",
            "food.md",
            "Food",
        ),
        0.5,
    ),
]


def contestant(cls: type) -> Contestant:
    spec = ModelSpec(name=cls.__name__, provider="offline")
    return Contestant(spec, cls(spec, embedder=FakeEmbedder))


async def test_sentences_answer_picks_the_relevant_sentence_and_cites_it() -> None:
    answer = await answer_question(
        contestant(SentenceAnswerer), Question("When the office opens?", HITS, [])
    )
    assert answer.error is None
    assert answer.text.startswith("The office opens at nine. [1]")
    assert "Parking" not in answer.text  # at most two sentences, the best one first
    assert len(answer.text.split()) <= 60
    assert answer.citations[0].passage.id == "a" and not answer.cited_fallback


async def test_passages_answer_quotes_one_passage_with_its_citation() -> None:
    answer = await answer_question(
        contestant(PassageAnswerer), Question("When is lunch served in the canteen?", HITS, [])
    )
    assert "Lunch is served" in answer.text and answer.text.endswith("[1]")  # the only source
    assert [(c.number, c.passage.id) for c in answer.citations] == [(1, "b")]


async def test_nothing_relevant_says_so_plainly() -> None:
    for cls in (SentenceAnswerer, PassageAnswerer):
        empty = await answer_question(contestant(cls), Question("Office hours?", [], []))
        unrelated = await answer_question(
            contestant(cls), Question("Quantum chromodynamics gluon?", HITS, [])
        )
        assert NOT_FOUND in empty.text and NOT_FOUND in unrelated.text


async def test_sentences_answer_skips_a_sentence_that_introduces_a_code_block() -> None:
    # from PostgreSQL's "11.8. Partial Indexes": the command itself follows the colon
    text = (
        "A partial index is an index built over a subset of a table.\n\n"
        "To create a partial index that suits our example, use a command such as this:\n\n"
        "CREATE INDEX access_log_client_ip_ix ON access_log (client_ip);"
    )
    hits = [Hit(Passage("pg", text, "indexes-partial.html", "11.8. Partial Indexes"), 0.9)]
    answer = await answer_question(
        contestant(SentenceAnswerer), Question("How do I create a partial index?", hits, [])
    )
    assert answer.text.startswith("A partial index is an index built over a subset")
    assert "such as this" not in answer.text
