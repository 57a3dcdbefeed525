"""The knowledge base as the rest of Parley sees it: open, index, search, close."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .embed import Embedder, MiniLMEmbedder, default_embedder
from .errors import EmbedderMismatch, IndexBusy, IndexStoreError
from .indexer import DEFAULT_EMBED_BATCH, Indexer, IndexReport, PassageCallback, ProgressCallback
from .lexical import LexicalIndex
from .lock import IndexLock
from .retrieve import Mode, Retriever
from .status import KnowledgeStatus, RunRecorder, read_status
from .store import VectorStore
from .types import Hit

if TYPE_CHECKING:
    from .pg_lexical import PgLexicalIndex
    from .pg_lock import RunLock

__all__ = ["IndexHealth", "KnowledgeBase", "deferred"]

T = TypeVar("T")


class _Deferred:
    """Stands in for an object that is costly to build, and builds it on first use,
    once, even when several threads (searches, an index run) ask at the same time."""

    def __init__(self, build: Callable[[], Any], known: dict[str, Any]) -> None:
        self._build = build
        self._built: Any = None
        self._building = threading.Lock()
        self.__dict__.update(known)  # read as they are, without building

    def __getattr__(self, name: str) -> Any:  # only called for names not set above
        if self._built is None:
            with self._building:
                if self._built is None:
                    self._built = self._build()
        return getattr(self._built, name)


def _open_vectors(index_dir: Path, chroma_host: str | None, chroma_port: int) -> VectorStore:
    if chroma_host:
        return VectorStore.http(chroma_host, chroma_port)
    return VectorStore.persistent(index_dir / "chroma")


def _writable(folder: Path) -> bool:
    """Whether Chroma could open its folder: the folder and its database writable."""
    database = folder / "chroma.sqlite3"
    return os.access(folder, os.W_OK) and (not database.exists() or os.access(database, os.W_OK))


def _vectors_gone(folder: Path) -> bool:
    """Whether an embedded Chroma's database is missing (its folder deleted, say): then
    it holds no vector, and opening it would only create an empty one."""
    return not (folder / "chroma.sqlite3").is_file()


def _missing_vectors(folder: Path) -> str:
    return (
        f"the vectors in {folder} are missing (was the folder deleted?); `parley index`"
        " on the indexed paths embeds them again"
    )


def _read_only_vectors(folder: Path) -> str:
    return (
        f"the vectors in {folder} cannot be searched: Chroma writes to its folder as it"
        " opens, and this one is read-only (copy the data directory somewhere writable"
        " to search by meaning too)"
    )


def _refuse(reason: str) -> VectorStore:
    raise IndexStoreError(reason)


def deferred(build: Callable[[], T], **known: Any) -> T:
    """``build()``'s result, built only when first used: loading the model or opening
    Chroma takes seconds, and an unchanged re-index or a lexical search needs neither.
    ``known`` are attributes the caller knows it will have, read without building it."""
    return cast(T, _Deferred(build, known))


def _default_embedder() -> Embedder:
    """The offline embedder, loaded on first use; its name and dimension (the class's)
    are known at once, so an index run checks them against the index's unloaded."""
    return deferred(default_embedder, name=MiniLMEmbedder.name, dim=MiniLMEmbedder.dim)


@dataclass(frozen=True)
class IndexHealth:
    """Passages in the lexical index and vectors in the vector store (as many as the
    passages and the ``pending`` ones together when sound; 0 when an embedded store's
    database is gone; None when the vectors cannot be opened, see
    ``KnowledgeBase.open``), and why the configured embedder cannot search this index
    ("" when it can)."""

    passages: int
    vectors: int | None
    embedder_mismatch: str = ""
    # vectors a stopped or killed run embedded for files it did not write (see Indexer)
    pending: int = 0


class KnowledgeBase:
    """Both indexes of one data directory (or a Chroma server), behind four methods.

    Safe to share between threads: searches may run on worker threads while ``index``
    runs on another, and see each file's old passages or its new ones. Only one process
    writes an index folder at a time (``IndexLock``): a long-lived process such as the
    bot opens it with ``hold=True`` and keeps that right until ``close``; any other
    process takes it for the length of one ``index`` call and is refused (IndexBusy)
    while someone else holds it. Searching needs no lock.

    On PostgreSQL (``database_url``) the passages live in a database that any number of
    instances share, and ``run_lock`` (an advisory lock) lets one re-index run at a time
    across all of them, taken for the length of each run.
    """

    def __init__(
        self,
        lexical: LexicalIndex | PgLexicalIndex,
        vectors: VectorStore,
        embedder: Embedder,
        *,
        lock: IndexLock | None = None,
        dense_unavailable: str = "",
        run_lock: RunLock | None = None,
        vectors_folder: Path | None = None,
    ) -> None:
        """``vectors_folder`` is an embedded Chroma's folder (None: a server's, or a
        store given as it is), so a lost store is noticed without opening it."""
        self._lexical = lexical
        self._vectors = vectors
        self._embedder = embedder
        self._retriever = Retriever(embedder, vectors, lexical)  # type: ignore[arg-type]
        self._lock = lock
        self._run_lock = run_lock
        self._indexing = threading.Lock()  # one index run at a time in this process
        self._embedder_checked = False
        self._vectors_folder = vectors_folder
        self._unopenable = dense_unavailable  # a read-only folder: see ``open``

    @classmethod
    def open(
        cls,
        index_dir: Path,
        *,
        chroma_host: str | None = None,
        chroma_port: int = 8000,
        embedder: Embedder | None = None,
        hold: bool = False,
        read_only: bool = False,
        database_url: str | None = None,
    ) -> KnowledgeBase:
        """Open (creating if needed) the index in ``index_dir``. With ``hold``, take the
        right to write it now and keep it until ``close`` (IndexBusy if another process
        has it), so no ``parley index`` from elsewhere can write under a running bot.

        ``read_only`` (a copy for reporting, a backup mount) creates and writes nothing,
        and an index that is not there is an error. Chroma writes as it opens, so an
        embedded Chroma in a folder that cannot be written is not opened at all: searches
        there rank by words alone and ``dense_unavailable`` says why.

        With ``database_url`` (PostgreSQL) the passages, the manifest and lexical search
        live in that database (DatabaseUnavailable when it cannot be reached), and a
        re-index takes the deployment-wide lock for its length, whatever ``hold`` says.
        With a Chroma server too, nothing is kept in ``index_dir``; with embedded Chroma
        the folder lock still guards the vectors there. ``read_only`` there reads in
        read-only transactions and neither creates nor upgrades the tables."""
        if read_only:
            return cls._open_read_only(index_dir, chroma_host, chroma_port, embedder, database_url)
        lock = None
        if not (database_url and chroma_host):
            index_dir.mkdir(parents=True, exist_ok=True)
            lock = IndexLock(index_dir)
            if hold:
                lock.acquire()
        run_lock = None
        try:
            if database_url:
                from .pg_lexical import PgLexicalIndex
                from .pg_lock import RunLock

                lexical: LexicalIndex | PgLexicalIndex = PgLexicalIndex.open(database_url)
                run_lock = RunLock(lexical.database)
            else:
                lexical = LexicalIndex(index_dir / "lexical.db")
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        vectors = deferred(partial(_open_vectors, index_dir, chroma_host, chroma_port))
        return cls(
            lexical,  # type: ignore[arg-type]
            vectors,
            embedder or _default_embedder(),
            lock=lock,
            run_lock=run_lock,
            vectors_folder=None if chroma_host else index_dir / "chroma",
        )

    @classmethod
    def _open_read_only(
        cls,
        index_dir: Path,
        chroma_host: str | None,
        chroma_port: int,
        embedder: Embedder | None,
        database_url: str | None,
    ) -> KnowledgeBase:
        if database_url:
            from .pg_lexical import PgLexicalIndex

            lexical: LexicalIndex | PgLexicalIndex = PgLexicalIndex.open(
                database_url, read_only=True
            )
        else:
            lexical = LexicalIndex(index_dir / "lexical.db", read_only=True)
        folder = index_dir / "chroma"
        # a store that is gone is told apart at each search (``dense_unavailable``)
        sound = chroma_host or _vectors_gone(folder) or _writable(folder)
        unavailable = "" if sound else _read_only_vectors(folder)
        vectors = deferred(
            partial(_refuse, unavailable)
            if unavailable
            else partial(_open_vectors, index_dir, chroma_host, chroma_port)
        )
        return cls(
            lexical,  # type: ignore[arg-type]
            vectors,
            embedder or _default_embedder(),
            dense_unavailable=unavailable,
            vectors_folder=None if chroma_host else folder,
        )

    def index(
        self,
        paths: Sequence[Path],
        progress: ProgressCallback | None = None,
        *,
        batch_size: int = DEFAULT_EMBED_BATCH,
        on_passages: PassageCallback | None = None,
        requested_by: str = "",
        force: bool = False,
    ) -> IndexReport:
        """Bring the index in line with the files under ``paths``; see ``Indexer``. The run
        records its progress and its report beside the index (``knowledge.status``).
        ``force`` embeds every file again, unchanged ones too.

        Raises IndexBusy when another process holds the index, or another run is going
        on in this one (or, on PostgreSQL, anywhere in the deployment: then with its
        progress). ``requested_by`` names who asked, for those refused meanwhile.
        Raises EmbedderMismatch, before anything is read, when another embedder built
        the index: unchanged files would hide that its vectors cannot be searched."""
        if not self._indexing.acquire(blocking=False):
            raise IndexBusy("a re-index of this knowledge base is already running")
        try:
            taken = self._lock is not None and not self._lock.held
            if taken:
                self._lock.acquire()
            try:
                if self._run_lock is not None:
                    self._run_lock.acquire(requested_by)
                    progress, on_passages = _reported(self._run_lock, progress, on_passages)
                try:
                    indexer = Indexer(
                        self._lexical,  # type: ignore[arg-type]
                        self._vectors,
                        self._embedder,
                        batch_size=batch_size,
                        check_vectors=self._may_have_lost_vectors(),
                    )
                    recorder = RunRecorder(self._lexical)  # type: ignore[arg-type]
                    report = None
                    try:
                        report = indexer.run(
                            paths, recorder.progress(progress), on_passages, force=force
                        )
                    finally:
                        recorder.finished(report)
                    return report
                finally:
                    if self._run_lock is not None:
                        self._run_lock.release()
            finally:
                if taken:
                    self._lock.release()
        finally:
            self._indexing.release()

    @property
    def dense_unavailable(self) -> str:
        """Why the vectors cannot be searched ("" when they can): an embedded store whose
        database is gone (looked for at each call, a stat: so a search never creates an
        empty store in its place, and the vectors are searched again once an index run
        has embedded them), or a read-only folder (see ``open``). A process that opened
        the folder before the store was gone notices too."""
        if self._vectors_folder is not None and _vectors_gone(self._vectors_folder):
            if not self._lexical.count():  # the first run with passages creates the store
                return "nothing has been indexed yet"
            return _missing_vectors(self._vectors_folder)
        return self._unopenable

    def _may_have_lost_vectors(self) -> bool:
        """Whether a run should count the vectors first: always on a server (one request;
        it may have restarted empty), and for an embedded Chroma only when its database
        is gone, since opening it costs a second an unchanged re-index need not pay."""
        return self._vectors_folder is None or _vectors_gone(self._vectors_folder)

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        """The ``k`` best passages for ``query``; see ``Retriever.search``. Raises
        EmbedderMismatch when the index was built by another embedder. Without vectors
        (``dense_unavailable``) a hybrid search ranks by words alone and a dense one
        raises IndexStoreError."""
        unavailable = self.dense_unavailable
        if unavailable and mode != "lexical":
            if mode == "dense":
                raise IndexStoreError(unavailable)
            mode = "lexical"
        if mode != "lexical" and not self._embedder_checked:
            self._lexical.check_embedder(self._embedder.name, self._embedder.dim)
            self._embedder_checked = True
        return self._retriever.search(query, k, mode)

    @property
    def retriever(self) -> Retriever:
        """The ranking itself, for tools that compare fusions on the same candidates."""
        return self._retriever

    def titles(self, limit: int = 5) -> list[str]:
        """The biggest documents' titles, for suggesting what to ask."""
        return self._lexical.titles(limit)

    def count(self) -> int:
        """Passages in the index."""
        return self._lexical.count()

    def status(self) -> KnowledgeStatus:
        """The indexed files, the last run's report and a run's progress, read from the
        lexical index alone (neither Chroma nor the model is loaded)."""
        return read_status(self._lexical)

    def health(self) -> IndexHealth:
        """What ``parley doctor`` checks: both stores hold the same passages, and the
        configured embedder is the one that built the index (loads both)."""
        try:
            self._lexical.check_embedder(self._embedder.name, self._embedder.dim)
            mismatch = ""
        except EmbedderMismatch as exc:
            mismatch = str(exc)
        gone = self._vectors_folder is not None and _vectors_gone(self._vectors_folder)
        vectors = 0 if gone else None if self.dense_unavailable else self._vectors.count()
        pending = len(self._lexical.pending())
        return IndexHealth(self._lexical.count(), vectors, mismatch, pending)

    def close(self) -> None:
        self._lexical.close()
        if self._lock is not None:
            self._lock.release()
        if self._run_lock is not None:
            self._run_lock.release()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reported(
    run_lock: RunLock, progress: ProgressCallback | None, on_passages: PassageCallback | None
) -> tuple[ProgressCallback, PassageCallback]:
    """The run's callbacks, also telling the deployment how far it is."""

    def files(path: str, done: int, total: int) -> None:
        run_lock.files(path, done, total)
        if progress:
            progress(path, done, total)

    def passages(path: str, done: int, total: int) -> None:
        run_lock.passages(path, done, total)
        if on_passages:
            on_passages(path, done, total)

    return files, passages
