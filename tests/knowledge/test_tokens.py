"""Token counts must equal the embedder's tokenizer exactly, or chunks overflow its window."""

from __future__ import annotations

import pytest

from knowledge import tokens
from knowledge.tokens import count_tokens, count_tokens_batch, load_tokenizer

TEXTS = [
    "Run `shipit rollback SERVICE --to PREVIOUS_VERSION --env prod`.",
    "naïve café — résumé\u00a0x\u2003y, 日本語のテキスト",
    "tabs\tand\nnew lines\x0bvertical\x85next",
    "emoji 🚀 and unknown-ish glyphs ✓ ≤ ≥",
    "supercalifragilisticexpialidocious " * 5,
    "",
]


def test_counts_match_the_tokenizer_exactly() -> None:
    tokenizer = load_tokenizer()
    expected = [len(tokenizer.encode(t, add_special_tokens=False).ids) for t in TEXTS]
    assert count_tokens_batch(TEXTS) == expected
    assert [count_tokens(t) for t in TEXTS] == expected


def test_long_texts_are_not_truncated() -> None:
    assert count_tokens("word " * 1000) == 1000


def test_tokenizer_is_loaded_once() -> None:
    assert load_tokenizer() is load_tokenizer()


def test_all_lists_the_public_names() -> None:
    assert sorted(tokens.__all__) == ["count_tokens", "count_tokens_batch", "load_tokenizer"]


def test_counts_stay_exact_once_memory_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "MAX_REMEMBERED_WORDS", len(tokens._word_counts))
    text = "zqxjkvb-unremembered frobnicated"
    expected = len(load_tokenizer().encode(text, add_special_tokens=False).ids)
    assert count_tokens_batch([text, "plain"]) == [expected, 1]
    assert "frobnicated" not in tokens._word_counts
