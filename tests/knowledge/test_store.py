"""Chroma vector store, embedded and through a `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.errors import IndexStoreError
from knowledge.store import VectorStore


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def check_round_trip(store: VectorStore, make_passage) -> None:
    passages = [make_passage(t, id=t) for t in ("north", "east", "north-east")]
    store.upsert(passages, np.vstack([unit(1, 0, 0), unit(0, 1, 0), unit(1, 1, 0)]))
    assert store.count() == 3
    results = store.query(unit(1, 0.1, 0), 3)
    assert [i for i, _ in results] == ["north", "north-east", "east"]
    assert results[0][1] == pytest.approx(float(unit(1, 0.1, 0) @ unit(1, 0, 0)), abs=1e-4)
    scores = store.similarities(unit(1, 0.1, 0), ["east", "missing", "north"])
    assert scores.keys() == {"east", "north"}  # an unknown id is left out, not an error
    assert scores["north"] == pytest.approx(results[0][1], abs=1e-4)  # same scale as query
    assert scores["east"] == pytest.approx(float(unit(1, 0.1, 0) @ unit(0, 1, 0)), abs=1e-4)
    assert store.similarities(unit(1, 0, 0), []) == {}
    store.delete(["north"])
    assert [i for i, _ in store.query(unit(1, 0, 0), 3)] == ["north-east", "east"]


def test_persistent_upsert_query_delete(tmp_path, make_passage):
    check_round_trip(VectorStore.persistent(tmp_path / "chroma"), make_passage)


def test_upsert_replaces_vector_and_survives_reopening(tmp_path, make_passage):
    store = VectorStore.persistent(tmp_path / "chroma")
    passage = make_passage("moving", id="moving")
    store.upsert([passage], unit(1, 0, 0)[None])
    store.upsert([passage], unit(0, 0, 1)[None])
    reopened = VectorStore.persistent(tmp_path / "chroma")
    assert reopened.count() == 1
    assert reopened.query(unit(0, 0, 1), 1)[0][1] == pytest.approx(1.0, abs=1e-4)
    assert reopened.ids() == {"moving"}


def test_upsert_splits_batches_larger_than_chroma_accepts(tmp_path, make_passage):
    store = VectorStore.persistent(tmp_path / "chroma")
    store._max_batch = 7  # the real limit is thousands; prove batches are split
    passages = [make_passage(f"p{i}", id=f"p{i}") for i in range(20)]
    store.upsert(passages, np.random.default_rng(0).random((20, 4), dtype=np.float32))
    assert store.count() == 20
    store.delete([p.id for p in passages])
    assert store.count() == 0


def test_empty_store_and_zero_k_return_nothing(tmp_path):
    store = VectorStore.persistent(tmp_path / "chroma")
    assert store.query(unit(1, 0), 5) == []
    assert store.query(unit(1, 0), 0) == []


def test_mismatched_lengths_are_refused(tmp_path, make_passage):
    store = VectorStore.persistent(tmp_path / "chroma")
    with pytest.raises(ValueError, match="2 passages but 1 embeddings"):
        store.upsert([make_passage("a"), make_passage("b")], unit(1, 0)[None])


def test_chroma_errors_become_index_store_errors(tmp_path, make_passage):
    store = VectorStore.persistent(tmp_path / "chroma")
    store.upsert([make_passage("a")], unit(1, 0, 0)[None])
    with pytest.raises(IndexStoreError, match="dimension"):
        store.upsert([make_passage("b")], unit(1, 0, 0, 0, 0)[None])


def test_unreachable_server_is_an_index_store_error():
    with pytest.raises(IndexStoreError, match=r"127\.0\.0\.1:9"):
        VectorStore.http("127.0.0.1", 9)


def test_server_mode_upsert_query_delete(chroma_server, make_passage):
    host, port = chroma_server
    check_round_trip(VectorStore.http(host, port), make_passage)
