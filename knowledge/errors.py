"""Errors raised by the knowledge package.

    KnowledgeError
    ├── LoadError            a file could not be read into text (corrupt, binary, empty, ...)
    │   └── UnsupportedFile  no loader handles this file type
    ├── EmbeddingError       the embedding model could not be loaded or run
    ├── EmbedderMismatch     the index was built by another embedder than the configured one
    ├── IndexBusy            another process (or run) is writing this index
    ├── IndexStoreError      the vector store or lexical index failed (Chroma, SQLite)
    ├── IndexStopped         raised by an index run's progress callback to stop it early
    └── WebSearchError       a web search failed, timed out or is not set up

Errors from third-party libraries are turned into these at the boundary
(``raise IndexStoreError(...) from exc``) so callers handle one tree.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "EmbedderMismatch",
    "EmbeddingError",
    "IndexBusy",
    "IndexStopped",
    "IndexStoreError",
    "KnowledgeError",
    "LoadError",
    "UnsupportedFile",
    "WebSearchError",
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


class EmbedderMismatch(KnowledgeError):
    """The index holds vectors from another embedder: mixing the two would silently
    break search, so the knowledge base refuses and says how to rebuild."""

    def __init__(self, built: tuple[str, int], configured: tuple[str, int], where: Path | str):
        self.built, self.configured = built, configured
        folder = Path(where).parent if str(where) != ":memory:" else where
        super().__init__(
            f"the index in {folder} was built with the embedder {built[0]} ({built[1]}"
            f" dimensions), but {configured[0]} ({configured[1]} dimensions) is configured;"
            f" configure {built[0]} again, or rebuild the index: delete {folder} and index"
            " your files again"
        )


class IndexBusy(KnowledgeError):
    """Another process, or another run in this one, is writing the index; the message
    says who holds it and what to do instead."""


class IndexStopped(KnowledgeError):
    """Raised by a progress callback of an index run (Ctrl-C, a bot shutting down) to
    stop it: the indexer finishes the step it is in, keeps every file it finished and the
    vectors it embedded, and returns its report with ``stopped`` set."""


class WebSearchError(KnowledgeError):
    """A web search failed, timed out or is not set up; the message says why in a few
    plain words, fit for the line under an answer ("timed out after 5 s")."""
