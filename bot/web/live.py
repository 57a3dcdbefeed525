"""The leaderboard as viewers see it: refitted at most every few seconds, not per request.

A board (plain and style-controlled scores, the judge's grades) and its pairwise
matrices are kept per channel and tie rule. A request older than ``interval`` seconds
since the last check starts one refresh in the background and is answered from the
board in hand: the refresh asks the store whether any vote or thumb arrived (a cheap
query) and refits only if one did. A refit also waits twice its own length since the
last one, so on a big arena (seconds per fit) fitting takes at most a third of the time
however many people watch. Only the very first request for a board waits for its fit.
What was drawn from a board is kept with it (``Rendered``), so a warm page is not drawn
again until the board changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from arena.leaderboard import TieRule
from arena.trends import PairMatrix

from ..service import Board, Service

__all__ = ["BoardCache", "LiveBoard", "Rendered"]

log = logging.getLogger(__name__)

Key = tuple[str | None, TieRule]


@dataclass(frozen=True)
class LiveBoard:
    """A fitted board, the pair matrices of all its rated models, the channels a board
    can be chosen from, and when it was made."""

    board: Board
    matrix: PairMatrix
    version: tuple
    fitted_at: float  # wall clock, for "updated at"
    channels: list[str] = field(default_factory=list)


class Rendered:
    """What was drawn from a board, by query, while that board is the current one: the
    viewers of one board mostly ask for the same few views."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._kept: OrderedDict[Hashable, tuple[LiveBoard, Any]] = OrderedDict()

    def get(self, key: Hashable, board: LiveBoard) -> Any:
        kept = self._kept.get(key)
        if kept is None or kept[0] is not board:
            return None
        self._kept.move_to_end(key)
        return kept[1]

    def put(self, key: Hashable, board: LiveBoard, drawn: Any) -> Any:
        self._kept[key] = (board, drawn)
        self._kept.move_to_end(key)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return drawn


@dataclass
class _Entry:
    live: LiveBoard
    checked: float  # monotonic: when the store was last asked whether votes changed
    next_fit: float  # monotonic: no refit before this
    refreshing: asyncio.Task | None = None


class BoardCache:
    """See the module docstring."""

    def __init__(
        self,
        service: Service,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._interval = interval
        self._clock = clock
        self._entries: dict[Key, _Entry] = {}
        self._first: dict[Key, asyncio.Task] = {}

    def warm(self, channel: str | None = None, ties: TieRule = "model") -> asyncio.Task:
        """Start fitting a board now (at start-up), so its first viewer waits less."""
        task = asyncio.create_task(self.get(channel, ties))
        task.add_done_callback(_report_failure)
        return task

    async def get(self, channel: str | None, ties: TieRule = "model") -> LiveBoard:
        key = (channel, ties)
        entry = self._entries.get(key)
        if entry is None:  # the first viewer waits; others asking meanwhile share the fit
            task = self._first.get(key) or asyncio.create_task(self._fit(key))
            self._first[key] = task
            try:
                entry = self._entries[key] = await asyncio.shield(task)
            finally:
                self._first.pop(key, None)
            return entry.live
        now = self._clock()
        if entry.refreshing is None and now - entry.checked >= self._interval:
            entry.refreshing = asyncio.create_task(self._refresh(key, entry))
        return entry.live

    async def _fit(self, key: Key, version: tuple | None = None) -> _Entry:
        channel, ties = key
        started = self._clock()
        if version is None:
            version = await self._service.insights.version()
        board = await self._service.leaderboard(channel, style=True, judge=True, ties=ties)
        rated = [r.model for r in board.rows if r.score is not None]
        matrix = await self._service.insights.pair_matrix(rated, channel, ties)
        channels = await self._service.insights.channels()
        done = self._clock()
        live = LiveBoard(board, matrix, version, time.time(), channels)
        return _Entry(live, done, done + max(self._interval, 2 * (done - started)))

    async def _refresh(self, key: Key, entry: _Entry) -> None:
        try:
            version = await self._service.insights.version()
            if version != entry.live.version and self._clock() >= entry.next_fit:
                self._entries[key] = await self._fit(key, version)
            else:  # nothing new, or too soon after the last fit: look again later
                entry.checked = self._clock()
        except Exception:  # a failed refit keeps the board in hand; the next check retries
            log.exception("refitting the dashboard's leaderboard failed")
            entry.checked = self._clock()
        finally:
            entry.refreshing = None


def _report_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("fitting the dashboard's first board failed", exc_info=task.exception())
