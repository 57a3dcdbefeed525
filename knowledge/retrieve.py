"""Hybrid retrieval: dense and lexical candidates fused, near-duplicates collapsed.

Neither half wins everywhere: BM25 is better on exact names and rare terms, MiniLM on
paraphrase. Fusing normalised scores beat reciprocal rank fusion on SciFact's train
claims (see docs/benchmarks.md); RRF stays available for comparison.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import numpy as np

from .embed import Embedder
from .lexical import LexicalIndex
from .store import VectorStore
from .types import Hit

__all__ = [
    "CANDIDATES",
    "DENSE_WEIGHT",
    "RRF_K",
    "Fusion",
    "Mode",
    "Retriever",
    "collapse_duplicates",
    "reciprocal_rank_fusion",
    "weighted_fusion",
]

Mode = Literal["hybrid", "dense", "lexical"]
Fusion = Literal["weighted", "rrf"]

CANDIDATES = 50  # each half's pool before fusion
# Weight of the dense score in the normalised sum, chosen on SciFact's 809 train claims
# by scripts/bench_retrieval.py --tune (never on test queries).
DENSE_WEIGHT = 0.5
RRF_K = 60  # the constant of Cormack et al. (2009)
DUPLICATE_JACCARD = 0.9
WORD = re.compile(r"\w+")

Ranked = list[tuple[str, float]]


def min_max(scores: Ranked) -> dict[str, float]:
    if not scores:
        return {}
    values = np.array([s for _, s in scores])
    low, span = values.min(), values.max() - values.min()
    return {i: float((s - low) / span) if span > 0 else 1.0 for i, s in scores}


def weighted_fusion(dense: Ranked, lexical: Ranked, dense_weight: float = DENSE_WEIGHT) -> Ranked:
    """Min-max normalise each list, then sum with weights; missing means 0."""
    d, lex = min_max(dense), min_max(lexical)
    fused = {
        i: dense_weight * d.get(i, 0.0) + (1 - dense_weight) * lex.get(i, 0.0)
        for i in d.keys() | lex.keys()
    }
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


def reciprocal_rank_fusion(*lists: Ranked, k: int = RRF_K) -> Ranked:
    fused: dict[str, float] = {}
    for ranked in lists:
        for rank, (i, _) in enumerate(ranked, 1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


def collapse_duplicates(hits: Sequence[Hit]) -> list[Hit]:
    """Keep the best of passages that say the same thing (same or nearly the same words)."""
    kept: list[Hit] = []
    seen: list[set[str]] = []
    for hit in hits:
        words = set(WORD.findall(hit.passage.text.lower()))
        if any(jaccard(words, other) >= DUPLICATE_JACCARD for other in seen):
            continue
        kept.append(hit)
        seen.append(words)
    return kept


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


class Retriever:
    """Searches both indexes and returns ranked, deduplicated Hits."""

    def __init__(
        self,
        embedder: Embedder,
        vectors: VectorStore,
        lexical: LexicalIndex,
        *,
        fusion: Fusion = "weighted",
        dense_weight: float = DENSE_WEIGHT,
    ) -> None:
        self._embedder = embedder
        self._vectors = vectors
        self._lexical = lexical
        self._fusion = fusion
        self._dense_weight = dense_weight

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        pool = max(CANDIDATES, 4 * k)
        dense = self._dense(query, pool) if mode != "lexical" else []
        lexical = self._lexical.search(query, pool) if mode != "dense" else []
        if mode == "dense":
            ranked = dense
        elif mode == "lexical":
            ranked = lexical
        elif self._fusion == "rrf":
            ranked = reciprocal_rank_fusion(dense, lexical)
        else:
            ranked = weighted_fusion(dense, lexical, self._dense_weight)
        ranked = ranked[: 3 * k]  # room for duplicates to fall out
        passages = self._lexical.get([i for i, _ in ranked])
        hits = [Hit(passages[i], s) for i, s in ranked if i in passages]
        return collapse_duplicates(hits)[:k]

    def _dense(self, query: str, k: int) -> Ranked:
        vector = self._embedder.embed([query])[0]
        return self._vectors.query(vector, k)
