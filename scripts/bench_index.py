"""Indexing overhead over the embedder, unchanged re-index, and query latency at scale.

    python scripts/bench_index.py --corpus ../shared/data/docs-corpus/corpus.jsonl \\
        [--pg-docs /tmp/pgdoc/usr/share/doc/postgresql-doc-15/html] [--work DIR] [--json]

The corpus passages are written to Markdown files, fifty to a file, each under its own
heading (sections are never merged, so every passage stays a passage). Figures:

- overhead: a sample of those files (``--sample-files``) through ``KnowledgeBase.index``
  against the embedder alone on the same passages (timed before and after the index,
  averaged, because a shared machine's load drifts), by wall time and by CPU time;
- the whole corpus indexed, then re-indexed unchanged;
- query latency p50/p99 of hybrid search over that index, query embedding included;
- with ``--pg-docs``: first index and unchanged re-index of real HTML documentation.

``--index-embedder stand-in`` builds the large indexes with hashed pseudo-random vectors
instead of the model, for when the model is too slow for the whole corpus: the file
walk, parsing, chunking and both stores are still timed for real, and queries are
still embedded with the real model. The overhead figure always uses the real model.
The work folder is wiped first, so every run measures a first index.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.chunking import chunk_document
from knowledge.embed import Embedder, default_embedder, embedding_text
from knowledge.indexer import DEFAULT_EMBED_BATCH, IndexReport
from knowledge.loaders import load_document

PASSAGES_PER_FILE = 50
QUERIES = 300


class StandInEmbedder:
    """Unit vectors seeded by a hash of each text: no model cost, same shape as MiniLM's."""

    name = "stand-in"

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = [
            np.random.default_rng(int.from_bytes(hashlib.sha1(t.encode()).digest()[:8])).normal(
                size=self.dim
            )
            for t in texts
        ]
        out = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def say(line: str) -> None:
    """Figures are printed as they come (to stderr), so a long run shows progress."""
    print(line, file=sys.stderr, flush=True)


def write_corpus(corpus: Path, folder: Path, limit: int | None = None) -> list[str]:
    """Markdown files of fifty passages (the first ``limit`` of the corpus, or all);
    returns some passage openings to use as queries."""
    folder.mkdir(parents=True)
    docs = [json.loads(line) for line in corpus.open(encoding="utf-8") if line.strip()][:limit]
    for start in range(0, len(docs), PASSAGES_PER_FILE):
        chunk = docs[start : start + PASSAGES_PER_FILE]
        body = "\n\n".join(f"# {d['title']} ({d['_id']})\n\n{d['text']}" for d in chunk)
        (folder / f"part-{start // PASSAGES_PER_FILE:05d}.md").write_text(body, encoding="utf-8")
    rng = random.Random(0)
    return [" ".join(d["text"].split()[5:17]) for d in rng.sample(docs, min(QUERIES, len(docs)))]


def timed_index(kb: KnowledgeBase, folder: Path) -> tuple[float, IndexReport]:
    started = time.perf_counter()
    report = kb.index([folder])
    return time.perf_counter() - started, report


def embed_alone(embedder: Embedder, texts: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds for the embedder on its own, in the indexer's batches."""
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), DEFAULT_EMBED_BATCH):
        embedder.embed(texts[start : start + DEFAULT_EMBED_BATCH])
    return time.perf_counter() - wall, time.process_time() - cpu


def overhead_figures(docs: Path, work: Path, sample_files: int) -> dict:
    """Overhead by wall time and by CPU time (all threads): on a busy machine the wall
    clock mostly measures the neighbours, the CPU time what this process spent."""
    embedder = default_embedder()
    embedder.embed(["warm up the model"])
    sample = work / "sample"
    sample.mkdir()
    for path in sorted(docs.iterdir())[:sample_files]:
        shutil.copy(path, sample / path.name)
    texts = [  # the same passages the indexer embeds
        embedding_text(p)
        for path in sorted(sample.iterdir())
        for p in chunk_document(load_document(path))
    ]
    before = embed_alone(embedder, texts)
    with KnowledgeBase.open(work / "sample-index", embedder=embedder) as kb:
        cpu = time.process_time()
        indexed, report = timed_index(kb, sample)
        indexed_cpu = time.process_time() - cpu
    after = embed_alone(embedder, texts)
    alone, alone_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    figures = {
        "sample_passages": report.passages,
        "index_s": indexed,
        "index_cpu_s": indexed_cpu,
        "embedder_alone_s": [before[0], after[0]],
        "embedder_alone_cpu_s": [before[1], after[1]],
        "index_passages_per_s": report.passages / indexed,
        "embedder_passages_per_s": len(texts) / alone,
        "overhead_pct": 100 * (indexed - alone) / alone,
        "overhead_cpu_pct": 100 * (indexed_cpu - alone_cpu) / alone_cpu,
    }
    say(f"overhead: {json.dumps(figures)}")
    return figures


def corpus_figures(docs: Path, queries: list[str], work: Path, embedder: Embedder) -> dict:
    with KnowledgeBase.open(work / "index", embedder=embedder) as kb:
        first, report = timed_index(kb, docs)
        say(f"corpus first index: {report.passages} passages, {first:.1f} s")
        again, unchanged = timed_index(kb, docs)
        say(f"corpus unchanged re-index: {again:.2f} s")
    real = default_embedder()
    with KnowledgeBase.open(work / "index", embedder=real) as kb:
        # the retriever itself: KnowledgeBase.search refuses an index built by another
        # embedder, and with stand-in vectors this one was (only timing matters here)
        kb.retriever.search("warm up", 5)
        latencies = []
        for query in queries:
            started = time.perf_counter()
            kb.retriever.search(query, 5)
            latencies.append((time.perf_counter() - started) * 1000)
    figures = {
        "index_embedder": embedder.name,
        "passages": report.passages,
        "files": report.added,
        "index_s": first,
        "index_passages_per_s": report.passages / first,
        "unchanged_reindex_s": again,
        "unchanged_files": unchanged.unchanged,
        "queries": len(latencies),
        "query_p50_ms": float(np.percentile(latencies, 50)),
        "query_p99_ms": float(np.percentile(latencies, 99)),
    }
    say(f"corpus: {json.dumps(figures)}")
    return figures


def html_figures(pg_docs: Path, work: Path, embedder: Embedder) -> dict:
    with KnowledgeBase.open(work / "pg-index", embedder=embedder) as kb:
        first, report = timed_index(kb, pg_docs)
        say(f"html first index: {report.passages} passages, {first:.1f} s")
        again, unchanged = timed_index(kb, pg_docs)
    figures = {
        "index_embedder": embedder.name,
        "files": report.added,
        "skipped": report.skipped,
        "passages": report.passages,
        "first_index_s": first,
        "unchanged_reindex_s": again,
        "unchanged_files": unchanged.unchanged,
    }
    say(f"html: {json.dumps(figures)}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="a corpus.jsonl of passages")
    parser.add_argument("--pg-docs", type=Path, help="a folder of HTML documentation")
    parser.add_argument("--work", type=Path, default=Path("/tmp/parley-bench-index"))
    parser.add_argument(
        "--sample-files", type=int, default=20, help="corpus files for the overhead figure"
    )
    parser.add_argument(
        "--index-embedder",
        choices=["model", "stand-in"],
        default="model",
        help="what embeds the large indexes (see above)",
    )
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--only-overhead", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    embedder: Embedder = (
        default_embedder() if args.index_embedder == "model" else StandInEmbedder(384)
    )
    figures = {}
    if args.corpus:
        queries = write_corpus(args.corpus, args.work / "docs")
        if not args.skip_overhead:
            figures["overhead"] = overhead_figures(args.work / "docs", args.work, args.sample_files)
        if not args.only_overhead:
            figures["corpus"] = corpus_figures(args.work / "docs", queries, args.work, embedder)
    if args.pg_docs:
        figures["html"] = html_figures(args.pg_docs, args.work, embedder)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    report(figures)


def report(figures: dict) -> None:
    if "overhead" in figures:
        o = figures["overhead"]
        print(
            f"overhead on {o['sample_passages']} passages: indexer {o['index_passages_per_s']:.1f}"
            f" passages/s, embedder alone {o['embedder_passages_per_s']:.1f} passages/s,"
            f" overhead {o['overhead_pct']:.1f}% wall, {o['overhead_cpu_pct']:.1f}% CPU"
        )
    if "corpus" in figures:
        c = figures["corpus"]
        print(
            f"corpus ({c['index_embedder']} vectors): {c['passages']:,} passages in {c['files']}"
            f" files, first index {c['index_s']:.1f} s, unchanged re-index"
            f" {c['unchanged_reindex_s']:.2f} s; hybrid query p50 {c['query_p50_ms']:.1f} ms,"
            f" p99 {c['query_p99_ms']:.1f} ms"
        )
    if "html" in figures:
        h = figures["html"]
        print(
            f"html ({h['index_embedder']} vectors): {h['files']} pages"
            f" ({len(h['skipped'])} skipped), {h['passages']:,} passages, first index"
            f" {h['first_index_s']:.1f} s, unchanged re-index {h['unchanged_reindex_s']:.2f} s"
        )


if __name__ == "__main__":
    main()
