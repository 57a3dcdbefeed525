"""The platform-neutral core: every operation a user can reach, in one class.

Slack, Discord, the console and the CLI all call this one class (ask, vote, thumb,
leaderboard, re-index, the roster's status), so every surface stores the same rows,
shows the same answers and refuses non-admins the same way. A contestant is a whole
pipeline: the knowledge base is searched once per distinct retrieval setting among a
question's contestants, and contestants with the same setting answer from the same
passages, so a battle between two models on one pipeline compares the models alone
(``bot.retrieval``). CPU-bound work (search, the indexer, ratings and the chart) runs
in worker threads, so the event loop stays free for acknowledgements.
The dashboard's reads and the audit load their stacks when first used, so a report
such as ``parley leaderboard`` starts without them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from arena.answers import OnText, answer_question
from arena.errors import StoreError, VoteRefused
from arena.hygiene import battle_exclusion, default_identity_words
from arena.judge import DEFAULT_SAMPLE, OFFLINE, build_judge
from arena.leaderboard import (
    Intervals,
    Leaderboard,
    LeaderboardRow,
    TieRule,
    build_board,
)
from arena.matchmaking import choose_steered
from arena.roster import Roster, identify
from arena.store import JudgeSummary, Store, VoteResult
from arena.types import Answer, Choice
from knowledge.errors import KnowledgeError
from knowledge.types import IndexProgress

from . import messages
from .access import Requester, is_admin
from .asks import DEFAULT_CHECKS, Ask, Check, Reply, ShownAnswer, reject_empty
from .attachments import Attachment, AttachmentDesk
from .charts import leaderboard_png
from .claims import Claims
from .config import Settings
from .errors import BotError, NotAllowed, NotRecorded
from .flags import SentenceFlag, flags_for
from .reindex import IndexFn, ProgressFn, Reindexer
from .retrieval import PipelineRetrieval, RelevanceFn, SearchFn, offline_gate
from .roster_status import ModelCheck, ModelStatus, check_contestant, model_statuses

if TYPE_CHECKING:
    from knowledge.indexer import IndexReport
    from knowledge.web import WebSource

    from .insights import Insights, KnowledgeStatusFn

__all__ = [
    "DEFAULT_CHECKS",
    "MAX_REASON_CHARS",
    "Ask",
    "Attachment",
    "Board",
    "Check",
    "ModelCheck",
    "ModelStatus",
    "Reply",
    "SearchFn",
    "Service",
    "ShownAnswer",
    "TitlesFn",
    "reject_empty",
]

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 500  # a thumbs-down reason is a sentence, not an essay
HISTORY_TURNS = 10  # earlier turns of a thread a follow-up question is asked with

TitlesFn = Callable[[int], Sequence[str]]


@dataclass(frozen=True)
class Board:
    """A leaderboard (rows best first, and what it says as a whole), and the chart as PNG
    bytes when asked for."""

    leaderboard: Leaderboard
    channel: str | None = None
    chart_png: bytes | None = None
    # with ``judge``: the judge's grades per model, shown beside the votes, never mixed in
    judged: dict[str, JudgeSummary] | None = None
    # each rated name's pipeline settings, as recorded with its answers
    pipelines: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def rows(self) -> list[LeaderboardRow]:
        return self.leaderboard.rows


class Service:
    """Wires retrieval, the roster, matchmaking and the store; owns no I/O of its own."""

    def __init__(
        self,
        settings: Settings,
        *,
        search: SearchFn,
        roster: Roster,
        store: Store,
        index: IndexFn | None = None,
        titles: TitlesFn | None = None,
        knowledge_status: KnowledgeStatusFn | None = None,
        web: WebSource | None = None,
        relevant: RelevanceFn = offline_gate,
        checks: Sequence[Check] = DEFAULT_CHECKS,
        rng: random.Random | None = None,
    ) -> None:
        """``settings`` says how it behaves (battle shares, admins, caps, the judge...),
        read where each is used, so a new setting touches only the settings and that
        place; the rest are the collaborators, which tests replace: ``search`` the
        knowledge base, ``web`` the search engine (None: none configured), ``relevant``
        the gate a ``fallback`` pipeline asks before searching the web."""
        self._settings = settings
        self._retrieval = PipelineRetrieval(
            search, web=web, relevant=relevant, private_channels=settings.web.private_channels
        )
        self._roster = roster
        self._identified = asyncio.Lock()  # held while the roster is being identified
        self._roster_ready = False
        self._store = store
        self._attachments = AttachmentDesk(store, max_bytes=settings.attachment_max_bytes)
        self._checks = checks
        self._rng = rng or random.Random()
        self._reindexer = Reindexer(index) if index else None
        self._titles = titles
        # what the knowledge base holds and how its last run went, for ``insights``
        self._knowledge_status = knowledge_status
        self._identity_words = {
            **default_identity_words(c.spec for c in roster.entries),
            **settings.identity_words,
        }
        self._daily_cap = settings.max_votes_per_user_per_day
        self._bootstrap_rounds = settings.bootstrap_rounds
        self._provisional_votes = settings.provisional_votes
        self._judge = settings.judge

    @property
    def default_model(self) -> str:
        """The model a one-shot ``parley ask`` uses when none is named: the roster's first
        (a ConfigError saying why when no model is ready)."""
        self._roster.require_ready()
        return self._roster.names[0]

    async def ask(
        self, ask: Ask, *, model: str | None = None, on_text: OnText | None = None
    ) -> Reply:
        """Answer a question: one model, or a battle of two when matchmaking says so.

        ``on_text`` sees a single hosted model's answer as it grows (adapters edit it
        in); battles never stream, so both answers arrive whole and anonymous. Files
        attached to it or earlier in its thread join its passages (``bot.attachments``).
        """
        attached = await self._attachments.gather(ask)
        if ask.attachments and await reject_empty(ask):
            return Reply(question_id=0, answers=[], notices=attached.receipt(bool(ask.thread)))
        for check in self._checks:
            refusal = await check(ask)
            if refusal:
                return Reply(question_id=0, answers=[], notices=[refusal])
        history = (
            await self._store.thread_history(
                ask.platform, ask.channel, ask.thread, limit=HISTORY_TURNS
            )
            if ask.thread
            else []
        )
        roster = await self._ready_roster()
        roster.require_ready()
        names = [model] if model else await self._pick(ask.channel)
        contestants = [roster.get(name) for name in names]
        try:
            retrieved = await self._retrieval.retrieve(
                ask.text, history, ask.channel, contestants, attached.passages
            )
        except KnowledgeError as exc:  # e.g. the Chroma server is down: say so, keep running
            log.warning("search failed for a question in %s: %s", ask.channel, exc)
            return Reply(question_id=0, answers=[], notices=[messages.search_unavailable()])
        stream = on_text if len(contestants) == 1 else None
        answers = await asyncio.gather(
            *(answer_question(c, retrieved.questions[c.name], on_text=stream) for c in contestants)
        )
        single = [a for a in answers if a.ok]
        checking = (
            asyncio.create_task(flags_for(single[0]))
            if len(single) == 1 and self._flags_on(ask.channel)
            else None
        )
        try:
            question_id = await self._store.record_question(
                platform=ask.platform,
                channel=ask.channel,
                user=ask.user,
                thread=ask.thread,
                text=ask.text,
                hits=retrieved.hits,
            )
            ids = [
                await self._store.record_answer(question_id, a, c.settings)
                for c, a in zip(contestants, answers, strict=True)
            ]
        except BaseException:  # nothing stored, nothing shown: the check is not awaited
            if checking:
                checking.cancel()
            raise
        flags = await checking if checking else None
        reply = await self._reply(question_id, list(zip(ids, answers, strict=True)), flags)
        reply.notices[:0] = attached.notices
        return reply

    async def _ready_roster(self) -> Roster:
        """The roster with each contestant's rated identity, read from the store once: an
        entry whose settings changed answers as a new contestant (``arena.roster``)."""
        async with self._identified:
            if not self._roster_ready:
                self._roster = await identify(self._roster, self._store)
                for c in self._roster.entries:  # hygiene looks answers up by that name
                    self._identity_words.setdefault(c.name, self._identity_words[c.spec.name])
                self._roster_ready = True
        return self._roster

    async def topics(self, limit: int = 3) -> list[str]:
        """What the knowledge base is mostly about (its biggest documents' titles), for
        suggested questions; empty when there is no index to ask."""
        return list(await asyncio.to_thread(self._titles, limit)) if self._titles else []

    async def in_conversation(self, platform: str, channel: str, thread: str) -> bool:
        """Whether Parley was asked or read a file in this thread: follow-ups need no @."""
        place = (platform, channel, thread)
        return bool(await self._store.thread_history(*place, limit=1)) or bool(
            await self._store.thread_attachments(*place)
        )

    async def _pick(self, channel: str) -> list[str]:
        """Steered by the votes: single answers mostly from the best-rated model, battles
        between the pairs whose next vote most sharpens the top of the board."""
        settings = self._settings
        share = settings.channel_battle_share.get(channel, settings.battle_share)
        channel_counts = await self._store.pair_counts(channel, daily_cap=self._daily_cap)
        overall = await self._store.pair_counts(daily_cap=self._daily_cap)
        return await asyncio.to_thread(  # fits a small model
            choose_steered,
            self._roster.names,
            channel_counts,
            overall,
            battle_share=share,
            rng=self._rng,
            exploration=settings.exploration_share,
            min_channel_votes=settings.steer_min_channel_votes,
        )

    def _flags_on(self, channel: str) -> bool:
        settings = self._settings
        return settings.channel_faithfulness_flags.get(channel, settings.faithfulness_flags)

    async def _reply(
        self,
        question_id: int,
        stored: list[tuple[int, Answer]],
        flags: list[SentenceFlag] | None = None,
    ) -> Reply:
        ok = [(i, a) for i, a in stored if a.ok]
        notices = [a.error for _, a in stored if a.error]
        if len(ok) == 2:  # a battle whose answer names its model is kept, but not rated
            excluded = battle_exclusion([(a.model, a.text) for _, a in ok], self._identity_words)
            battle_id = await self._store.record_battle(
                question_id, ok[0][0], ok[1][0], excluded=excluded
            )
            shown = [
                ShownAnswer(i, f"Model {label}", a) for (i, a), label in zip(ok, "AB", strict=True)
            ]
            return Reply(question_id, shown, battle_id=battle_id)
        if not ok:
            return Reply(question_id, [], notices=[messages.all_models_failed(notices)])
        answer_id, answer = ok[0]
        shown = ShownAnswer(answer_id, answer.model, answer, flags)
        return Reply(question_id, [shown], notices=notices)

    # --- votes and thumbs --------------------------------------------------------------

    async def vote(
        self, battle_id: int, user: str, choice: Choice, *, platform: str, channel: str
    ) -> VoteResult:
        """Store one user's vote (a changed mind replaces it); the result reveals the names.

        ``platform`` and ``channel`` say where the click came from: a battle is voted on
        only where it was shown, so a forged button carrying another channel's (or another
        platform's) battle id cannot reach a battle its voter may not see. Raises
        VoteRefused for an unknown battle or choice, or a foreign one (the user's mistake:
        nothing is stored); NotRecorded when the store cannot write it (the disk is full).
        """
        if choice not in messages.CHOICE_LABELS:
            raise VoteRefused(f"unknown vote {choice!r}")
        place = await self._store.battle_place(battle_id)
        if place is not None and place != (platform, channel):
            raise VoteRefused(messages.foreign_battle())
        try:
            return await self._store.record_vote(battle_id, user, choice)
        except StoreError as exc:
            log.error("vote on battle %s by %s was not recorded: %s", battle_id, user, exc)
            raise NotRecorded(messages.vote_not_recorded()) from exc

    async def thumb(self, answer_id: int, user: str, value: int, reason: str | None = None) -> None:
        """Store a thumbs up (+1) or down (-1), one per user per answer. A thumbs-down may
        say why: one of ``messages.THUMB_REASONS`` or the user's own words."""
        reason = " ".join(reason.split())[:MAX_REASON_CHARS] if reason and value < 0 else None
        try:
            await self._store.record_thumb(answer_id, user, value, reason or None)
        except StoreError as exc:
            log.error("thumb on answer %s by %s was not recorded: %s", answer_id, user, exc)
            raise NotRecorded(messages.vote_not_recorded()) from exc

    # --- leaderboard -------------------------------------------------------------------

    async def leaderboard(
        self,
        channel: str | None = None,
        *,
        chart: bool = False,
        intervals: Intervals = "sandwich",
        style: bool = False,
        judge: bool = False,
        ties: TieRule = "model",
    ) -> Board:
        """Ratings from the stored votes, overall or for one channel (fitted in a worker
        thread); with ``chart`` and any rated model, the PNG too (``bot.charts``, also in
        a thread: matplotlib is slow). A board without counted votes has no rows.
        ``ties="half"`` counts a tie as half a win each, as lmarena.ai does."""
        board = await build_board(
            self._store,
            channel=channel,
            rounds=self._bootstrap_rounds,
            provisional_votes=self._provisional_votes,
            intervals=intervals,
            style=style,
            daily_cap=self._daily_cap,
            ties=ties,
        )
        png = await asyncio.to_thread(leaderboard_png, board.rows) if chart and board.rows else None
        judged = None
        if judge:  # the configured judge's grades, from every channel
            summaries = await self._store.judge_summary(self._judge or OFFLINE)
            judged = {s.model: s for s in summaries}
        return Board(board, channel, png, judged, await self._store.pipeline_settings())

    @cached_property
    def insights(self) -> Insights:
        """The dashboard's reads (history, questions, gaps, audits, knowledge), kept in
        ``bot.insights`` so this class stays the door, not the whole house."""
        from .insights import Insights  # trends and stemming: only the dashboard reads them

        return Insights(
            self._store,
            daily_cap=self._daily_cap,
            reindex_status=lambda: self.reindex_status,
            knowledge_status=self._knowledge_status,
        )

    @cached_property
    def claims(self) -> Claims:
        """Work done once across the instances sharing this store (``bot.claims``): a
        chat message answered, a scheduled audit's period."""
        return Claims(self._store)

    # --- audits -----------------------------------------------------------------------

    async def audit(
        self, *, sample: int = DEFAULT_SAMPLE, since: float = 0.0, judge: str | None = None
    ) -> dict:
        """Grade answers not yet audited (thumbs-down first) and their canaries with the
        configured judge (or ``judge``, a roster model); store and return the report."""
        from arena.judge.audit import run_audit  # the grading stack, for audits only

        chosen = build_judge(judge or self._judge, self._roster, self._settings.judge_timeout)
        return await run_audit(self._store, chosen, sample=sample, since=since, rng=self._rng)

    async def latest_audit(self) -> dict | None:
        """The last audit's report, or None before the first."""
        return await self._store.latest_audit()

    # --- re-index ----------------------------------------------------------------------

    @property
    def reindex_status(self) -> IndexProgress | None:
        """The running re-index (who, since when, how far), or None."""
        return self._reindexer.status if self._reindexer else None

    def may_reindex(self, requester: Requester) -> bool:
        return is_admin(requester, self._settings.admins)

    async def reindex(
        self,
        requester: Requester,
        paths: Sequence[Path] | None = None,
        on_progress: ProgressFn | None = None,
        *,
        stop: asyncio.Event | None = None,
        force: bool = False,
    ) -> IndexReport:
        """Bring the index in line with ``paths`` (default: the configured sources);
        ``force`` embeds every file again, unchanged ones too (a new embedder build, a
        damaged vector store).

        Admins only (NotAllowed otherwise, and nothing runs); one at a time (ReindexBusy
        says whose is running). Questions keep being answered meanwhile. Setting ``stop``
        ends the run at its next step with every finished file kept; the report says
        ``stopped`` and what it kept.
        """
        if not self.may_reindex(requester):
            raise NotAllowed(messages.not_admin())
        if self._reindexer is None:
            raise BotError(messages.no_knowledge_base())
        targets = list(paths) if paths else self._settings.sources
        if not targets:
            raise BotError(messages.no_sources())
        return await self._reindexer.run(requester, targets, on_progress, stop, force=force)

    # --- the roster --------------------------------------------------------------------

    async def models(self) -> list[ModelStatus]:
        """Every configured model, ready or not, and the pipeline each answers with; a
        ready one under the name it is rated under (the leaderboard's)."""
        return model_statuses(await self._ready_roster())

    async def check_models(self) -> list[ModelCheck]:
        """Send each ready model a tiny request, all at once, and report who answered."""
        roster = await self._ready_roster()  # named as models() names them
        return list(await asyncio.gather(*map(check_contestant, roster.entries)))
