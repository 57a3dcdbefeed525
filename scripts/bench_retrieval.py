"""Retrieval quality and latency of lexical, dense and hybrid search on a BEIR data set.

    python scripts/bench_retrieval.py DATASET_DIR [--json] [--queries FILE --qrels FILE]
                                      [--limit N] [--work DIR] [--tune]
                                      [--postgresql URL] [--distractors CORPUS]

The corpus goes through Parley's own indexer: each document becomes a Markdown file
(title as its heading, so long titles stay titles and head every passage of the
document) in a work folder, ``KnowledgeBase.index`` loads, chunks and
embeds it, and a document's score is the best score of its passages. The index is kept
in the work folder, so a rerun skips the embedding. ``--tune`` compares fusion settings
on the given queries; run it on training queries only, never on the test set.

``--postgresql URL`` measures the lexical half on PostgreSQL too, side by side in the
same run: the index's passages are mirrored into that database (``lexical_engines``) and
each query is searched on both engines in turn, beside the same vectors. With
``--distractors`` (e.g. docs-corpus's ``corpus.jsonl``) those passages join the index
first, with stand-in vectors, to measure at a larger scale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from functools import partial
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
from lexical_engines import add_distractors, mirror

from knowledge.base import KnowledgeBase
from knowledge.embed import default_embedder
from knowledge.lexical import LexicalIndex
from knowledge.retrieve import CANDIDATES, Mode, reciprocal_rank_fusion, weighted_fusion
from knowledge.store import VectorStore
from knowledge.types import Hit

MODES: tuple[Mode, ...] = ("lexical", "dense", "hybrid")
PASSAGES_PER_QUERY = 30  # enough passages to rank the top 10 documents
Qrels = dict[str, dict[str, int]]
Ranked = list[tuple[str, float]]


def read_jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def read_qrels(path: Path) -> Qrels:
    qrels: Qrels = {}
    with path.open(encoding="utf-8") as rows:
        for row in rows:
            query_id, doc_id, score = row.rstrip("\n").split("\t")
            if score.isdigit() and int(score) > 0:
                qrels.setdefault(query_id, {})[doc_id] = int(score)
    return qrels


def write_corpus(corpus: Path, folder: Path) -> int:
    """One Markdown file per document; unchanged files are left alone for the indexer."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for doc in read_jsonl(corpus):
        title = " ".join(doc.get("title", "").split())
        body = f"# {title}\n\n{doc['text']}\n" if title else f"{doc['text']}\n"
        path = folder / f"{quote(doc['_id'], safe='')}.md"
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
        count += 1
    return count


def doc_id(source: str) -> str:
    return unquote(Path(source).stem)


def doc_ranking(ranked: Iterable[tuple[str, float]], depth: int = 10) -> list[str]:
    """Documents in the order of their best passage (the input is best first)."""
    return list(dict.fromkeys(doc_id(source) for source, _ in ranked))[:depth]


def ndcg_at(ranking: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    return dcg / sum(g / math.log2(i + 2) for i, g in enumerate(ideal))


def recall_at(ranking: list[str], relevant: dict[str, int], k: int = 5) -> float:
    return len(set(ranking[:k]) & relevant.keys()) / len(relevant)


def reciprocal_rank(ranking: list[str], relevant: dict[str, int]) -> float:
    return next((1 / (i + 1) for i, d in enumerate(ranking) if d in relevant), 0.0)


def scores(rankings: list[list[str]], qrels: list[dict[str, int]]) -> dict[str, float]:
    return {
        "ndcg@10": float(np.mean([ndcg_at(r, q) for r, q in zip(rankings, qrels, strict=True)])),
        "recall@5": float(np.mean([recall_at(r, q) for r, q in zip(rankings, qrels, strict=True)])),
        "mrr": float(
            np.mean([reciprocal_rank(r, q) for r, q in zip(rankings, qrels, strict=True)])
        ),
    }


def by_source(hits: list[Hit]) -> Ranked:
    return [(h.passage.source, h.score) for h in hits]


def evaluate(
    engines: dict[str, KnowledgeBase], queries: list[tuple[str, str]], qrels: Qrels
) -> dict[str, dict[str, dict[str, float]]]:
    """Figures by engine and mode; each query goes to every engine in turn (in
    alternating order), so a busy machine slows them alike."""
    gold = [qrels[qid] for qid, _ in queries]
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in engines}
    for mode in MODES:
        for kb in engines.values():
            kb.search(queries[0][1], PASSAGES_PER_QUERY, mode=mode)  # warm-up, not timed
        rankings: dict[str, list] = {name: [] for name in engines}
        latencies: dict[str, list] = {name: [] for name in engines}
        for n, (_, text) in enumerate(queries):
            turns = list(engines.items())
            for name, kb in turns[::-1] if n % 2 else turns:
                start = time.perf_counter()
                hits = kb.search(text, PASSAGES_PER_QUERY, mode=mode)
                latencies[name].append((time.perf_counter() - start) * 1000)
                rankings[name].append(doc_ranking(by_source(hits)))
        for name in engines:
            results[name][mode] = {
                **scores(rankings[name], gold),
                "p50_ms": float(np.percentile(latencies[name], 50)),
                "p99_ms": float(np.percentile(latencies[name], 99)),
            }
    return results


def tune(kb: KnowledgeBase, queries: list[tuple[str, str]], qrels: Qrels) -> list[tuple]:
    """nDCG@10 and recall@5 of fusion settings over the same candidates.

    Each query's candidates are both halves' 100 best, every one scored by both halves.
    A half's top ``depth`` is its ``depth`` best scores among them (a passage outside a
    half's top 100 scores below all of it), so one pool gives every depth, fused either
    with a floor for the passages a half did not return ("floor") or with their true
    scores ("complete", what hybrid search does).
    """
    gold = [qrels[qid] for qid, _ in queries]
    pools = []
    for _, text in queries:
        dense, lexical = kb.retriever.candidates(text, max(CANDIDATES, 100))
        sources = {i: p.source for i, p in kb.retriever.passages([i for i, _ in lexical]).items()}
        matches = [pair for pair in lexical if pair[1] > 0]  # what BM25 alone returns
        pools.append((sources, best_first(dense), best_first(matches)))
    settings: list[tuple[str, Callable[[Ranked, Ranked], Ranked]]] = []
    for depth in (20, 50, 100):
        for rrf_k in (10, 30, 60, 100):
            settings.append(
                (
                    f"rrf k={rrf_k} pool={depth}",
                    floor(depth, lambda d, x, c=rrf_k: reciprocal_rank_fusion(d, x, k=c)),
                )
            )
        for norm in ("minmax", "zscore"):
            for w in np.round(np.arange(0.1, 1.0, 0.1), 1):
                fuse = partial(weighted_fusion, dense_weight=w, norm=norm)
                settings.append((f"floor {norm} w={w} pool={depth}", floor(depth, fuse)))
                settings.append((f"complete {norm} w={w} pool={depth}", complete(depth, fuse)))
    rows = []
    for name, fuse in settings:
        rankings = [
            doc_ranking((sources[i], s) for i, s in fuse(dense, lexical))
            for sources, dense, lexical in pools
        ]
        measured = scores(rankings, gold)
        rows.append((name, measured["ndcg@10"], measured["recall@5"]))
    return sorted(rows, key=lambda row: row[1], reverse=True)


def best_first(ranked: Ranked) -> Ranked:
    return sorted(ranked, key=lambda pair: pair[1], reverse=True)


def floor(
    depth: int, fuse: Callable[[Ranked, Ranked], Ranked]
) -> Callable[[Ranked, Ranked], Ranked]:
    """Fuse each half's top ``depth`` alone, as if the other half's scores were unknown."""
    return lambda dense, lexical: fuse(dense[:depth], lexical[:depth])


def complete(
    depth: int, fuse: Callable[[Ranked, Ranked], Ranked]
) -> Callable[[Ranked, Ranked], Ranked]:
    """Fuse the union of both halves' top ``depth``, each passage with both true scores."""

    def fused(dense: Ranked, lexical: Ranked) -> Ranked:
        pool = dict.fromkeys([i for i, _ in dense[:depth]] + [i for i, _ in lexical[:depth]])
        dense_scores, lexical_scores = dict(dense), dict(lexical)
        return fuse(
            [(i, dense_scores[i]) for i in pool], [(i, lexical_scores.get(i, 0.0)) for i in pool]
        )

    return fused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "dataset", type=Path, help="folder with corpus.jsonl, queries.jsonl, qrels/"
    )
    parser.add_argument(
        "--queries", type=Path, help="queries file (default: DATASET/queries.jsonl)"
    )
    parser.add_argument("--qrels", type=Path, help="qrels file (default: DATASET/qrels/test.tsv)")
    parser.add_argument("--limit", type=int, help="evaluate only the first N queries")
    parser.add_argument("--work", type=Path, help="where documents and index are kept")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--tune", action="store_true", help="compare fusion settings instead")
    parser.add_argument("--postgresql", help="also rank lexically in this PostgreSQL database")
    parser.add_argument(
        "--distractors", type=Path, help="a corpus.jsonl of passages to add to the index"
    )
    args = parser.parse_args(argv)

    dataset = args.dataset.resolve()
    digest = hashlib.sha1(str(dataset).encode()).hexdigest()[:8]
    work = args.work or Path("/tmp") / f"parley-bench-{dataset.name}-{digest}"
    qrels = read_qrels(args.qrels or dataset / "qrels" / "test.tsv")
    queries = [
        (q["_id"], q["text"])
        for q in read_jsonl(args.queries or dataset / "queries.jsonl")
        if q["_id"] in qrels
    ][: args.limit]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    documents = write_corpus(dataset / "corpus.jsonl", work / "docs")
    log(f"{documents} documents in {work / 'docs'}")

    def progress(path: str, done: int, total: int) -> None:
        if done % 500 == 0 or done == total:
            log(f"indexed {done}/{total} files")

    embedder = default_embedder()
    if args.distractors:
        (work / "index").mkdir(parents=True, exist_ok=True)
        with closing(LexicalIndex(work / "index" / "lexical.db")) as lexical:
            added = add_distractors(
                args.distractors,
                work / "distractors",
                lexical,
                VectorStore.persistent(work / "index" / "chroma"),
                embedder.dim,
            )
        log(f"distractors: {added} passages added")
    with KnowledgeBase.open(work / "index", embedder=embedder) as kb:
        report = kb.index([work / "docs"], progress)
        log(
            f"index: {report.added} added, {report.changed} changed, {report.unchanged} unchanged,"
            f" {report.passages} passages, {report.seconds:.1f} s"
        )
        if args.tune:
            for name, ndcg, recall in tune(kb, queries, qrels):
                print(f"{name:28} ndcg@10 {ndcg:.4f}  recall@5 {recall:.4f}")
            return 0
        engines = {"sqlite": kb}
        if args.postgresql:
            engines["postgresql"] = on_postgresql(args.postgresql, work / "index", embedder, log)
        try:
            results = evaluate(engines, queries, qrels)
        finally:
            if args.postgresql:
                engines["postgresql"].close()
    if args.json:
        print(json.dumps(results if args.postgresql else results["sqlite"], indent=2))
    else:
        print(f"{dataset.name}: {len(queries)} queries, {report.passages} passages")
        print(
            f"{'engine':10} {'method':8} {'nDCG@10':>8} {'R@5':>7} {'MRR':>7}"
            f" {'p50 ms':>7} {'p99 ms':>7}"
        )
        for engine, by_mode in results.items():
            for mode, m in by_mode.items():
                print(
                    f"{engine:10} {mode:8} {m['ndcg@10']:8.3f} {m['recall@5']:7.3f}"
                    f" {m['mrr']:7.3f} {m['p50_ms']:7.1f} {m['p99_ms']:7.1f}"
                )
    return 0


def on_postgresql(url: str, index: Path, embedder, log: Callable[[str], None]) -> KnowledgeBase:
    """The same index with its lexical half in PostgreSQL (mirrored from SQLite)."""
    from knowledge.pg_lexical import PgLexicalIndex

    pg = PgLexicalIndex.open(url)
    started = time.perf_counter()
    with closing(LexicalIndex(index / "lexical.db")) as sqlite:
        copied = mirror(sqlite, pg, (embedder.name, embedder.dim))
    log(f"postgresql: {copied} files mirrored in {time.perf_counter() - started:.1f} s")
    return KnowledgeBase(pg, VectorStore.persistent(index / "chroma"), embedder)


if __name__ == "__main__":
    raise SystemExit(main())
