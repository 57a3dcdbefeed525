"""A question as every surface hands it to the service, the reply each renders, and the
checks that refuse a question before any search (``Service.ask`` runs them first; an
adapter may run one itself to refuse before it shows anything, as Slack's ``/ask``
does before posting)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from arena.types import Answer

from . import messages
from .attachments import Attachment
from .flags import SentenceFlag

__all__ = ["DEFAULT_CHECKS", "Ask", "Check", "Reply", "ShownAnswer", "reject_empty"]


@dataclass(frozen=True)
class Ask:
    """A question as any chat surface delivers it, with the files attached to it."""

    text: str
    user: str
    channel: str
    thread: str | None
    platform: str
    attachments: tuple[Attachment, ...] = ()


@dataclass
class ShownAnswer:
    """An answer as the user sees it: under its label, with the id a thumb or vote names.

    ``flags``: its claim sentences and which its sources support (``bot.flags``); None
    when it was not checked (a battle, a channel with the flags off, an answer the
    check cannot measure), which the surfaces show as nothing at all.
    """

    answer_id: int
    label: str
    answer: Answer
    flags: list[SentenceFlag] | None = None


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
    """Stop before retrieval when there is nothing to answer: no text, or fewer than two
    letters or digits ("+", "a", "?": a key pressed at the wrong prompt, which would
    otherwise be stored as a question the knowledge base could not answer)."""
    letters = sum(character.isalnum() for character in ask.text)
    return messages.empty_question() if letters < 2 else None


DEFAULT_CHECKS: tuple[Check, ...] = (reject_empty,)
