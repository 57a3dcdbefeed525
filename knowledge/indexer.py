"""Incremental indexing: only what changed is parsed and embedded.

A manifest (size, mtime, sha256 per file) sits in the lexical index's SQLite file.
A file's passages are written to both stores before its manifest row, so a run killed
at any point leaves an index that answers, and the next run redoes only the files whose
rows are missing or stale (stable passage ids make the redo idempotent). A flag set
before a run's first write and cleared at its end tells the next run whether to look
for vectors stranded by a kill: that check opens Chroma's whole index, which an
unchanged re-index should not pay for.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import chunk_document
from .embed import Embedder, embedding_text
from .errors import LoadError
from .lexical import LexicalIndex
from .loaders import SUPPORTED_SUFFIXES, load_document
from .store import VectorStore
from .types import Passage

__all__ = ["DEFAULT_EMBED_BATCH", "IndexReport", "Indexer", "ProgressCallback"]

ProgressCallback = Callable[[str, int, int], None]
DEFAULT_EMBED_BATCH = 256  # passages embedded and written together, across files

MANIFEST_SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS index_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass
class IndexReport:
    """What a run did; ``passages`` is the total in the index afterwards."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _PendingFile:
    """A parsed file waiting for its passages to be embedded and written."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    passages: list[Passage]


@dataclass(frozen=True)
class _ManifestRow:
    size: int
    mtime_ns: int
    sha256: str


def _walk(roots: Sequence[Path]) -> Iterator[Path]:
    """Files under the roots, in a stable order, skipping hidden files and folders."""
    for root in roots:
        if root.is_file():
            yield root
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    yield Path(folder) / name


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


class Indexer:
    """Brings both stores in line with the files under some roots."""

    def __init__(
        self,
        lexical: LexicalIndex,
        vectors: VectorStore,
        embedder: Embedder,
        *,
        batch_size: int = DEFAULT_EMBED_BATCH,
    ) -> None:
        self._lexical = lexical
        self._vectors = vectors
        self._embedder = embedder
        self._batch_size = batch_size
        self._db = lexical.connection
        with self._db:
            self._db.executescript(MANIFEST_SCHEMA)

    def run(self, paths: Sequence[Path], progress: ProgressCallback | None = None) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        roots = []
        for root in (p.resolve() for p in paths):
            if root.exists():
                roots.append(root)
            else:  # left out of removal too: a typo or an unmounted disk must not wipe files
                report.skipped.append((root.as_posix(), "no such file or folder"))
        manifest = self._manifest()
        files = list(_walk(roots))
        pending: list[_PendingFile] = []
        waiting = 0  # passages in ``pending``
        seen: set[str] = set()
        for done, path in enumerate(files, 1):
            # roots are resolved, so only a symlinked file needs resolving (as loaders do)
            source = (path.resolve() if path.is_symlink() else path).as_posix()
            seen.add(source)
            item = self._examine(path, source, manifest.get(source), report)
            if item is not None:
                pending.append(item)
                waiting += len(item.passages)
                if source in manifest:
                    report.changed += 1
                else:
                    report.added += 1
                if waiting >= self._batch_size:
                    self._flush(pending)
                    pending, waiting = [], 0
            if progress:
                progress(source, done, len(files))
        self._flush(pending)
        report.removed = self._remove_missing(manifest, seen, [r.as_posix() for r in roots])
        self._drop_orphans([r.as_posix() for r in roots])
        self._set_writing(False)
        report.passages = self._lexical.count()
        report.seconds = time.perf_counter() - started
        return report

    def _manifest(self) -> dict[str, _ManifestRow]:
        rows = self._db.execute("SELECT path, size, mtime_ns, sha256 FROM manifest")
        return {path: _ManifestRow(size, mtime, sha) for path, size, mtime, sha in rows}

    def _examine(
        self, path: Path, source: str, known: _ManifestRow | None, report: IndexReport
    ) -> _PendingFile | None:
        """A _PendingFile when the file is new or changed; None when unchanged or skipped."""
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.skipped.append((source, f"unsupported file type {path.suffix or '(none)'!r}"))
            return None
        try:
            stat = path.stat()
            if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                report.unchanged += 1
                return None
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            report.skipped.append((source, f"cannot read the file: {exc.strerror or exc}"))
            return None
        if known and known.sha256 == digest:  # touched, not changed
            with self._db:
                self._db.execute(
                    "UPDATE manifest SET size = ?, mtime_ns = ? WHERE path = ?",
                    (stat.st_size, stat.st_mtime_ns, source),
                )
            report.unchanged += 1
            return None
        try:
            passages = chunk_document(load_document(path))
        except LoadError as exc:
            reason = str(exc)
            if known:  # its old passages describe content the file no longer has
                self._forget(source)
                reason += " (its earlier passages were removed)"
            report.skipped.append((source, reason))
            return None
        return _PendingFile(source, stat.st_size, stat.st_mtime_ns, digest, passages)

    def _flush(self, pending: list[_PendingFile]) -> None:
        """Embed and write every pending passage, then retire old ones and record the files."""
        passages = [p for f in pending for p in f.passages]
        if pending:
            self._set_writing(True)
        if passages:
            vectors = self._embedder.embed([embedding_text(p) for p in passages])
            self._vectors.upsert(passages, vectors)
            self._lexical.upsert(passages)
        for item in pending:
            fresh = {p.id for p in item.passages}
            stale = [i for i in self._lexical.ids_for_source(item.path) if i not in fresh]
            self._delete(stale)
            with self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO manifest (path, size, mtime_ns, sha256)"
                    " VALUES (?, ?, ?, ?)",
                    (item.path, item.size, item.mtime_ns, item.sha256),
                )

    def _remove_missing(
        self, manifest: dict[str, _ManifestRow], seen: set[str], roots: list[str]
    ) -> int:
        gone = [path for path in manifest if path not in seen and _under(path, roots)]
        for path in gone:
            self._forget(path)
        return len(gone)

    def _forget(self, source: str) -> None:
        """Drop a file's passages, then its manifest row (so a kill in between is redone)."""
        self._delete(self._lexical.ids_for_source(source))
        with self._db:
            self._db.execute("DELETE FROM manifest WHERE path = ?", (source,))

    def _drop_orphans(self, roots: list[str]) -> None:
        """Passages an interrupted run wrote for files it never recorded, and stray vectors."""
        recorded = set(self._manifest())
        for source in self._lexical.sources():
            if source not in recorded and _under(source, roots):
                self._delete(self._lexical.ids_for_source(source))
        if self._was_writing() and self._vectors.count() != self._lexical.count():
            stored = list(self._vectors.ids())
            known = set(self._lexical.get(stored))
            self._vectors.delete([i for i in stored if i not in known])

    def _was_writing(self) -> bool:
        row = self._db.execute("SELECT value FROM index_state WHERE name = 'writing'").fetchone()
        return bool(row and row[0])

    def _set_writing(self, writing: bool) -> None:
        if writing != self._was_writing():
            with self._db:
                self._db.execute(
                    "INSERT OR REPLACE INTO index_state (name, value) VALUES ('writing', ?)",
                    (int(writing),),
                )

    def _delete(self, ids: list[str]) -> None:
        if ids:
            self._set_writing(True)
            self._vectors.delete(ids)
            self._lexical.delete(ids)
