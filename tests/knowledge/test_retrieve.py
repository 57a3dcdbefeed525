"""Hybrid retrieval over real indexes (either lexical engine) and the real embedder:
fusion, modes, duplicates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from knowledge import retrieve
from knowledge.embed import embedding_text
from knowledge.retrieve import (
    Retriever,
    collapse_duplicates,
    reciprocal_rank_fusion,
    weighted_fusion,
)
from knowledge.store import VectorStore
from knowledge.types import Hit

TEXTS = {
    "rollback": "To revert a broken release, redeploy the previous build from the pipeline.",
    "oncall": "The secondary is paged when the primary has not acknowledged within 15 minutes.",
    "expenses": "Meals while travelling are reimbursed up to 60 EUR per day with a receipt.",
    "hsm": "Signing keys live in the HSM-7 appliance; rotate them every quarter.",
    "coffee": "The office coffee machine is descaled on the first Monday of each month.",
}


@pytest.fixture
def retriever(tmp_path, real_embedder, make_passage, open_lexical):
    passages = [make_passage(text, id=key, source=f"/kb/{key}.md") for key, text in TEXTS.items()]
    # the same chunk reached the index twice, from a copy of the file
    passages.append(make_passage(TEXTS["rollback"], id="rollback-copy", source="/kb/copy.md"))
    vectors = VectorStore.persistent(tmp_path / "chroma")
    vectors.upsert(passages, real_embedder.embed([embedding_text(p) for p in passages]))
    lexical = open_lexical()
    lexical.upsert(passages)
    return Retriever(real_embedder, vectors, lexical)


def ids(hits: list[Hit]) -> list[str]:
    return [h.passage.id for h in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how do I roll back a bad deploy?", "rollback"),  # paraphrase: dense carries it
        ("HSM-7", "hsm"),  # a rare name: lexical carries it
        ("who gets paged if nobody answers?", "oncall"),
        ("can I claim dinner on a work trip", "expenses"),
    ],
)
def test_hybrid_puts_the_right_passage_first(retriever, query, expected):
    best = ids(retriever.search(query, k=3))[0]
    assert best.removesuffix("-copy") == expected  # the copy ties with the original


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_returns_ranked_hits_with_full_passages(retriever, mode):
    hits = retriever.search("revert a broken release", k=3, mode=mode)
    assert ids(hits)[0] in {"rollback", "rollback-copy"}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].passage.source.startswith("/kb/")


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_duplicate_passages_are_collapsed(retriever, mode):
    hits = retriever.search("redeploy the previous build", k=6, mode=mode)
    texts = [h.passage.text for h in hits]
    assert texts.count(TEXTS["rollback"]) == 1
    assert len(texts) == len(set(texts))


def test_k_larger_than_the_index_and_blank_queries(retriever):
    assert len(retriever.search("release", k=50)) == len(TEXTS)  # copy collapsed
    assert retriever.search("   ", k=5) == []
    assert retriever.search("release", k=0) == []


def test_rrf_setting_also_finds_the_passage(tmp_path, real_embedder, retriever):
    rrf = Retriever(real_embedder, retriever._vectors, retriever._lexical, fusion="rrf")
    assert ids(rrf.search("HSM-7 key rotation", k=2))[0] == "hsm"


def test_near_duplicates_collapse_but_different_passages_stay(make_passage):
    base = " ".join(f"word{i}" for i in range(40))
    near = base.replace("word39", "WORD39.").replace("word0", "Word0,")  # case, punctuation
    changed = base.replace("word39", "different")  # 39 of 41 words shared: Jaccard 0.95
    other = " ".join(f"other{i}" for i in range(40))
    hits = [
        Hit(make_passage(t, id=str(n)), 1.0 - n / 10)
        for n, t in enumerate([base, near, changed, other])
    ]
    assert ids(collapse_duplicates(hits)) == ["0", "3"]
    assert ids(collapse_duplicates(hits, limit=1)) == ["0"]


def test_hybrid_scores_every_candidate_with_both_halves(retriever):
    # with one candidate per half, dense finds "oncall" and BM25 finds "coffee": fusion
    # then needs each half's true score for the other's passage, not a floor
    query = "who gets paged if nobody answers the coffee machine"
    assert ids_of(retriever._dense(query, 1)) == ["oncall"]
    assert ids_of(retriever._lexical.search(query, 1)) == ["coffee"]
    dense, lexical = (dict(half) for half in retriever.candidates(query, 1))
    assert dense.keys() == lexical.keys() == {"oncall", "coffee"}
    assert dense["coffee"] == pytest.approx(dict(retriever._dense(query, 6))["coffee"], abs=1e-4)
    assert lexical["oncall"] == pytest.approx(dict(retriever._lexical.search(query, 6))["oncall"])


def test_a_vector_without_a_lexical_row_is_never_a_candidate(
    retriever, real_embedder, make_passage
):
    # a re-index writes a file's vectors before its lexical commit: until then its new
    # passages must neither show nor take a candidate's place
    ahead = make_passage(TEXTS["oncall"] + " Updated.", id="oncall-next", source="/kb/oncall.md")
    retriever._vectors.upsert([ahead], real_embedder.embed([embedding_text(ahead)]))
    query = "who gets paged if nobody answers"
    dense, lexical = (dict(half) for half in retriever.candidates(query, 2))
    assert "oncall-next" not in dense | lexical and "oncall" in dense
    assert "oncall-next" in dict(retriever._dense(query, 2))  # Chroma does hold it
    for mode in ("hybrid", "dense"):
        assert "oncall-next" not in ids(retriever.search(query, k=5, mode=mode))


def test_concurrent_hybrid_searches_match_one_at_a_time(retriever):
    # each hybrid search hands its BM25 calls to worker threads; many searches at once
    # (the bot answers several people) must not mix their results
    queries = ["roll back a deploy", "HSM-7", "who gets paged", "dinner on a trip"] * 4
    alone = [ids(retriever.search(q, k=3)) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda q: ids(retriever.search(q, k=3)), queries))
    assert together == alone


def ids_of(ranked: list[tuple[str, float]]) -> list[str]:
    return [i for i, _ in ranked]


def test_weighted_fusion_rewards_agreement_and_honours_weights():
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.1)]
    lexical = [("b", 12.0), ("d", 11.0), ("a", 2.0)]
    assert weighted_fusion(dense, lexical, 0.5)[0][0] == "b"
    assert weighted_fusion(dense, lexical, 1.0)[0] == ("a", 1.0)
    assert weighted_fusion(dense, lexical, 0.0)[0] == ("b", 1.0)
    assert {i for i, _ in weighted_fusion(dense, lexical, norm="zscore")} == {"a", "b", "c", "d"}
    assert weighted_fusion([], lexical)[0][0] == "b"


def test_reciprocal_rank_fusion_sums_reciprocal_ranks():
    fused = dict(reciprocal_rank_fusion([("a", 9.0), ("b", 1.0)], [("b", 5.0)], k=10))
    assert fused["b"] == pytest.approx(1 / 12 + 1 / 11)
    assert fused["a"] == pytest.approx(1 / 11)


def test_all_lists_the_public_names():
    assert set(retrieve.__all__) <= set(dir(retrieve))
