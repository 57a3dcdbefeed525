"""The word-piece tokenizer of all-MiniLM-L6-v2, shared by chunking and embedding.

Chunking counts tokens with the same tokenizer the embedder uses, so a passage that
fits the chunk budget also fits the model's window. The file is vendored as package
data (see data/NOTICE.md) because the package that ships it would pull in torch.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from tokenizers import Tokenizer

__all__ = ["count_tokens", "load_tokenizer"]


@lru_cache(maxsize=1)
def load_tokenizer() -> Tokenizer:
    """The vendored tokenizer, loaded once, with padding and truncation switched off."""
    data = resources.files("knowledge") / "data" / "tokenizer.json"
    tokenizer = Tokenizer.from_str(data.read_text(encoding="utf-8"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def count_tokens(text: str) -> int:
    """Word pieces in ``text``, without the [CLS]/[SEP] markers."""
    return len(load_tokenizer().encode(text, add_special_tokens=False).ids)
