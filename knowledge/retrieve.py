"""Hybrid retrieval: dense and lexical candidates fused, near-duplicates collapsed.

Neither half wins everywhere: BM25 is better on exact names and rare terms, MiniLM on
paraphrase. Both fusions are here, reciprocal rank fusion and a weighted sum of
normalised scores; the defaults below were chosen on SciFact's train claims only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from .threads import worker_pool
from .types import Hit, Mode, Passage

if TYPE_CHECKING:  # what a Retriever is given; the fusion helpers need none of them
    from .embed import Embedder
    from .lexical import LexicalIndex
    from .store import VectorStore

__all__ = [
    "CANDIDATES",
    "DENSE_WEIGHT",
    "DUPLICATE_JACCARD",
    "FUSION",
    "NORMALISATION",
    "RRF_K",
    "Fusion",
    "Mode",
    "Normalisation",
    "Retriever",
    "collapse_duplicates",
    "reciprocal_rank_fusion",
    "weighted_fusion",
]

Fusion = Literal["weighted", "rrf"]
Normalisation = Literal["minmax", "zscore"]
Ranked = list[tuple[str, float]]

# Chosen with `scripts/bench_retrieval.py DATA/scifact --queries queries_train.jsonl
# --qrels qrels/train.tsv --tune` (809 train claims; test claims never used). Grid:
# pool 20/50/100 x {RRF k 10/30/60/100, min-max or z-score weighted sum, w 0.1..0.9},
# the sums with a floor for passages one half did not return or with their true scores.
# True scores, min-max, w 0.5, pool 50 came first (nDCG@10 0.744; with a floor 0.734;
# RRF at best 0.730, k=60 0.721).
CANDIDATES = 50  # each half's candidate pool before fusion
FUSION: Fusion = "weighted"
NORMALISATION: Normalisation = "minmax"
DENSE_WEIGHT = 0.5  # share of the dense score in the weighted sum
RRF_K = 60  # rank constant of reciprocal rank fusion (Cormack et al. 2009)

# threads for the BM25 calls of hybrid searches, so they run beside the embedding
_BESIDE = worker_pool("parley-lexical", max_workers=2)

DUPLICATE_JACCARD = 0.9  # word-set overlap above which two passages say the same thing
WORD = re.compile(r"\w+")


def _normalise(scores: Ranked, how: Normalisation = NORMALISATION) -> dict[str, float]:
    """Put one list's scores on a common scale: min-max to [0, 1], or z-scores."""
    if not scores:
        return {}
    values = np.array([s for _, s in scores], dtype=np.float64)
    if how == "zscore":
        centre, spread = values.mean(), values.std()
    else:
        centre, spread = values.min(), values.max() - values.min()
    if spread <= 0:
        return {i: 1.0 for i, _ in scores}
    return {i: float((s - centre) / spread) for i, s in scores}


def weighted_fusion(
    dense: Ranked,
    lexical: Ranked,
    dense_weight: float = DENSE_WEIGHT,
    *,
    norm: Normalisation = NORMALISATION,
) -> Ranked:
    """Normalise each list, then sum with weights; a passage missing from a list gets
    that list's lowest normalised score (it ranked below everything retrieved). Hybrid
    search passes both lists over the same passages (``Retriever.candidates``)."""
    d, lex = _normalise(dense, norm), _normalise(lexical, norm)
    d_floor, lex_floor = min(d.values(), default=0.0), min(lex.values(), default=0.0)
    fused = {
        i: dense_weight * d.get(i, d_floor) + (1 - dense_weight) * lex.get(i, lex_floor)
        for i in dict.fromkeys([*d, *lex])  # ordered, so ties break the same way each run
    }
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


def reciprocal_rank_fusion(*lists: Ranked, k: int = RRF_K) -> Ranked:
    """Sum of 1 / (k + rank) over the lists a passage appears in."""
    fused: dict[str, float] = {}
    for ranked in lists:
        for rank, (i, _) in enumerate(ranked, 1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


def collapse_duplicates(hits: Sequence[Hit], limit: int | None = None) -> list[Hit]:
    """Keep the best of passages that say the same thing (same or nearly the same words),
    so one chunk indexed from two copies of a file cannot fill a prompt alone. Stops once
    ``limit`` hits are kept."""
    kept: list[Hit] = []
    seen: list[set[str]] = []
    for hit in hits:
        if limit is not None and len(kept) >= limit:
            break
        words = set(WORD.findall(hit.passage.text.lower()))
        if any(_near_duplicate(words, other) for other in seen):
            continue
        kept.append(hit)
        seen.append(words)
    return kept


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    """Word-set Jaccard at or above DUPLICATE_JACCARD; sets whose sizes differ too much
    cannot get there, so most pairs are settled without an intersection."""
    small, large = sorted((len(a), len(b)))
    if small < DUPLICATE_JACCARD * large:
        return False
    union = len(a | b)
    return union == 0 or len(a & b) >= DUPLICATE_JACCARD * union


class Retriever:
    """Searches both indexes and returns ranked, deduplicated Hits."""

    def __init__(
        self,
        embedder: Embedder,
        vectors: VectorStore,
        lexical: LexicalIndex,
        *,
        fusion: Fusion = FUSION,
        dense_weight: float = DENSE_WEIGHT,
        candidates: int = CANDIDATES,
    ) -> None:
        self._embedder = embedder
        self._vectors = vectors
        self._lexical = lexical
        self._fusion = fusion
        self._dense_weight = dense_weight
        self._candidates = candidates

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` best passages for ``query``, best first; empty for a blank query."""
        if k <= 0 or not query.strip():
            return []
        pool = max(self._candidates, k)
        if mode == "lexical":
            ranked = self._lexical.search(query, pool)
        elif mode == "dense":
            ranked = self._dense(query, pool)
        elif self._fusion == "rrf":
            ranked = reciprocal_rank_fusion(
                self._dense(query, pool), self._lexical.search(query, pool)
            )
        else:
            ranked = weighted_fusion(*self.candidates(query, pool), self._dense_weight)
        ranked = ranked[: 3 * k]  # room for duplicates to fall out
        passages = self.passages([i for i, _ in ranked])
        hits = [Hit(passages[i], s) for i, s in ranked if i in passages]
        return collapse_duplicates(hits, limit=k)

    def passages(self, ids: Sequence[str]) -> dict[str, Passage]:
        """Passages by id (unknown ids left out), for callers that rank ids themselves."""
        return self._lexical.get(ids)

    def _dense(self, query: str, k: int) -> Ranked:
        vector = self._embedder.embed([query])[0]
        return self._vectors.query(vector, k)

    def candidates(self, query: str, pool: int) -> tuple[Ranked, Ranked]:
        """Each half's ``pool`` best, every one scored by both halves: (dense, lexical).

        A passage only one half found would otherwise get the other half's floor; its
        true score ranks it better (SciFact train nDCG@10 0.730 -> 0.744). A passage that
        does not match the query's words has BM25 score 0. A dense hit with no lexical
        row (its file's new passages are not committed yet, or it was left behind) is
        dropped here, before it can take a place or stretch the normalisation.
        """
        # SQLite and onnxruntime both release the GIL: BM25 runs beside the embedding
        lexical_top = _BESIDE.submit(self._lexical.search, query, pool)
        vector = self._embedder.embed([query])[0]
        dense = dict(self._vectors.query(vector, pool))
        lexical = dict(lexical_top.result())
        lexical_rest = _BESIDE.submit(
            self._lexical.scores, query, [i for i in dense if i not in lexical]
        )
        dense |= self._vectors.similarities(vector, [i for i in lexical if i not in dense])
        lexical |= lexical_rest.result()
        candidates = dict.fromkeys([*(i for i in dense if i in lexical), *lexical])
        return (
            [(i, dense[i]) for i in candidates if i in dense],
            [(i, lexical.get(i, 0.0)) for i in candidates],
        )
