"""Errors raised by the knowledge package.

    KnowledgeError
    ├── LoadError            a file could not be read into text (corrupt, binary, empty, ...)
    │   └── UnsupportedFile  no loader handles this file type
    ├── EmbeddingError       the embedding model could not be loaded or run
    ├── EmbedderMismatch     the index was built by another embedder than the configured one
    ├── IndexBusy            another process (or run) is writing this index
    ├── IndexStoreError      the vector store or lexical index failed (Chroma, SQLite)
    ├── IndexStopped         raised by an index run's progress callback to stop it early
    ├── WebSearchError       a web search failed, timed out or is not set up
    └── DatabaseUnavailable  PostgreSQL cannot be reached or refused us (host and fix named)

Errors from third-party libraries are turned into these at the boundary
(``raise IndexStoreError(...) from exc``) so callers handle one tree.
"""

from __future__ import annotations

from pathlib import Path

from .types import IndexProgress

__all__ = [
    "DatabaseUnavailable",
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

    def __init__(
        self,
        built: tuple[str, int],
        configured: tuple[str, int],
        where: Path | str,
        rebuild: str = "",
    ):
        """``where`` is the index's file (its folder is named) unless ``rebuild`` says
        where it is and how to empty it (a database server)."""
        self.built, self.configured = built, configured
        folder = Path(where).parent if str(where) != ":memory:" else where
        place = where if rebuild else folder
        rebuild = rebuild or f"delete {folder} and index your files again"
        super().__init__(
            f"the index in {place} was built with the embedder {built[0]} ({built[1]}"
            f" dimensions), but this Parley embeds with {configured[0]} ({configured[1]}"
            f" dimensions), so it cannot search it: {rebuild}"
        )


class IndexBusy(KnowledgeError):
    """Another process, or another run in this one, is writing the index; the message
    says who holds it and what to do instead. ``running`` is the other run's progress
    when it is known (a re-index elsewhere in a deployment sharing PostgreSQL)."""

    def __init__(self, message: str, running: IndexProgress | None = None) -> None:
        super().__init__(message)
        self.running = running


class DatabaseUnavailable(KnowledgeError):
    """PostgreSQL cannot be reached, or refused the connection: one line naming the host
    (never the password) and what to change."""


class IndexStopped(KnowledgeError):
    """Raised by a progress callback of an index run (Ctrl-C, a bot shutting down) to
    stop it: the indexer finishes the step it is in, keeps every file it finished and the
    vectors it embedded, and returns its report with ``stopped`` set."""


class WebSearchError(KnowledgeError):
    """A web search failed, timed out or is not set up; the message says why in a few
    plain words, fit for the line under an answer ("timed out after 5 s")."""
