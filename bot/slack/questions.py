"""A question answered in its Slack thread: the working sign, the service's answer
(streamed into one message when a hosted model writes it), the reply's messages, and
the sign taken away again. Mentions, DMs, follow-ups, ``/ask`` and the assistant panel
all end here; what the answer is, is the service's business, files attached to the
message included (``files``: a file alone is read, and the reply says what was read).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..attachments import Attachment
from ..errors import SAID_TO_USERS
from ..service import Ask, Reply
from ..streaming import Throttled
from . import blocks
from .blocks import Message
from .files import attachments_of
from .web_api import DELIVERY_ERRORS, post, react, update, why

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
    bot: SlackBot,
    channel: str,
    user: str,
    text: str,
    thread: str,
    *,
    react_to: str | None = None,
    files: tuple[Attachment, ...] = (),
) -> None:
    """Show that work started, ask the service (with the message's ``files``), post the
    reply in the thread, and take the working sign away again."""
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
            Ask(text, user, channel, thread, PLATFORM, files),
            on_text=Throttled(show, EDIT_INTERVAL),
        )
    except SAID_TO_USERS as exc:
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
    """Answer a person's message, and the files attached to it, in ``thread``."""
    files = await attachments_of(bot, event)
    await answer(
        bot, event["channel"], event["user"], text, thread, react_to=event["ts"], files=files
    )


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
