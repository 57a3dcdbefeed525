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

A run can be stopped early (Ctrl-C, a bot shutting down): a progress callback raises
IndexStopped, and the run ends at its next step (after at most ``EMBED_STEP`` passages
more) with every finished file written, the rest left as it was, and the report marked
``stopped``. The vectors it embedded for files it did not finish stay in the vector
store and are named in the lexical database (``pending_vectors``), so the next run
embeds only what is left, after a stop or a kill alike.

A store that has lost vectors (its folder deleted, a Chroma server restarted empty) is
noticed when the run is asked to ``check_vectors``: the store holding fewer vectors
than the passages need, each file with passages whose vectors are gone is parsed again
and those passages alone are embedded, even when the file is unchanged. The caller asks
for it when the check is cheap or the loss likely (see ``KnowledgeBase.index``):
opening an embedded Chroma costs a second an unchanged re-index need not pay.

A ``force`` run parses and embeds every file again, changed or not, and writes each
over its old passages and vectors (same ids) the same way: for when the vectors are no
longer to be trusted (an embedder upgraded under the same name, a damaged vector
store). Stopped, it keeps the files it finished; the rest keep their old vectors.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_mode
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunking import chunk_document
from .embed import Embedder, embedding_text
from .errors import IndexStopped, LoadError
from .lexical import FileRecord, LexicalIndex
from .loaders import SUPPORTED_SUFFIXES, load_document
from .store import VectorStore
from .types import Passage

__all__ = [
    "DEFAULT_EMBED_BATCH",
    "EMBED_STEP",
    "IndexReport",
    "Indexer",
    "PassageCallback",
    "ProgressCallback",
    "not_regular",
]

# (path, files done, files in the run): called as each file is finished (written,
# found unchanged, or skipped), so ``done`` files are safely in the index
ProgressCallback = Callable[[str, int, int], None]
# (path, passages embedded, passages in the file): called after each embedded batch for
# every file in it, so a progress bar moves through a long file
PassageCallback = Callable[[str, int, int], None]
DEFAULT_EMBED_BATCH = 256  # passages embedded and written together, across files
# passages embedded at once within a batch, between two looks at whether to stop: one
# step takes well under a second on two cores, so a stop is felt at once
EMBED_STEP = 16


@dataclass
class IndexReport:
    """What a run did; ``passages`` is the total in the index afterwards. A ``stopped``
    run counts only the files it finished, removed nothing, and kept the vectors of
    ``pending`` passages of files it did not finish, for the next run. ``reembedded``
    counts the unchanged files embedded again: by a ``force`` run, or for vectors the
    store had lost (``restored`` counts those passages)."""

    added: int = 0
    changed: int = 0
    reembedded: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False
    pending: int = 0
    restored: int = 0


@dataclass(eq=False)  # one per file: told apart by identity
class _PendingFile:
    """A parsed file whose new passages are being embedded; written once all of them are.
    ``passages`` is everything the file will hold, ``fresh`` the ones not yet in the
    index with the same id and title (the others keep their stored vectors)."""

    record: FileRecord
    passages: list[Passage]
    fresh: list[Passage]
    new: bool  # not in the index before (added), or in it (changed)
    same: bool = False  # its content is unchanged: a forced run embeds it again
    embedded: int = 0

    @property
    def complete(self) -> bool:
        return self.embedded == len(self.fresh)


def _walk(roots: Sequence[Path]) -> Iterator[Path]:
    """Files under the roots, in a stable order, skipping hidden files and folders. A
    root that is not a folder is yielded as it is, for ``_examine`` to take or report."""
    for root in roots:
        if not root.is_dir():
            yield root
            continue
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if not name.startswith("."):
                    yield Path(folder) / name


def not_regular(mode: int) -> str | None:
    """Why an existing file cannot be indexed (or attached), or None for a regular file: reading a
    named pipe or a device blocks until someone writes to it, or never ends."""
    if stat_mode.S_ISREG(mode):
        return None
    if stat_mode.S_ISFIFO(mode):
        return "not a regular file (a named pipe)"
    if stat_mode.S_ISSOCK(mode):
        return "not a regular file (a socket)"
    if stat_mode.S_ISCHR(mode) or stat_mode.S_ISBLK(mode):
        return "not a regular file (a device)"
    return "not a regular file"


def _unreadable(path: Path, exc: OSError) -> str:
    """Why a file could not be read; a link to nothing (or to itself) is named as such."""
    if path.is_symlink() and not path.exists():
        return f"a broken link (to {os.readlink(path)})"
    return f"cannot read the file: {exc.strerror or exc}"


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
        check_vectors: bool = False,
    ) -> None:
        """``check_vectors``: before the run, look for passages whose vectors the store
        has lost and embed them again (opens the vector store)."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._lexical = lexical
        self._vectors = vectors
        self._embedder = embedder
        self._batch_size = batch_size
        self._writing = False
        self._force = False
        self._check_vectors = check_vectors
        self._stored_vectors: set[str] | None = None  # when some are missing: those left

    def run(
        self,
        paths: Sequence[Path],
        progress: ProgressCallback | None = None,
        on_passages: PassageCallback | None = None,
        *,
        force: bool = False,
    ) -> IndexReport:
        """``force``: treat every file as changed and embed all its passages again."""
        started = time.perf_counter()
        self._force = force
        report = IndexReport()
        self._stopping = False
        # first, even when nothing will be embedded: an index of another embedder's
        # vectors cannot be searched by meaning, and "unchanged" would hide that
        self._lexical.check_embedder(self._embedder.name, self._embedder.dim, record=True)
        if self._check_vectors and not force:
            self._stored_vectors = self._vectors_if_some_lost()
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
                self._tell(progress, source, done, len(files))

        pending: deque[_PendingFile] = deque()
        waiting = 0  # passages in ``pending`` not embedded yet
        seen: set[str] = set()
        for path in files:
            if self._stopping:
                break
            # roots are resolved, so only a symlinked file needs resolving (as loaders do);
            # a broken link is reported under its own name, its target being nowhere
            source = (path.resolve() if path.is_symlink() and path.exists() else path).as_posix()
            seen.add(source)
            item = self._examine(path, source, known.get(source), report)
            if item is None:
                finished(source)
                continue
            pending.append(item)
            waiting += len(item.fresh) - item.embedded
            while waiting >= self._batch_size and not self._stopping:
                waiting -= self._embed_batch(pending, finished, on_passages, report)
        while pending and not self._stopping:
            self._embed_batch(pending, finished, on_passages, report)
        if self._stopping:  # the rest stays as it was, and the stray check for next time
            self._write_complete(pending, finished, report)  # e.g. with every vector pending
            report.stopped = True
            report.pending = sum(item.embedded for item in pending)
        else:
            report.removed = self._remove_missing(known, seen, [r.as_posix() for r in roots])
            self._drop_stray_vectors([r.as_posix() for r in roots])
        report.passages = self._lexical.count()
        report.seconds = time.perf_counter() - started
        return report

    def _tell(self, callback: Callable[[str, int, int], None], *args: object) -> None:
        """Call a progress callback; IndexStopped from it stops the run at its next step
        (what is being written now is finished first)."""
        try:
            callback(*args)  # type: ignore[arg-type]
        except IndexStopped:
            self._stopping = True

    def _examine(
        self, path: Path, source: str, known: FileRecord | None, report: IndexReport
    ) -> _PendingFile | None:
        """A _PendingFile when the file is new or changed; None when unchanged or skipped."""
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.skipped.append((source, f"unsupported file type {path.suffix or '(none)'!r}"))
            return None
        try:
            stat = path.stat()  # follows a symlink: one to a regular file is indexed
            if reason := not_regular(stat.st_mode):  # never opened: reading could block
                self._skip(source, reason, known, report)
                return None
            same_stat = known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns)
            lost = self._lost_vectors(source) if known else 0
            if same_stat and not (self._force or lost):
                report.unchanged += 1
                return None
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            report.skipped.append((source, _unreadable(path, exc)))
            return None
        record = FileRecord(source, stat.st_size, stat.st_mtime_ns, digest)
        if known and known.sha256 == digest and not (self._force or lost):  # touched only
            self._lexical.touch_file(record)
            report.unchanged += 1
            return None
        try:
            passages = chunk_document(load_document(path))
        except LoadError as exc:
            self._skip(source, str(exc), known, report)
            return None
        # a passage's id hashes its file, place and text, and its vector embeds its title,
        # headings and text: same id and title, same vector (the embedder is checked).
        # The vectors are in the store for the file's written passages, and for those a
        # stopped or killed run embedded before it could write the file.
        stored = {}
        if not self._force:
            stored = self._lexical.passage_titles(source) if known else {}
            stored |= self._lexical.pending_titles(source)
        if self._stored_vectors is not None:  # a title kept is no vector kept
            stored = {i: title for i, title in stored.items() if i in self._stored_vectors}
        fresh = [p for p in passages if stored.get(p.id) != p.title]
        same = known is not None and known.sha256 == digest
        report.restored += lost if same else 0  # a changed file's lost ones are gone anyway
        return _PendingFile(record, passages, fresh, new=known is None, same=same)

    def _vectors_if_some_lost(self) -> set[str] | None:
        """The ids in the vector store when it holds fewer vectors than the passages
        and the pending ones need (it lost some); None when it holds them all."""
        needed = self._lexical.count() + len(self._lexical.pending())
        if not needed or self._vectors.count() >= needed:
            return None
        return self._vectors.ids()

    def _lost_vectors(self, source: str) -> int:
        """How many of a file's written passages have no vector in the store."""
        if self._stored_vectors is None:
            return 0
        return sum(1 for i in self._lexical.passage_titles(source) if i not in self._stored_vectors)

    def _skip(
        self, source: str, reason: str, known: FileRecord | None, report: IndexReport
    ) -> None:
        """Report a file that cannot be indexed; its old passages describe content the
        file no longer has, so they go."""
        if known:
            self._forget(source)
            reason += " (its earlier passages were removed)"
        report.skipped.append((source, reason))

    def _embed_batch(
        self,
        pending: deque[_PendingFile],
        finished: Callable[[str], None],
        on_passages: PassageCallback | None,
        report: IndexReport,
    ) -> int:
        """Embed the next ``batch_size`` passages in file order, ``EMBED_STEP`` at a time
        (a stop is looked for between steps), store their vectors, then write every file
        that is now complete; returns how many were embedded (fewer when the run is
        stopping: those are stored and named pending, so none is embedded twice)."""
        batch: list[tuple[_PendingFile, list[Passage]]] = []
        room = self._batch_size
        for item in pending:
            if room == 0:
                break
            taken = item.fresh[item.embedded : item.embedded + room]
            if taken:
                batch.append((item, taken))
                room -= len(taken)
        # each step holds passages of similar length, as the embedder groups them itself,
        # so stopping between steps costs little padding
        texts = {p.id: embedding_text(p) for _, taken in batch for p in taken}
        queue = sorted(
            ((item, p) for item, taken in batch for p in taken), key=lambda e: len(texts[e[1].id])
        )
        done: list[tuple[_PendingFile, Passage]] = []
        vectors: list[np.ndarray] = []
        for start in range(0, len(queue), EMBED_STEP):
            if self._stopping:
                break
            step = queue[start : start + EMBED_STEP]
            vectors.append(self._embed([texts[p.id] for _, p in step]))
            done += step
            for item in dict.fromkeys(item for item, _ in step):
                item.embedded += sum(1 for owner, _ in step if owner is item)
                if on_passages:
                    self._tell(on_passages, item.record.path, item.embedded, len(item.fresh))
        if done:  # one write for the batch (a Chroma write costs ~0.2 s however small)
            self._vectors.upsert([p for _, p in done], np.concatenate(vectors))
            for item in dict.fromkeys(item for item, _ in done):
                self._lexical.add_pending(item.record.path, [p for o, p in done if o is item])
        self._write_complete(pending, finished, report)
        return len(done)

    def _write_complete(
        self, pending: deque[_PendingFile], finished: Callable[[str], None], report: IndexReport
    ) -> None:
        """Write the files at the head of ``pending`` whose passages are all embedded."""
        while pending and pending[0].complete:
            item = pending.popleft()
            self._set_writing()
            self._delete_vectors(self._lexical.replace_file(item.record, item.passages))
            report.added += item.new
            report.reembedded += item.same
            report.changed += not (item.new or item.same)
            finished(item.record.path)

    def _embed(self, texts: list[str]) -> np.ndarray:
        self._set_writing()
        return self._embedder.embed(texts)

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

    def _drop_stray_vectors(self, roots: list[str]) -> None:
        """Vectors a killed or stopped run wrote for passages never committed (or left
        behind after deleting their passages); clears the flag that says to look for
        them. This complete run wrote every file under its roots, so what is still
        pending there is stale; files elsewhere keep their pending vectors."""
        stale = sorted({s for s in self._lexical.pending().values() if _under(s, roots)})
        if stale:  # e.g. a file a stopped run began that is gone now
            self._set_writing()
            self._delete_vectors(self._lexical.drop_pending(stale))
        if not self._lexical.was_writing():
            return
        pending = self._lexical.pending()
        if self._vectors.count() != self._lexical.count() + len(pending):
            stored = list(self._vectors.ids())
            known = set(self._lexical.get(stored)) | set(pending)
            self._vectors.delete([i for i in stored if i not in known])
        self._lexical.set_writing(False)

    def _set_writing(self) -> None:
        if not self._writing:
            self._lexical.set_writing(True)
            self._writing = True

    def _delete_vectors(self, ids: list[str]) -> None:
        if ids:
            self._vectors.delete(ids)
