"""The word-piece tokenizer of all-MiniLM-L6-v2, shared by chunking and embedding.

Chunking counts tokens with the same tokenizer the embedder uses, so a passage that
fits the chunk budget also fits the model's window. The file is vendored as package
data (see data/NOTICE.md) because the package that ships it would pull in torch.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["count_tokens", "count_tokens_batch", "load_tokenizer"]

MAX_REMEMBERED_WORDS = 1_000_000
# Control characters that Python's str.split() treats as whitespace but the tokenizer's
# normalizer deletes; removed first so that both split a text into the same words.
DELETED_CONTROLS = dict.fromkeys(map(ord, "\x0b\x0c\x1c\x1d\x1e\x1f\x85"))
_word_counts: dict[str, int] = {}


@lru_cache(maxsize=1)
def load_tokenizer() -> Tokenizer:
    """The vendored tokenizer, loaded once, with padding and truncation switched off.

    Callers share this instance, so none of them may switch padding or truncation
    on: token counts would silently stop at the truncation length. The library loads
    with it, so what only imports this module (the prompt composer, hence the store)
    never pays for it.
    """
    from tokenizers import Tokenizer

    data = resources.files("knowledge") / "data" / "tokenizer.json"
    tokenizer = Tokenizer.from_str(data.read_text(encoding="utf-8"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def count_tokens(text: str) -> int:
    """Word pieces in ``text``, without the [CLS]/[SEP] markers."""
    return count_tokens_batch([text])[0]


def count_tokens_batch(texts: Sequence[str]) -> list[int]:
    """Word pieces in each text, exactly as the tokenizer counts them, only faster.

    The tokenizer never joins pieces across whitespace, so a text's count is the sum
    of its words' counts. Words repeat a lot, so each distinct word is tokenized once
    and remembered: chunking a corpus then tokenizes a small share of its text.
    """
    words = [text.translate(DELETED_CONTROLS).split() for text in texts]
    # Not ``set - _word_counts.keys()``: that walks the whole dict on every call.
    unknown = [w for w in {w for ws in words for w in ws} if w not in _word_counts]
    new: dict[str, int] = {}
    if unknown:
        encodings = load_tokenizer().encode_batch(unknown, add_special_tokens=False)
        new = dict(zip(unknown, (len(e.ids) for e in encodings), strict=True))
        if len(_word_counts) + len(new) <= MAX_REMEMBERED_WORDS:
            _word_counts.update(new)  # only ever grows, so concurrent callers stay safe
            new = {}
    # Once memory is full, a batch's new words are counted without being kept.
    counts: Mapping[str, int] = ChainMap(new, _word_counts) if new else _word_counts
    return [sum(map(counts.__getitem__, text_words)) for text_words in words]
