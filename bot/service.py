"""The platform-neutral core: an Ask becomes a Reply, a click becomes a stored vote.

Slack, Discord, the console and the CLI all call this one class, so every surface
stores the same rows and shows the same answers. Retrieval happens once per question
and every contestant answers from the same passages, so a battle compares models,
not retrievals.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from arena.answers import answer_question
from arena.matchmaking import choose_contestants
from arena.roster import Roster
from arena.store import Store, VoteResult
from arena.types import Answer, Choice, Question, Turn
from knowledge.types import Hit

from . import messages

__all__ = [
    "DEFAULT_CHECKS",
    "Ask",
    "Check",
    "Reply",
    "SearchFn",
    "Service",
    "ShownAnswer",
    "reject_empty",
    "retrieval_query",
]

SearchFn = Callable[[str, int], Sequence[Hit]]


@dataclass(frozen=True)
class Ask:
    """A question as any chat surface delivers it."""

    text: str
    user: str
    channel: str
    thread: str | None
    platform: str


@dataclass
class ShownAnswer:
    """An answer as the user sees it: under its label, with the id a thumb or vote names."""

    answer_id: int
    label: str
    answer: Answer


@dataclass
class Reply:
    """What the adapter renders: one answer (thumbs) or two anonymous ones (A/B votes).

    ``notices`` carries plain-language problems, such as a model that failed, so the user
    learns what happened without a stack trace.
    """

    question_id: int
    answers: list[ShownAnswer]
    battle_id: int | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def is_battle(self) -> bool:
        return self.battle_id is not None


Check = Callable[[Ask], Awaitable[str | None]]


async def reject_empty(ask: Ask) -> str | None:
    """Stop before retrieval when there is nothing to answer."""
    return messages.empty_question() if not ask.text.strip() else None


DEFAULT_CHECKS: tuple[Check, ...] = (reject_empty,)


def retrieval_query(text: str, history: list[Turn]) -> str:
    """What to search for: a follow-up ("and when does it run?") names its subject only in
    the thread, so the previous question rides along; models still see the exact question."""
    previous = next((t.text for t in reversed(history) if t.role == "user"), "")
    return f"{previous}\n{text}" if previous else text


class Service:
    """Wires retrieval, the roster, matchmaking and the store; owns no I/O of its own."""

    def __init__(
        self,
        *,
        search: SearchFn,
        roster: Roster,
        store: Store,
        top_k: int,
        battle_share: float,
        channel_battle_share: dict[str, float] | None = None,
        history_turns: int = 10,
        checks: Sequence[Check] = DEFAULT_CHECKS,
        rng: random.Random | None = None,
    ) -> None:
        self._search = search
        self._roster = roster
        self._store = store
        self._top_k = top_k
        self._battle_share = battle_share
        self._channel_battle_share = channel_battle_share or {}
        self._history_turns = history_turns
        self._checks = checks
        self._rng = rng or random.Random()

    @property
    def default_model(self) -> str:
        """The model a one-shot ``parley ask`` uses when none is named: the roster's first."""
        return self._roster.names[0]

    async def ask(self, ask: Ask, *, model: str | None = None) -> Reply:
        """Answer a question: one model, or a battle of two when matchmaking says so."""
        for check in self._checks:
            refusal = await check(ask)
            if refusal:
                return Reply(question_id=0, answers=[], notices=[refusal])
        history = (
            await self._store.thread_history(
                ask.platform, ask.channel, ask.thread, limit=self._history_turns
            )
            if ask.thread
            else []
        )
        query = retrieval_query(ask.text, history)
        hits = list(await asyncio.to_thread(self._search, query, self._top_k))
        question = Question(text=ask.text, hits=hits, history=history)
        names = [model] if model else await self._pick(ask.channel)
        contestants = [self._roster.get(name) for name in names]
        answers = await asyncio.gather(*(answer_question(c, question) for c in contestants))
        question_id = await self._store.record_question(
            platform=ask.platform,
            channel=ask.channel,
            user=ask.user,
            thread=ask.thread,
            text=ask.text,
            hits=hits,
        )
        ids = [await self._store.record_answer(question_id, a) for a in answers]
        return await self._reply(question_id, list(zip(ids, answers, strict=True)))

    async def _pick(self, channel: str) -> list[str]:
        share = self._channel_battle_share.get(channel, self._battle_share)
        counts = await self._store.pair_counts() if share > 0 else []
        return choose_contestants(self._roster.names, counts, battle_share=share, rng=self._rng)

    async def _reply(self, question_id: int, stored: list[tuple[int, Answer]]) -> Reply:
        ok = [(i, a) for i, a in stored if a.ok]
        notices = [a.error for _, a in stored if a.error]
        if len(ok) == 2:
            battle_id = await self._store.record_battle(question_id, ok[0][0], ok[1][0])
            shown = [
                ShownAnswer(i, f"Model {label}", a) for (i, a), label in zip(ok, "AB", strict=True)
            ]
            return Reply(question_id, shown, battle_id=battle_id)
        if not ok:
            return Reply(question_id, [], notices=[messages.all_models_failed(notices)])
        answer_id, answer = ok[0]
        return Reply(question_id, [ShownAnswer(answer_id, answer.model, answer)], notices=notices)

    async def vote(self, battle_id: int, user: str, choice: Choice) -> VoteResult:
        """Store one user's vote (a changed mind replaces it); the result reveals the names."""
        return await self._store.record_vote(battle_id, user, choice)

    async def thumb(self, answer_id: int, user: str, value: int) -> None:
        """Store a thumbs up (+1) or down (-1); one per user per answer."""
        await self._store.record_thumb(answer_id, user, value)
