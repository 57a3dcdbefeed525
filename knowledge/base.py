"""The knowledge base as the rest of Parley sees it: open, index, search, close."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .embed import Embedder, default_embedder
from .indexer import DEFAULT_EMBED_BATCH, Indexer, IndexReport, ProgressCallback
from .lexical import LexicalIndex
from .retrieve import Mode, Retriever
from .store import VectorStore
from .types import Hit

__all__ = ["KnowledgeBase", "LazyEmbedder"]


class LazyEmbedder:
    """An embedder loaded on its first use, so an unchanged re-index or a lexical search
    never pays for loading the model."""

    def __init__(self, load: Callable[[], Embedder]) -> None:
        self._load = load
        self._loaded: Embedder | None = None

    @property
    def loaded(self) -> Embedder:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def dim(self) -> int:
        return self.loaded.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.loaded.embed(texts)


class KnowledgeBase:
    """Both indexes of one data directory (or a Chroma server), behind four methods."""

    def __init__(self, lexical: LexicalIndex, vectors: VectorStore, embedder: Embedder) -> None:
        self._lexical = lexical
        self._vectors = vectors
        self._embedder = embedder
        self._retriever = Retriever(embedder, vectors, lexical)

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
        lexical = LexicalIndex(index_dir / "lexical.db")
        return cls(lexical, vectors, embedder or LazyEmbedder(default_embedder))

    def index(
        self,
        paths: Sequence[Path],
        progress: ProgressCallback | None = None,
        *,
        batch_size: int = DEFAULT_EMBED_BATCH,
    ) -> IndexReport:
        """Bring the index in line with the files under ``paths``; see ``Indexer``."""
        indexer = Indexer(self._lexical, self._vectors, self._embedder, batch_size=batch_size)
        return indexer.run(paths, progress)

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` best passages for ``query``; see ``Retriever.search``."""
        return self._retriever.search(query, k, mode)

    def count(self) -> int:
        """Passages in the index."""
        return self._lexical.count()

    def close(self) -> None:
        self._lexical.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
