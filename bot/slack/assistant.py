"""The assistant side panel (bolt's ``AsyncAssistant``): a greeting with suggested prompts,
a status line while the service works, and the reply in the panel's thread.

A user's message in a DM thread reaches ``user_message`` (that is how bolt recognises
assistant threads); in an ordinary DM thread there is no assistant status to set, so the
working sign falls back to the reaction the other paths use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.errors import SlackApiError

if TYPE_CHECKING:
    from .app import SlackBot

__all__ = ["GREETING", "STATUS", "SUGGESTED_PROMPTS", "attach_assistant"]

GREETING = "Hi! Ask me anything about the team's docs; I answer with the sources I used."
STATUS = "is looking through the docs…"
SUGGESTED_PROMPTS = [
    {"title": "What can you answer?", "message": "What kinds of questions can you answer?"},
    {"title": "Latest changes", "message": "What changed most recently in our docs?"},
    {"title": "How do I get started?", "message": "How does a new team member get set up?"},
]


def attach_assistant(bot: SlackBot) -> AsyncAssistant:
    """Register the assistant listeners on ``bot.app``; each one starts work and returns."""
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def greet(say, set_suggested_prompts) -> None:
        async def work() -> None:
            await say(GREETING)
            await set_suggested_prompts(prompts=SUGGESTED_PROMPTS)

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
