"""What the retrieval benchmark needs to compare lexical engines on one index.

``mirror`` copies the passages, manifest and embedder record of an SQLite index into
PostgreSQL, file by file and only where they differ, so both engines rank the very same
passages beside the very same vectors. ``add_distractors`` puts a corpus of unrelated
passages into an index (chunked as the indexer would, stand-in vectors as in
``bench_index.py``), so ranking and latency are measured at a larger scale.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bench_index import PASSAGES_PER_FILE, StandInEmbedder

from knowledge.chunking import chunk_document
from knowledge.embed import embedding_text
from knowledge.lexical import FileRecord, LexicalIndex
from knowledge.loaders import load_document
from knowledge.pg_lexical import PgLexicalIndex
from knowledge.store import VectorStore

__all__ = ["add_distractors", "mirror"]


def mirror(source: LexicalIndex, target: PgLexicalIndex, embedder: tuple[str, int]) -> int:
    """Make ``target`` hold what ``source`` holds; returns the files copied."""
    wanted, present = source.files(), target.files()
    copied = 0
    for path, record in wanted.items():
        if present.get(path) != record:
            passages = source.get(list(source.passage_titles(path)))
            target.replace_file(record, list(passages.values()))
            copied += 1
    for path in present.keys() - wanted.keys():
        target.forget_file(path)
    target.check_embedder(*embedder, record=True)
    return copied


def add_distractors(
    corpus: Path, folder: Path, lexical: LexicalIndex, vectors: VectorStore, dim: int
) -> int:
    """Index ``corpus`` (BEIR ``corpus.jsonl``) as Markdown files of fifty records under
    ``folder``, with stand-in vectors; files already indexed are skipped. Returns the
    passages added."""
    folder.mkdir(parents=True, exist_ok=True)
    known = lexical.files()
    stand_in = StandInEmbedder(dim)
    added = 0
    records = [json.loads(line) for line in corpus.open(encoding="utf-8") if line.strip()]
    for start in range(0, len(records), PASSAGES_PER_FILE):
        path = folder / f"part-{start // PASSAGES_PER_FILE:05d}.md"
        if path.as_posix() in known:
            continue
        chunk = records[start : start + PASSAGES_PER_FILE]
        path.write_text(
            "\n\n".join(f"# {d['title']} ({d['_id']})\n\n{d['text']}" for d in chunk),
            encoding="utf-8",
        )
        passages = chunk_document(load_document(path))
        vectors.upsert(passages, stand_in.embed([embedding_text(p) for p in passages]))
        stat, digest = path.stat(), hashlib.sha256(path.read_bytes()).hexdigest()
        record = FileRecord(path.as_posix(), stat.st_size, stat.st_mtime_ns, digest)
        lexical.replace_file(record, passages)
        added += len(passages)
    return added
