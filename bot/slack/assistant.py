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

if TYPE_CHECKING:
    from .app import SlackBot

__all__ = ["GREETING", "STATUS", "SUGGESTED_PROMPTS", "attach_assistant", "suggested_prompts"]

log = logging.getLogger(__name__)
GREETING = "Hi! Ask me anything about the team's docs; I answer with the sources I used."
STATUS = "is looking through the docs…"
_TOPICS = 3
_TITLE_CHARS = 60
SUGGESTED_PROMPTS = [  # when the knowledge base has no titles to suggest from
    {"title": "What can you answer?", "message": "What do our docs cover?"},
    {"title": "Getting started", "message": "How does a new team member get set up?"},
]


async def suggested_prompts(bot: SlackBot) -> list[dict[str, str]]:
    """A question about each of the knowledge base's biggest documents."""
    try:
        titles = await bot.service.topics(_TOPICS)
    except (KnowledgeError, OSError) as exc:  # no index yet: the generic prompts will do
        log.warning("no topics for the assistant's prompts: %s", exc)
        titles = []
    prompts = [
        {"title": f"About {t[:_TITLE_CHARS]}", "message": f"What should I know about {t}?"}
        for t in titles
    ]
    return prompts or SUGGESTED_PROMPTS


def attach_assistant(bot: SlackBot) -> AsyncAssistant:
    """Register the assistant listeners on ``bot.app``; each one starts work and returns."""
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def greet(say, set_suggested_prompts) -> None:
        async def work() -> None:
            await say(GREETING)
            await set_suggested_prompts(prompts=await suggested_prompts(bot))

        bot.spawn(work())

    @assistant.thread_context_changed
    async def context_changed() -> None:
        """Parley answers from its index, not from the channel the user is viewing."""

    @assistant.user_message
    async def user_message(event: dict, set_status: AsyncSetStatus) -> None:
        if event.get("subtype") or not event.get("user"):
            return
        bot.spawn(_answer(bot, event, set_status))

    bot.app.use(assistant)
    return assistant


async def _answer(bot: SlackBot, event: dict, set_status: AsyncSetStatus) -> None:
    try:
        await set_status(STATUS)
        react_to = None
    except SlackApiError:  # not an assistant thread: a plain DM thread
        react_to = event["ts"]
    channel, thread = event["channel"], event["thread_ts"]
    await bot.answer(channel, event["user"], event.get("text", ""), thread, react_to=react_to)
