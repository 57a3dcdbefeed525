"""The knowledge base as the rest of Parley sees it: open, index, search, close."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .embed import Embedder, default_embedder
from .indexer import DEFAULT_EMBED_BATCH, Indexer, IndexReport, ProgressCallback
from .lexical import LexicalIndex
from .retrieve import Mode, Retriever
from .store import VectorStore
from .types import Hit

__all__ = ["KnowledgeBase"]


class KnowledgeBase:
    """Both indexes of one data directory (or a Chroma server), behind four methods."""

    def __init__(self, lexical: LexicalIndex, vectors: VectorStore, embedder: Embedder | None):
        self._lexical = lexical
        self._vectors = vectors
        self._embedder = embedder

    @classmethod
    def open(
        cls,
        index_dir: Path,
        *,
        chroma_host: str | None = None,
        chroma_port: int = 8000,
        embedder: Embedder | None = None,
    ) -> KnowledgeBase:
        index_dir.mkdir(parents=True, exist_ok=True)
        vectors = (
            VectorStore.http(chroma_host, chroma_port)
            if chroma_host
            else VectorStore.persistent(index_dir / "chroma")
        )
        return cls(LexicalIndex(index_dir / "lexical.db"), vectors, embedder)

    @property
    def embedder(self) -> Embedder:
        """Loaded on first use, so an unchanged re-index never pays for the model."""
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def index(
        self,
        paths: Sequence[Path],
        progress: ProgressCallback | None = None,
        *,
        batch_size: int = DEFAULT_EMBED_BATCH,
    ) -> IndexReport:
        """Bring the index in line with the files under ``paths``; see ``Indexer``."""
        indexer = Indexer(
            self._lexical, self._vectors, lambda: self.embedder, batch_size=batch_size
        )
        return indexer.run(paths, progress)

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        return Retriever(self.embedder, self._vectors, self._lexical).search(query, k, mode)

    def count(self) -> int:
        return self._lexical.count()

    def close(self) -> None:
        self._lexical.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
