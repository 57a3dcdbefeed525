"""The service's read side for the dashboard: history, questions, gaps, audits, knowledge.

``Service.insights`` returns one of these, built over the service's own store and
settings, so a dashboard reads exactly what chat and the CLI read, under the same rules
(the daily vote cap, the configured judge). The arena computes the rows and figures
(``arena.insights``, ``arena.trends``); this class fetches, fits in worker threads and
keeps the costly history for a while. The leaderboard itself is ``Service.leaderboard``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arena.insights import AuditRecord, QuestionRecord, StoredAnswer
from arena.leaderboard import TieRule
from arena.store import Store
from arena.trends import (
    AuditGrades,
    PairMatrix,
    ScoreHistory,
    TopicGroup,
    audit_grades,
    pair_matrix,
    score_history,
    topic_groups,
)
from knowledge.status import KnowledgeStatus
from knowledge.types import IndexProgress

__all__ = [
    "GAP_REASONS",
    "HISTORY_MAX_AGE",
    "HISTORY_POINTS",
    "Insights",
    "KnowledgeStatusFn",
    "KnowledgeView",
]

HISTORY_POINTS = 30  # refits per history: one per period
HISTORY_MAX_AGE = 60.0  # seconds a history stays shown while votes keep arriving
# thumbs-down reasons (keys of ``messages.THUMB_REASONS``) that say the documents lack
# the answer: a knowledge gap, whatever the answer said
GAP_REASONS: tuple[str, ...] = ("not_in_docs",)

KnowledgeStatusFn = Callable[[], KnowledgeStatus]


@dataclass(frozen=True)
class KnowledgeView:
    """The index as stored (None when this Parley has no knowledge base), and the
    re-index this process is running, if any."""

    status: KnowledgeStatus | None
    running: IndexProgress | None


class Insights:
    """Reads for the dashboard over one store; see the module docstring."""

    def __init__(
        self,
        store: Store,
        *,
        daily_cap: int | None,
        reindex_status: Callable[[], IndexProgress | None],
        knowledge_status: KnowledgeStatusFn | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._daily_cap = daily_cap
        self._reindex_status = reindex_status
        self._knowledge_status = knowledge_status
        self._clock = clock
        self._histories: dict[tuple, tuple[tuple, float, ScoreHistory]] = {}

    async def version(self) -> tuple:
        """Changes whenever a vote or thumb arrives (see ``Store.votes_version``)."""
        return await self._store.votes_version()

    async def channels(self) -> list[str]:
        """Channels with votes, for a board filtered to one of them."""
        return await self._store.vote_channels()

    async def pair_matrix(
        self, models: Sequence[str], channel: str | None = None, ties: TieRule = "model"
    ) -> PairMatrix:
        """Win fractions and battle counts between ``models``, from the votes that count."""
        counts = await self._store.pair_counts(channel, daily_cap=self._daily_cap)
        return pair_matrix(counts, models, ties)

    async def history(self, channel: str | None = None, ties: TieRule = "model") -> ScoreHistory:
        """Every model's score over time (``HISTORY_POINTS`` refits, in a worker thread).

        Reading every vote costs seconds at a million, so a history is kept until votes
        change and then for up to ``HISTORY_MAX_AGE`` more seconds.
        """
        key = (channel, ties)
        version = await self.version()
        kept = self._histories.get(key)
        if kept and (kept[0] == version or self._clock() - kept[1] < HISTORY_MAX_AGE):
            return kept[2]
        periods = await self._store.vote_periods(HISTORY_POINTS, channel, daily_cap=self._daily_cap)
        history = await asyncio.to_thread(score_history, periods, ties)
        self._histories[key] = (version, self._clock(), history)
        return history

    async def model_answers(self, model: str, limit: int = 20) -> list[StoredAnswer]:
        return await self._store.model_answers(model, limit)

    async def model_thumbs_down(self, model: str) -> list[tuple[str | None, int]]:
        """(reason, count) of the model's thumbs-down; a reason is a key of
        ``messages.THUMB_REASONS`` or the user's own words, None for none."""
        return await self._store.model_thumbs_down(model)

    async def model_grades(self, model: str, audits: int = 50) -> list[AuditGrades]:
        """The model's judge grades per criterion in each of the last ``audits`` audits."""
        return audit_grades(await self._store.audits(audits), model)

    async def model_known(self, model: str) -> bool:
        return await self._store.model_known(model)

    async def audits(self, limit: int = 50) -> list[AuditRecord]:
        """Stored audit reports, newest first, each as ``Service.audit`` returned it."""
        return await self._store.audits(limit)

    async def questions(
        self, limit: int = 50, *, before: int | None = None, search: str | None = None
    ) -> list[QuestionRecord]:
        """Recent questions with answers, sources, votes and thumbs; ``search`` filters
        by text in the question or an answer."""
        return await self._store.recent_questions(limit, before=before, search=search)

    async def unanswered(self, limit: int = 500) -> list[TopicGroup]:
        """The newest questions the knowledge base could not answer, grouped by topic:
        the documents the team should write next."""
        questions = await self._store.unanswered_questions(limit, reasons=GAP_REASONS)
        return await asyncio.to_thread(topic_groups, questions)

    async def knowledge(self) -> KnowledgeView:
        """Indexed sources, the last run (time, skipped files and why), and progress."""
        read = self._knowledge_status
        status = await asyncio.to_thread(read) if read else None
        return KnowledgeView(status, self._reindex_status())
