"""A throw-away index over a handful of passages, searched exactly as the knowledge base is.

A document attached to a question is never written to the knowledge base, yet its
passages must be ranked for the question the way the knowledge base's are: BM25 (an
in-memory FTS5 table, ``LexicalIndex(":memory:")``) and the embedder's cosine, fused and
de-duplicated by the same ``Retriever``. Only the vectors live here, in a numpy array;
the passages are embedded once, when the index is built.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .embed import Embedder, embedding_text
from .lexical import LexicalIndex
from .retrieve import Retriever
from .types import Hit, Mode, Passage

__all__ = ["MemoryIndex"]


class _Vectors:
    """The two reads ``Retriever`` makes of a vector store, over normalised rows."""

    def __init__(self, ids: list[str], vectors: np.ndarray) -> None:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._ids = ids
        self._rows = {p_id: row for row, p_id in enumerate(ids)}
        self._vectors = vectors / np.maximum(norms, 1e-12)

    def _cosines(self, embedding: np.ndarray) -> np.ndarray:
        query = np.asarray(embedding, np.float32)
        return self._vectors @ (query / max(float(np.linalg.norm(query)), 1e-12))

    def query(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        cosines = self._cosines(embedding)
        best = np.argsort(-cosines, kind="stable")[: max(k, 0)]
        return [(self._ids[i], float(cosines[i])) for i in best]

    def similarities(self, embedding: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        cosines = self._cosines(embedding)
        return {p_id: float(cosines[self._rows[p_id]]) for p_id in ids if p_id in self._rows}


class MemoryIndex:
    """``search(query, k, mode)`` over ``passages``, as ``KnowledgeBase.search`` ranks."""

    def __init__(self, passages: Sequence[Passage], embedder: Embedder) -> None:
        unique = list({p.id: p for p in passages}.values())
        self._lexical = LexicalIndex(":memory:")
        self._lexical.upsert(unique)
        vectors = (
            embedder.embed([embedding_text(p) for p in unique])
            if unique
            else np.zeros((0, embedder.dim), np.float32)
        )
        self._retriever = Retriever(
            embedder,
            _Vectors([p.id for p in unique], np.asarray(vectors, np.float32)),  # type: ignore[arg-type]
            self._lexical,
        )

    def search(self, query: str, k: int, mode: Mode = "hybrid") -> list[Hit]:
        return self._retriever.search(query, k, mode)

    def close(self) -> None:
        self._lexical.close()
