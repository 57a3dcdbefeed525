"""The assistant side panel (bolt's ``AsyncAssistant``): a greeting with suggested prompts
(about the knowledge base's biggest documents), a status line while the service works,
and the reply in the panel's thread.

A user's message in a DM thread reaches ``user_message`` (that is how bolt recognises
assistant threads); in an ordinary DM thread there is no assistant status to set, so the
working sign falls back to the reaction the other paths use.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.errors import SlackApiError

from knowledge.errors import KnowledgeError

from .. import messages
from .events import ANSWERED_SUBTYPES
from .files import attachments_of
from .questions import answer

if TYPE_CHECKING:
    from .app import SlackBot

__all__ = ["attach_assistant", "suggested_prompts"]

log = logging.getLogger(__name__)
_TOPICS = 3


async def suggested_prompts(bot: SlackBot) -> list[dict[str, str]]:
    """A question about each of the knowledge base's biggest documents."""
    try:
        titles = await bot.service.topics(_TOPICS)
    except (KnowledgeError, OSError) as exc:  # no index yet: the generic prompts will do
        log.warning("no topics for the assistant's prompts: %s", exc)
        titles = []
    return [messages.topic_prompt(t) for t in titles] or messages.ASSISTANT_PROMPTS


def attach_assistant(bot: SlackBot) -> AsyncAssistant:
    """Register the assistant listeners on ``bot.app``; each one starts work and returns."""
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def greet(say, set_suggested_prompts) -> None:
        async def work() -> None:
            await say(messages.ASSISTANT_GREETING)
            await set_suggested_prompts(prompts=await suggested_prompts(bot))

        bot.spawn(work())

    @assistant.thread_context_changed
    async def context_changed() -> None:
        """Parley answers from its index, not from the channel the user is viewing."""

    @assistant.user_message
    async def user_message(event: dict, context: dict, set_status: AsyncSetStatus) -> None:
        subtype = event.get("subtype")
        if (subtype and subtype not in ANSWERED_SUBTYPES) or not event.get("user"):
            log.debug("ignoring a %s message in the assistant thread", subtype or "userless")
            return
        team, bot_user = context.get("team_id") or "", context.get("bot_user_id") or ""
        await bot.spawn_answer(team, event, bot_user, _answer(bot, event, set_status))

    bot.app.use(assistant)
    return assistant


async def _answer(bot: SlackBot, event: dict, set_status: AsyncSetStatus) -> None:
    channel, user, thread = event["channel"], event["user"], event["thread_ts"]
    text = (event.get("text") or "").strip()
    files = await attachments_of(bot, event)
    try:
        await set_status(messages.ASSISTANT_STATUS)
    except SlackApiError:  # not an assistant thread: a plain DM thread, with the reaction
        await answer(bot, channel, user, text, thread, react_to=event["ts"], files=files)
        return
    await answer(bot, channel, user, text, thread, files=files)
