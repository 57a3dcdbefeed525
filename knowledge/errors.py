"""Errors raised by the knowledge package.

    KnowledgeError
    ├── LoadError            a file could not be read into text (corrupt, binary, empty, ...)
    │   └── UnsupportedFile  no loader handles this file type
    ├── EmbeddingError       the embedding model could not be loaded or run
    └── IndexStoreError      the vector store or lexical index failed (Chroma, SQLite)

Errors from third-party libraries are turned into these at the boundary
(``raise IndexStoreError(...) from exc``) so callers handle one tree.
"""

from __future__ import annotations

__all__ = [
    "EmbeddingError",
    "IndexStoreError",
    "KnowledgeError",
    "LoadError",
    "UnsupportedFile",
]


class KnowledgeError(Exception):
    """Base class for every error the knowledge package raises."""


class LoadError(KnowledgeError):
    """A file could not be turned into text; the message says why in plain words."""


class UnsupportedFile(LoadError):
    """No loader handles this file's type."""


class EmbeddingError(KnowledgeError):
    """The embedding model could not be loaded or run."""


class IndexStoreError(KnowledgeError):
    """The vector store or the lexical index failed."""
