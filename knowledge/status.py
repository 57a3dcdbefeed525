"""What the knowledge base holds and how its indexing went, as any process can read it.

An index run records itself beside the index (``LexicalIndex.write_state``): while it
goes, its progress, written at most once per ``PROGRESS_INTERVAL``; when it ends, its
report (when, what changed, what was skipped and why). So a process that only reads the
index, such as ``parley web`` beside the bot that re-indexes, shows the same progress and
the same last run as the process doing the work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .errors import IndexStoreError
from .indexer import IndexReport, ProgressCallback
from .lexical import LexicalIndex

__all__ = [
    "PROGRESS_INTERVAL",
    "IndexProgress",
    "IndexRun",
    "IndexedSource",
    "KnowledgeStatus",
    "RunRecorder",
    "read_status",
]

PROGRESS_INTERVAL = 1.0  # seconds between progress writes: a row per file would be a lot
log = logging.getLogger(__name__)

_LAST_RUN = "last_run"
_PROGRESS = "progress"


@dataclass(frozen=True)
class IndexedSource:
    """One indexed file: its title, how many passages it gave, its size and mtime."""

    path: str
    title: str
    passages: int
    size: int
    modified: float  # seconds since the epoch


@dataclass(frozen=True)
class IndexRun:
    """A finished run: when, what it did, and each skipped file with its reason."""

    started_at: float
    finished_at: float
    added: int
    changed: int
    removed: int
    unchanged: int
    passages: int
    seconds: float
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class IndexProgress:
    """A run under way (or one killed before it could say it ended: see ``updated_at``)."""

    started_at: float
    updated_at: float
    done: int = 0
    total: int = 0
    current: str = ""


@dataclass(frozen=True)
class KnowledgeStatus:
    """What the index holds, how the last run went, and the run going on now, if any."""

    sources: list[IndexedSource]
    passages: int
    last_run: IndexRun | None
    progress: IndexProgress | None


def read_status(lexical: LexicalIndex) -> KnowledgeStatus:
    """The status as stored beside the index."""
    sources = [
        IndexedSource(path, title, passages, size, mtime_ns / 1e9)
        for path, title, passages, size, mtime_ns in lexical.sources()
    ]
    run = lexical.read_state(_LAST_RUN)
    progress = lexical.read_state(_PROGRESS)
    return KnowledgeStatus(
        sources,
        sum(s.passages for s in sources),
        _run(run) if isinstance(run, dict) else None,
        IndexProgress(**progress) if isinstance(progress, dict) else None,
    )


def _run(stored: dict) -> IndexRun:
    skipped = [(str(path), str(reason)) for path, reason in stored.pop("skipped", [])]
    return IndexRun(**stored, skipped=skipped)


class RunRecorder:
    """Records one run's progress (throttled) and, at its end, its report."""

    def __init__(
        self,
        lexical: LexicalIndex,
        *,
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lexical = lexical
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._written = float("-inf")
        self._save(IndexProgress(self._started, self._started))

    def progress(self, forward: ProgressCallback | None) -> ProgressCallback:
        """A progress callback that records the run's progress, then calls ``forward``."""

        def record(path: str, done: int, total: int) -> None:
            now = self._clock()
            if done == total or now - self._written >= self._interval:
                self._save(IndexProgress(self._started, now, done, total, path))
            if forward:
                forward(path, done, total)

        return record

    def finished(self, report: IndexReport | None) -> None:
        """The run ended (``report`` None: it failed); forget its progress, keep its report."""
        try:
            self._record(report)
        except IndexStoreError as exc:  # the index itself is sound; only the record is lost
            log.warning("could not record the index run's report: %s", exc)

    def _record(self, report: IndexReport | None) -> None:
        if report is not None:
            run = IndexRun(
                self._started,
                self._clock(),
                report.added,
                report.changed,
                report.removed,
                report.unchanged,
                report.passages,
                round(report.seconds, 3),
                list(report.skipped),
            )
            self._lexical.write_state(_LAST_RUN, asdict(run))
        self._lexical.write_state(_PROGRESS, None)

    def _save(self, progress: IndexProgress) -> None:
        self._written = progress.updated_at
        try:
            self._lexical.write_state(_PROGRESS, asdict(progress))
        except IndexStoreError as exc:  # progress is a courtesy: the run itself goes on
            log.warning("could not record the index run's progress: %s", exc)
