"""The offline embedder: shape, normalisation, meaning, order, and the long-text window."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge import embed
from knowledge.embed import MAX_SEQUENCE_TOKENS, embedding_text
from knowledge.errors import EmbeddingError
from knowledge.types import Passage


def test_vectors_are_float32_unit_length(real_embedder):
    vectors = real_embedder.embed(["How do I roll back a deploy?", "Expenses need receipts."])
    assert vectors.shape == (2, real_embedder.dim) == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_similar_sentences_are_closer_than_unrelated(real_embedder):
    question, paraphrase, unrelated = real_embedder.embed(
        [
            "How do I roll back a bad deploy?",
            "Steps to revert a release that broke production",
            "The cafeteria serves soup on Fridays",
        ]
    )
    assert question @ paraphrase > question @ unrelated + 0.3


def test_batches_keep_input_order(real_embedder):
    # lengths in scrambled order force the length-sorted batching to reorder
    texts = [("word " * n).strip() for n in (30, 1, 120, 7, 60, 2, 15)] * 6
    together = real_embedder.embed(texts)
    alone = np.vstack([real_embedder.embed([t]) for t in texts[:7]])
    np.testing.assert_allclose(together[:7], alone, atol=1e-4)
    np.testing.assert_allclose(together[7:14], alone, atol=1e-4)


def test_long_text_is_truncated_to_the_window(real_embedder):
    long = "incident " * (3 * MAX_SEQUENCE_TOKENS)
    longer = long + "completely different tail about expense receipts " * 50
    a, b = real_embedder.embed([long, longer])
    assert a @ b == pytest.approx(1.0, abs=1e-5)


def test_empty_input_gives_empty_matrix(real_embedder):
    assert real_embedder.embed([]).shape == (0, 384)


def test_bad_input_raises_embedding_error(real_embedder):
    with pytest.raises(EmbeddingError):
        real_embedder.embed([None])  # type: ignore[list-item]


def test_default_embedder_is_shared(real_embedder):
    assert embed.default_embedder() is real_embedder


def test_embedding_text_adds_title_and_headings_once():
    passage = Passage("x", "Page the secondary.", "/h.md", "On-call", ("On-call", "Escalation"))
    assert embedding_text(passage) == "On-call › Escalation\nPage the secondary."
    assert embedding_text(Passage("y", "Just text.", "/t.txt", "")) == "Just text."


def test_all_lists_the_public_names():
    assert set(embed.__all__) <= set(dir(embed))


def test_a_passage_as_shown_says_its_title_once_and_stands_its_line_apart() -> None:
    """The place opens with the title's heading: said once, and a blank line below it, so
    a check splitting the shown text never reads it as the first sentence's start."""
    passage = Passage(
        "x", "There are no deploys on Fridays.", "/d.md", "Deploys", ("Deploys", "Freeze"), "page 2"
    )
    assert passage.as_shown() == "Deploys › Freeze, page 2\n\nThere are no deploys on Fridays."
    assert Passage("y", "Just text.", "/t.txt", "").as_shown() == "Just text."
