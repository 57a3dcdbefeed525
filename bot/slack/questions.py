"""A question answered in its Slack thread: the working sign, the service's answer
(streamed into one message when a hosted model writes it), the reply's messages, and
the sign taken away again. Mentions, DMs, follow-ups, ``/ask`` and the assistant panel
all end here; what the answer is, is the service's business.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from arena.errors import ArenaError
from knowledge.errors import KnowledgeError

from .. import messages
from ..errors import BotError
from ..service import Ask, Reply
from ..streaming import Throttled
from . import blocks
from .blocks import Message
from .web_api import DELIVERY_ERRORS, ephemeral, post, react, update, why

if TYPE_CHECKING:
    from .app import SlackBot

__all__ = [
    "EDIT_INTERVAL",
    "PLATFORM",
    "answer",
    "answer_follow_up",
    "answer_message",
    "reply_messages",
]

PLATFORM = "slack"
EDIT_INTERVAL = 1.0  # seconds between edits of a streaming answer (chat.update is Tier 3)
log = logging.getLogger(__name__)


async def answer(
    bot: SlackBot, channel: str, user: str, text: str, thread: str, *, react_to: str | None = None
) -> None:
    """Show that work started, ask the service, post the reply in the thread, and take
    the working sign away again."""
    client = bot.client
    if react_to:
        await react(client.reactions_add, channel, react_to)
    question_id = 0
    live: str | None = None  # the ts of the message a streaming answer is shown in

    async def show(partial: str) -> None:
        nonlocal live
        message = blocks.partial_message(partial)
        try:
            if live is None:
                live = (await post(client, channel, thread, message))["ts"]
            else:
                await update(client, channel, live, message)
        except DELIVERY_ERRORS as exc:  # the final message still comes
            log.warning("could not show a partial answer in %s: %s", channel, why(exc))

    try:
        reply = await bot.service.ask(
            Ask(text, user, channel, thread, PLATFORM), on_text=Throttled(show, EDIT_INTERVAL)
        )
    except (BotError, ArenaError, KnowledgeError) as exc:
        replies = [blocks.text_message(str(exc))]
    else:
        replies, question_id = reply_messages(text, reply), reply.question_id
    try:
        for message in replies:
            if live is None:
                await post(client, channel, thread, message)
            else:  # the first message takes the place of the partial answer
                await update(client, channel, live, message)
                live = None
    except DELIVERY_ERRORS as exc:  # Slack is down past the retries: the store has it
        log.error(
            "could not deliver the answer to question %s in %s: %s",
            question_id,
            channel,
            why(exc),
        )
        return
    if react_to:
        await react(client.reactions_remove, channel, react_to)


async def answer_message(bot: SlackBot, event: dict, text: str, thread: str) -> None:
    """Answer a person's message in ``thread``; a message that is only a file is told
    that Parley answers questions in words (in the thread of a DM, privately elsewhere)."""
    channel, user = event["channel"], event["user"]
    if not text and event.get("files"):
        hint = messages.files_not_read()
        if event.get("channel_type") == "im":
            await post(bot.client, channel, thread, blocks.text_message(hint))
        else:
            await ephemeral(bot.client, channel, user, hint, thread)
        return
    await answer(bot, channel, user, text, thread, react_to=event["ts"])


async def answer_follow_up(bot: SlackBot, event: dict, text: str) -> None:
    """A reply in a thread: answered (with the thread's history) when Parley answered
    in that thread before; anyone else's thread is left alone."""
    channel, thread = event["channel"], event["thread_ts"]
    if await bot.service.in_conversation(PLATFORM, channel, thread):
        await answer_message(bot, event, text, thread)
    else:
        log.debug("ignoring a thread reply in %s: Parley has not answered in that thread", channel)


def reply_messages(question: str, reply: Reply) -> list[Message]:
    """The service's Reply as the messages to post in the thread."""
    if reply.is_battle:
        assert reply.battle_id is not None
        return [blocks.battle_message(question, reply.answers, reply.battle_id)]
    if reply.answers:
        return blocks.answer_messages(reply.answers[0], reply.notices)
    return [blocks.notice_message(reply.notices)]
