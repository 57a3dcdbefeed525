"""Answering a message for Parley (a mention, a message in a Parley thread, a DM) under a
claim, so that the instance taking the gateway over answers it if this one dies.

Discord delivers a message once, to the one instance holding the bot's gateway; when
that instance dies mid-answer, no retry comes. The claim, keyed by the message's id,
keeps what answering takes (``asked``): the question, who asked, where, and, once the
answer has started showing, the thread it went to and the message it grows in. The
instance serving next finds the claim orphaned (``rescue``) and answers it through
``rescued``: into that thread, turning the dead one's partial answer into the whole
one, rather than starting a second thread or leaving "word0 …" behind.
"""

from __future__ import annotations

import logging
import textwrap
from typing import Any

import discord

from ..service import Service
from .commands import LiveAnswer, ask_of, send_reply
from .embeds import CONTENT_LIMIT
from .files import files_of
from .views import PLATFORM, location

__all__ = ["MENTION_SCOPE", "THREAD_EXISTS", "THREAD_NAME_LIMIT", "answer", "asked_of", "rescued"]

MENTION_SCOPE = "discord-message"  # the claims on answering a message (``bot.claims``)
THREAD_NAME_LIMIT = 100  # Discord's limit on a thread's name
THREAD_EXISTS = 160004  # Discord's error code: a thread was started from this message already
log = logging.getLogger(__name__)


def asked_of(message: discord.Message, text: str) -> dict[str, Any]:
    """What answering ``message`` (its question ``text``, its attached files) takes, as
    the claim keeps it.
    In a DM the conversation is the channel; in a channel the answer goes to a thread
    started from the message, whose id is the message's, so the question is stored under
    it before it exists; in a thread, its parent and the thread."""
    channel = message.channel
    in_channel = message.guild is not None and not isinstance(channel, discord.Thread)
    if message.guild is None:
        asked_in, thread = str(channel.id), str(channel.id)
    elif in_channel:
        asked_in, thread = str(channel.id), str(message.id)
    else:
        asked_in, thread = location(channel)
    return {
        "question": text,
        "user": str(message.author.id),
        "channel": asked_in,
        "thread": thread,
        "files": files_of(message.attachments),
        "posted_in": channel.id,
        "message": message.id,
        "in_channel": in_channel,
    }


async def rescued(client: discord.Client, service: Service, key: str, asked: dict) -> None:
    """Answer a message a dead instance had claimed, from its claim's ``asked``: the
    channel it was posted in is read again (from the cache, else from Discord). A
    channel deleted since, or closed to Parley, ends the claim unanswered, so no later
    look tries again."""
    where = asked["posted_in"]
    try:
        channel = client.get_channel(where) or await client.fetch_channel(where)
    except (discord.NotFound, discord.Forbidden) as exc:
        log.warning("not answering message %s: its channel %s is gone (%s)", key, where, exc)
        await service.claims.abandon(MENTION_SCOPE, key)
        return
    message = channel.get_partial_message(asked["message"])  # type: ignore[union-attr]
    await answer(client, service, key, asked, channel, message)


async def answer(
    client: discord.Client,
    service: Service,
    key: str,
    asked: dict[str, Any],
    channel: Any,
    message: discord.Message | discord.PartialMessage,
) -> None:
    """Answer ``asked`` under its claim: in a channel, in a thread started from
    ``message`` with the first thing sent (an answer's first text); elsewhere in
    ``channel``. Where the answer went and its first message are noted in the claim as
    soon as they exist, so a rescue continues there."""
    asked = dict(asked)
    async with service.claims.once(MENTION_SCOPE, key, payload=asked) as mine:
        if not mine:  # a replayed event, or an instance that took it over, has it
            log.debug("not answering message %s again: it is answered or being answered", key)
            return
        target: Any = None if asked["in_channel"] else channel
        if "into" in asked:  # a dead instance's thread
            target = client.get_partial_messageable(asked["into"])

        async def send(**kwargs: Any) -> discord.Message:
            nonlocal target
            if target is None:
                named = asked["question"] or ", ".join(f["name"] for f in asked.get("files", []))
                target = await _thread_from(client, message, named)
            sent = await target.send(**kwargs)
            if "shown" not in asked:
                asked.update(into=target.id, shown=sent.id)
                await service.claims.note(MENTION_SCOPE, key, asked)
            return sent

        live = LiveAnswer(send)
        if "shown" in asked:  # the dead instance's partial answer, to become the whole
            live.message = target.get_partial_message(asked["shown"])
        async with channel.typing():
            reply = await service.ask(ask_of(client, asked), on_text=live.on_text)
        if target is None and not reply.answers and not await _kept(service, asked):
            # a hint or a failure: no thread for that
            await message.reply(" ".join(reply.notices)[:CONTENT_LIMIT], mention_author=False)
            return
        await send_reply(send, reply, live)


async def _kept(service: Service, asked: dict[str, Any]) -> bool:
    """Whether files sent without a question were read and kept for the thread about to
    start from the message: its follow-ups will be about them, so it is started."""
    if not asked.get("files"):
        return False
    return await service.in_conversation(PLATFORM, asked["channel"], asked["thread"])


async def _thread_from(
    client: discord.Client, message: discord.Message | discord.PartialMessage, question: str
) -> Any:
    """A new thread from ``message``, or the one a dead instance started from it and died
    before noting (a thread started from a message has the message's id)."""
    try:
        return await message.create_thread(name=_thread_name(question))
    except discord.HTTPException as exc:
        if exc.code != THREAD_EXISTS:
            raise
        return client.get_partial_messageable(message.id)


def _thread_name(question: str) -> str:
    return textwrap.shorten(question, THREAD_NAME_LIMIT, placeholder="…") or "Parley"
