"""A throw-away index over a handful of passages, searched as the knowledge base is.

A document attached to a question is never written to the knowledge base, yet its
passages must be ranked for the question the way the knowledge base's are: BM25 (an
in-memory FTS5 table, ``LexicalIndex(":memory:")``) and the embedder's cosine, fused and
de-duplicated by the same ``Retriever``. Only the vectors live here, in a numpy array.

Embedding is the cost (some 10 to 25 passages a second on a small machine), so a
passage is embedded only when a search needs it. A set of up to ``DENSE_POOL`` passages
is searched whole; in a larger one (a long PDF) BM25 first picks the ``DENSE_POOL``
passages that share most of the question's words, and the hybrid search ranks those, as
the knowledge base's hybrid search ranks its lexical candidates. A question sharing no
word with the document is searched by meaning over all of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .embed import Embedder, embedding_text
from .lexical import LexicalIndex
from .retrieve import CANDIDATES, Retriever
from .types import Hit, Mode, Passage

__all__ = ["DENSE_POOL", "MemoryIndex"]

DENSE_POOL = CANDIDATES  # passages a question embeds at most (beyond a search by meaning alone)


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
        self._passages = {p.id: p for p in passages}
        self._embedder = embedder
        self._lexical = LexicalIndex(":memory:")
        self._lexical.upsert(list(self._passages.values()))

    def search(self, query: str, k: int, mode: Mode = "hybrid") -> list[Hit]:
        if mode == "lexical":
            return self._over([]).search(query, k, mode)
        if len(self._passages) <= DENSE_POOL:
            return self._over(list(self._passages)).search(query, k, mode)
        words = [i for i, _ in self._lexical.search(query, DENSE_POOL)]
        if not words:  # no word in common: meaning alone, over the whole document
            return self._over(list(self._passages)).search(query, k, "dense")
        pool = MemoryIndex([self._passages[i] for i in words], self._embedder)
        try:
            return pool.search(query, k, mode)
        finally:
            pool.close()

    def _over(self, ids: list[str]) -> Retriever:
        """The knowledge base's retriever over these passages' vectors (embedded now)."""
        texts = [embedding_text(self._passages[i]) for i in ids]
        vectors = self._embedder.embed(texts) if texts else np.zeros((0, self._embedder.dim))
        dense = _Vectors(ids, np.asarray(vectors, np.float32))
        return Retriever(self._embedder, dense, self._lexical)  # type: ignore[arg-type]

    def close(self) -> None:
        self._lexical.close()
