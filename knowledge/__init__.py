"""Documents to passages: loading, chunking, embedding, indexing and hybrid search.

The public names are importable from here, but each is loaded from its submodule on
first use: ``import knowledge`` stays cheap, and Chroma, onnxruntime and numpy are
imported only by the code paths that need them.
"""

from __future__ import annotations

import typing

from . import lazy
from .errors import (
    DatabaseUnavailable,
    EmbedderMismatch,
    EmbeddingError,
    IndexBusy,
    IndexStopped,
    IndexStoreError,
    KnowledgeError,
    LoadError,
    UnsupportedFile,
    WebSearchError,
)
from .types import Hit, IndexProgress, LoadedDocument, Mode, Passage, Section

if typing.TYPE_CHECKING:
    from .base import KnowledgeBase
    from .chunking import chunk_document
    from .database import cannot_read, read_only_uri
    from .embed import Embedder, default_embedder, embedding_text
    from .indexer import IndexReport, PassageCallback, ProgressCallback
    from .lexical import LexicalIndex
    from .loaders import SUPPORTED_SUFFIXES, load_document
    from .retrieve import Retriever
    from .status import KnowledgeStatus
    from .store import VectorStore

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DatabaseUnavailable",
    "Embedder",
    "EmbedderMismatch",
    "EmbeddingError",
    "Hit",
    "IndexBusy",
    "IndexProgress",
    "IndexReport",
    "IndexStopped",
    "IndexStoreError",
    "KnowledgeBase",
    "KnowledgeError",
    "KnowledgeStatus",
    "LexicalIndex",
    "LoadError",
    "LoadedDocument",
    "Mode",
    "Passage",
    "PassageCallback",
    "ProgressCallback",
    "Retriever",
    "Section",
    "UnsupportedFile",
    "VectorStore",
    "WebSearchError",
    "cannot_read",
    "chunk_document",
    "default_embedder",
    "embedding_text",
    "load_document",
    "read_only_uri",
]

_LAZY = {
    "KnowledgeBase": "base",
    "chunk_document": "chunking",
    "cannot_read": "database",
    "read_only_uri": "database",
    "Embedder": "embed",
    "default_embedder": "embed",
    "embedding_text": "embed",
    "IndexReport": "indexer",
    "PassageCallback": "indexer",
    "ProgressCallback": "indexer",
    "LexicalIndex": "lexical",
    "SUPPORTED_SUFFIXES": "loaders",
    "load_document": "loaders",
    "Retriever": "retrieve",
    "VectorStore": "store",
    "KnowledgeStatus": "status",
}


__getattr__, __dir__ = lazy.lazy_names(__name__, _LAZY)
