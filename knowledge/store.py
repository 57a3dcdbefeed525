"""The dense half of hybrid search: passage vectors in Chroma.

Embedded (PersistentClient in the data directory) by default, or a Chroma server
(``chroma run``) through HttpClient when a team outgrows one machine. Parley always
passes its own embeddings: Chroma's default embedding function downloads a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import IndexStoreError
from .types import Passage

__all__ = ["COLLECTION", "VectorStore"]

COLLECTION = "parley_passages"


def chroma_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


class VectorStore:
    """One cosine-space Chroma collection keyed by passage id."""

    def __init__(self, client) -> None:
        try:
            self._client = client
            self._collection = client.get_or_create_collection(
                COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
            self._max_batch = int(client.get_max_batch_size())
        except Exception as exc:  # chromadb raises many unrelated types
            raise IndexStoreError(f"cannot open the vector store: {exc}") from exc

    @classmethod
    def persistent(cls, path: Path) -> VectorStore:
        import chromadb

        path.mkdir(parents=True, exist_ok=True)
        return cls(chromadb.PersistentClient(path=str(path), settings=chroma_settings()))

    @classmethod
    def http(cls, host: str, port: int) -> VectorStore:
        import chromadb

        try:
            client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings())
        except Exception as exc:
            raise IndexStoreError(
                f"cannot reach the Chroma server at {host}:{port}: {exc}"
            ) from exc
        return cls(client)

    def upsert(self, passages: Sequence[Passage], embeddings: np.ndarray) -> None:
        try:
            for start in range(0, len(passages), self._max_batch):
                batch = passages[start : start + self._max_batch]
                self._collection.upsert(
                    ids=[p.id for p in batch],
                    embeddings=embeddings[start : start + len(batch)],
                    metadatas=[{"source": p.source} for p in batch],
                )
        except Exception as exc:
            raise IndexStoreError(f"vector store write failed: {exc}") from exc

    def delete(self, ids: Sequence[str]) -> None:
        try:
            for start in range(0, len(ids), self._max_batch):
                self._collection.delete(ids=list(ids[start : start + self._max_batch]))
        except Exception as exc:
            raise IndexStoreError(f"vector store delete failed: {exc}") from exc

    def query(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (passage id, cosine similarity) pairs, best first."""
        if k <= 0 or self.count() == 0:
            return []
        try:
            result = self._collection.query(
                query_embeddings=[embedding], n_results=k, include=["distances"]
            )
        except Exception as exc:
            raise IndexStoreError(f"vector search failed: {exc}") from exc
        ids, distances = result["ids"][0], result["distances"][0]
        return [(p_id, 1.0 - float(d)) for p_id, d in zip(ids, distances, strict=True)]

    def ids(self) -> set[str]:
        try:
            return set(self._collection.get(include=[])["ids"])
        except Exception as exc:
            raise IndexStoreError(f"vector store read failed: {exc}") from exc

    def count(self) -> int:
        try:
            return self._collection.count()
        except Exception as exc:
            raise IndexStoreError(f"vector store read failed: {exc}") from exc
