"""Word stems as the lexical index makes them (FTS5's porter tokenizer), so "shipped" in
a sentence answers "ship" in a question as search already did. One stemmer, shared by
the offline answerers' threads: a snowball stemmer keeps the word it works on in itself,
so it is used under a lock, and stems are cached (a question's words recur)."""

from __future__ import annotations

import threading
from functools import lru_cache

import snowballstemmer

__all__ = ["stem"]

_STEMMER = snowballstemmer.stemmer("porter")
_STEMMER_LOCK = threading.Lock()


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The porter stem of one lower-cased word."""
    with _STEMMER_LOCK:
        return _STEMMER.stemWord(word)
