"""The knowledge base as the rest of Parley sees it: open, index, search, close."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from .embed import Embedder, default_embedder
from .indexer import DEFAULT_EMBED_BATCH, Indexer, IndexReport, ProgressCallback
from .lexical import LexicalIndex
from .retrieve import Mode, Retriever
from .store import VectorStore
from .types import Hit

__all__ = ["KnowledgeBase", "deferred"]

T = TypeVar("T")


class _Deferred:
    """Stands in for an object that is costly to build, and builds it on first use."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._built: Any = None

    def __getattr__(self, name: str) -> Any:  # only called for names not set above
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)


def deferred(build: Callable[[], T]) -> T:
    """``build()``'s result, built only when first used: loading the model or opening
    Chroma takes seconds, and an unchanged re-index or a lexical search needs neither."""
    return cast(T, _Deferred(build))


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

        def open_vectors() -> VectorStore:
            if chroma_host:
                return VectorStore.http(chroma_host, chroma_port)
            return VectorStore.persistent(index_dir / "chroma")

        lexical = LexicalIndex(index_dir / "lexical.db")
        return cls(lexical, deferred(open_vectors), embedder or deferred(default_embedder))

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

    @property
    def retriever(self) -> Retriever:
        """The ranking itself, for tools that compare fusions on the same candidates."""
        return self._retriever

    def titles(self, limit: int = 5) -> list[str]:
        """The biggest documents' titles, for suggesting what to ask."""
        return self._lexical.titles(limit)

    def count(self) -> int:
        """Passages in the index."""
        return self._lexical.count()

    def close(self) -> None:
        self._lexical.close()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
