"""Incremental indexing: only what changed is parsed and embedded.

The manifest (size, mtime, sha256 per file) lives in the lexical database. In a changed
file, a passage with the same id and title as before keeps its stored vector; the rest
are embedded in batches of ``batch_size`` taken in file order, across small files and
through a long one, so memory stays bounded and a long file reports its progress. A
batch's vectors go to Chroma at once, but nothing a search shows changes until a file
is complete: then, in one lexical transaction, its new passages and manifest row appear
and its old passages disappear (dense hits without a lexical row are never shown), and
its stale vectors are deleted after. So a search sees each file's old passages or its
new ones, and a run interrupted at any point keeps every file it finished; the next run
redoes only the rest (stable passage ids make the redo idempotent). A flag set before a
run's first write and cleared at its end tells the next run whether to look for vectors
stranded by a kill: that check opens Chroma's whole index, which an unchanged re-index
should not pay for.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .chunking import chunk_document
from .embed import Embedder, embedding_text
from .errors import LoadError
from .lexical import FileRecord, LexicalIndex
from .loaders import SUPPORTED_SUFFIXES, load_document
from .store import VectorStore
from .types import Passage

__all__ = [
    "DEFAULT_EMBED_BATCH",
    "IndexReport",
    "Indexer",
    "PassageCallback",
    "ProgressCallback",
]

# (path, files done, files in the run): called as each file is finished (written,
# found unchanged, or skipped), so ``done`` files are safely in the index
ProgressCallback = Callable[[str, int, int], None]
# (path, passages embedded, passages in the file): called after each embedded batch for
# every file in it, so a progress bar moves through a long file
PassageCallback = Callable[[str, int, int], None]
DEFAULT_EMBED_BATCH = 256  # passages embedded and written together, across files


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
    """A parsed file whose new passages are being embedded; written once all of them are.
    ``passages`` is everything the file will hold, ``fresh`` the ones not yet in the
    index with the same id and title (the others keep their stored vectors)."""

    record: FileRecord
    passages: list[Passage]
    fresh: list[Passage]
    embedded: int = 0

    @property
    def complete(self) -> bool:
        return self.embedded == len(self.fresh)


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
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._lexical = lexical
        self._vectors = vectors
        self._embedder = embedder
        self._batch_size = batch_size
        self._embedder_checked = False
        self._writing = False

    def run(
        self,
        paths: Sequence[Path],
        progress: ProgressCallback | None = None,
        on_passages: PassageCallback | None = None,
    ) -> IndexReport:
        started = time.perf_counter()
        report = IndexReport()
        roots = []
        for root in (p.resolve() for p in paths):
            if root.exists():
                roots.append(root)
            else:  # left out of removal too: a typo or an unmounted disk must not wipe files
                report.skipped.append((root.as_posix(), "no such file or folder"))
        known = self._lexical.files()
        files = list(_walk(roots))
        done = 0

        def finished(source: str) -> None:
            nonlocal done
            done += 1
            if progress:
                progress(source, done, len(files))

        pending: deque[_PendingFile] = deque()
        waiting = 0  # passages in ``pending`` not embedded yet
        seen: set[str] = set()
        for path in files:
            # roots are resolved, so only a symlinked file needs resolving (as loaders do)
            source = (path.resolve() if path.is_symlink() else path).as_posix()
            seen.add(source)
            item = self._examine(path, source, known.get(source), report)
            if item is None:
                finished(source)
                continue
            if source in known:
                report.changed += 1
            else:
                report.added += 1
            pending.append(item)
            waiting += len(item.fresh)
            while waiting >= self._batch_size:
                waiting -= self._embed_batch(pending, finished, on_passages)
        while pending:
            self._embed_batch(pending, finished, on_passages)
        report.removed = self._remove_missing(known, seen, [r.as_posix() for r in roots])
        self._drop_stray_vectors()
        report.passages = self._lexical.count()
        report.seconds = time.perf_counter() - started
        return report

    def _examine(
        self, path: Path, source: str, known: FileRecord | None, report: IndexReport
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
        record = FileRecord(source, stat.st_size, stat.st_mtime_ns, digest)
        if known and known.sha256 == digest:  # touched, not changed
            self._lexical.touch_file(record)
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
        # a passage's id hashes its file, place and text, and its vector embeds its title,
        # headings and text: same id and title, same vector (the embedder is checked)
        stored = self._lexical.passage_titles(source) if known else {}
        fresh = [p for p in passages if stored.get(p.id) != p.title]
        return _PendingFile(record, passages, fresh)

    def _embed_batch(
        self,
        pending: deque[_PendingFile],
        finished: Callable[[str], None],
        on_passages: PassageCallback | None,
    ) -> int:
        """Embed the next ``batch_size`` passages in file order and store their vectors,
        then write every file that is now complete; returns how many were embedded."""
        batch: list[tuple[_PendingFile, list[Passage]]] = []
        room = self._batch_size
        for item in pending:
            if room == 0:
                break
            taken = item.fresh[item.embedded : item.embedded + room]
            if taken:
                batch.append((item, taken))
                room -= len(taken)
        passages = [p for _, taken in batch for p in taken]
        if passages:
            if not self._embedder_checked:
                self._lexical.check_embedder(self._embedder.name, self._embedder.dim, record=True)
                self._embedder_checked = True
            self._set_writing()
            vectors = self._embedder.embed([embedding_text(p) for p in passages])
            self._vectors.upsert(passages, vectors)
        for item, taken in batch:
            item.embedded += len(taken)
            if on_passages:
                on_passages(item.record.path, item.embedded, len(item.fresh))
        while pending and pending[0].complete:
            item = pending.popleft()
            self._set_writing()
            self._delete_vectors(self._lexical.replace_file(item.record, item.passages))
            finished(item.record.path)
        return len(passages)

    def _remove_missing(
        self, known: dict[str, FileRecord], seen: set[str], roots: list[str]
    ) -> int:
        gone = [path for path in known if path not in seen and _under(path, roots)]
        for path in gone:
            self._forget(path)
        return len(gone)

    def _forget(self, source: str) -> None:
        """Drop a file's passages and record together, then their vectors."""
        self._set_writing()
        self._delete_vectors(self._lexical.forget_file(source))

    def _drop_stray_vectors(self) -> None:
        """Vectors a killed run wrote for passages it never committed (or left behind
        after deleting their passages); clears the flag that says to look for them."""
        if not self._lexical.was_writing():
            return
        if self._vectors.count() != self._lexical.count():
            stored = list(self._vectors.ids())
            known = set(self._lexical.get(stored))
            self._vectors.delete([i for i in stored if i not in known])
        self._lexical.set_writing(False)

    def _set_writing(self) -> None:
        if not self._writing:
            self._lexical.set_writing(True)
            self._writing = True

    def _delete_vectors(self, ids: list[str]) -> None:
        if ids:
            self._vectors.delete(ids)
