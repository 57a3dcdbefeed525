"""The dense half of hybrid search: passage vectors in Chroma.

Embedded (PersistentClient in the data directory) by default, or a Chroma server
(``chroma run``) through HttpClient when a team outgrows one machine. Parley always
passes its own embeddings: Chroma's default embedding function downloads a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import IndexStoreError
from .types import Passage

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.config import Settings

__all__ = ["CHROMA_TIMEOUT", "COLLECTION", "VectorStore"]

COLLECTION = "parley_passages"
CHROMA_TIMEOUT = 10.0  # seconds for one request to a Chroma server, connecting included


def _settings() -> Settings:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def _bound_requests(client: ClientAPI) -> None:
    """chromadb's HTTP client waits forever (its httpx session has ``timeout=None``): a
    hung server (stopped, or a dead link) would hold every search thread, and every
    question, with it. Its first heartbeat, just made, fails at once if nothing listens."""
    import httpx

    client._server._session.timeout = httpx.Timeout(CHROMA_TIMEOUT)  # type: ignore[attr-defined]


class VectorStore:
    """One cosine-space Chroma collection keyed by passage id.

    Chroma raises many unrelated exception types (its own, ValueError, httpx and
    connection errors), so every call turns any failure into IndexStoreError.
    """

    def __init__(self, client: ClientAPI) -> None:
        try:
            self._client = client
            self._collection = client.get_or_create_collection(
                COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
            self._max_batch = int(client.get_max_batch_size())
        except Exception as exc:
            raise IndexStoreError(f"cannot open the vector store: {exc}") from exc

    @classmethod
    def persistent(cls, path: Path) -> VectorStore:
        """Vectors in a folder of the data directory, no server needed."""
        try:
            import chromadb

            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path), settings=_settings())
        except Exception as exc:
            raise IndexStoreError(f"cannot open the vector store at {path}: {exc}") from exc
        return cls(client)

    @classmethod
    def http(cls, host: str, port: int) -> VectorStore:
        """Vectors on a Chroma server started with ``chroma run``; each request gives up
        after ``CHROMA_TIMEOUT`` seconds."""
        try:
            import chromadb

            client = chromadb.HttpClient(host=host, port=port, settings=_settings())
            _bound_requests(client)
        except Exception as exc:
            raise IndexStoreError(
                f"cannot reach the Chroma server at {host}:{port}: {exc}"
            ) from exc
        return cls(client)

    def upsert(self, passages: Sequence[Passage], embeddings: np.ndarray) -> None:
        """Write vectors in batches Chroma accepts; an existing id is replaced."""
        if len(passages) != len(embeddings):
            raise ValueError(f"{len(passages)} passages but {len(embeddings)} embeddings")
        try:
            for start in range(0, len(passages), self._max_batch):
                batch = passages[start : start + self._max_batch]
                self._collection.upsert(
                    ids=[p.id for p in batch],
                    embeddings=np.asarray(embeddings[start : start + len(batch)], np.float32),
                    metadatas=[{"source": p.source} for p in batch],
                )
        except Exception as exc:
            raise IndexStoreError(f"vector store write failed: {exc}") from exc

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors by id; unknown ids are ignored."""
        try:
            for start in range(0, len(ids), self._max_batch):
                self._collection.delete(ids=list(ids[start : start + self._max_batch]))
        except Exception as exc:
            raise IndexStoreError(f"vector store delete failed: {exc}") from exc

    def query(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (passage id, cosine similarity) pairs, best first."""
        if k <= 0:
            return []
        try:
            result = self._collection.query(
                query_embeddings=[np.asarray(embedding, np.float32)],
                n_results=k,
                include=["distances"],
            )
        except Exception as exc:
            raise IndexStoreError(f"vector search failed: {exc}") from exc
        ids, distances = result["ids"][0], result["distances"][0]
        return [(p_id, 1.0 - float(d)) for p_id, d in zip(ids, distances, strict=True)]

    def similarities(self, embedding: np.ndarray, ids: Sequence[str]) -> dict[str, float]:
        """Cosine similarity of ``embedding`` to the stored vectors of ``ids``, so fusion can
        score a passage that only the lexical half found; unknown ids are left out."""
        if not ids:
            return {}
        try:
            result = self._collection.get(ids=list(ids), include=["embeddings"])
        except Exception as exc:
            raise IndexStoreError(f"vector store read failed: {exc}") from exc
        vectors = np.asarray(result["embeddings"], np.float32).reshape(-1, len(embedding))
        norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(embedding)
        cosines = vectors @ np.asarray(embedding, np.float32) / np.maximum(norms, 1e-12)
        return {p_id: float(c) for p_id, c in zip(result["ids"], cosines, strict=True)}

    def ids(self) -> set[str]:
        """Every stored id, so the indexer can find vectors with no passage record."""
        try:
            return set(self._collection.get(include=[])["ids"])
        except Exception as exc:
            raise IndexStoreError(f"vector store read failed: {exc}") from exc

    def count(self) -> int:
        try:
            return self._collection.count()
        except Exception as exc:
            raise IndexStoreError(f"vector store read failed: {exc}") from exc
