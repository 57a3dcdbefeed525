"""Which mentions and messages Parley answers, and why it leaves the others alone.

Slack sends Parley every message in the channels it is in (that is how a follow-up in
its thread arrives without a mention). Parley answers a mention, a DM, and a follow-up
in a thread it has answered, also when the message carries a file (``file_share``) or
was also sent to the channel (``thread_broadcast``). It leaves alone its own messages,
other bots, edits, deletions, joins and every other subtype, each with a debug line
that says why, so a question that got no answer can be traced in the log. What it
answers is started through ``SlackBot.spawn_answer``, so one instance answers it.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from .. import messages
from .questions import answer_follow_up, answer_message
from .web_api import ephemeral

if TYPE_CHECKING:
    from .app import SlackBot

__all__ = ["ANSWERED_SUBTYPES", "on_mention", "on_message", "question_text"]

log = logging.getLogger(__name__)

# message subtypes that still carry a person's question: a reply also sent to the
# channel, and a message with a file attached (Parley reads the file too)
ANSWERED_SUBTYPES = frozenset({"thread_broadcast", "file_share"})


def question_text(event: dict, bot_user: str) -> str:
    """The message's text without Parley's own mention (other mentions stay)."""
    me = re.compile(rf"<@{re.escape(bot_user)}(?:\|[^>]*)?>")
    return me.sub("", event.get("text") or "").strip()


def _not_a_question(event: dict) -> str | None:
    """Why a message is no question for Parley, or None when it may be one."""
    subtype = event.get("subtype")
    if subtype and subtype not in ANSWERED_SUBTYPES:
        return f"a {subtype} message"
    if event.get("bot_id") or event.get("bot_profile"):
        return "a bot's message"
    if not event.get("user"):
        return "a message without a user"
    return None


async def on_mention(bot: SlackBot, event: dict, bot_user: str, team: str) -> None:
    """``@Parley …`` in a channel: answered in its thread, or a hint where the channel's
    mode says so."""
    reason = _not_a_question(event)
    if reason:
        log.debug("ignoring a mention in %s: %s", event.get("channel"), reason)
        return
    channel, user = event["channel"], event["user"]
    thread = event.get("thread_ts") or event["ts"]
    mode = bot.mode(channel)
    if mode == "ask_only":
        hint = ephemeral(bot.client, channel, user, messages.ask_only_hint(), thread)
        await bot.spawn_answer(team, event, bot_user, hint)
    elif mode == "mentions":
        text = question_text(event, bot_user)
        await bot.spawn_answer(team, event, bot_user, answer_message(bot, event, text, thread))
    else:
        log.debug("ignoring a mention in %s: Parley is switched off there", channel)


async def on_message(bot: SlackBot, event: dict, bot_user: str, team: str) -> None:
    """A DM is answered; a reply in a thread Parley answered is a follow-up; a message
    that mentions Parley is left to ``on_mention`` (Slack sends both events)."""
    channel = event.get("channel")
    reason = _not_a_question(event)
    if reason:
        log.debug("ignoring %s in %s", reason, channel)
        return
    text = event.get("text") or ""
    thread = event.get("thread_ts") or event["ts"]
    if event.get("channel_type") == "im":
        await bot.spawn_answer(
            team, event, bot_user, answer_message(bot, event, text.strip(), thread)
        )
    elif not event.get("thread_ts"):
        log.debug("ignoring a message in %s: not a mention, a DM or a thread reply", channel)
    elif bot.mode(channel) != "mentions":
        log.debug(
            "ignoring a thread reply in %s: the channel's mode is %s", channel, bot.mode(channel)
        )
    elif question_text(event, bot_user) != text.strip():
        log.debug("ignoring a thread reply in %s: its app_mention is answered", channel)
    else:
        await bot.spawn_answer(team, event, bot_user, answer_follow_up(bot, event, text.strip()))
