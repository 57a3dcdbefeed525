"""The slash commands, after their acknowledgement: ``/ask`` posts the question and
answers in its thread, ``/leaderboard`` posts the table and uploads the chart into its
thread, ``/reindex`` (admins only, the service decides) updates one message with its
progress. Refusals and hints are private (``respond`` with ``ephemeral``).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_sdk.errors import SlackApiError

from .. import messages
from ..access import Requester
from ..chat_reindex import reindex_from_chat
from ..service import Ask, reject_empty
from . import blocks
from .questions import PLATFORM, answer
from .web_api import post, update

if TYPE_CHECKING:
    from .app import SlackBot

__all__ = ["ask", "kept", "leaderboard", "reindex"]

log = logging.getLogger(__name__)
_CHANNEL_REF = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
# chat.postMessage's answers when Parley may not post in the channel
_NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}


# what a claim keeps of an /ask, to answer it elsewhere (not the verification token)
_KEPT = ("channel_id", "user_id", "text", "response_url", "trigger_id")


async def _private(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral")


def kept(command: dict) -> dict:
    """The fields of an ``/ask`` that answering it takes, for its claim's payload."""
    return {name: command.get(name) for name in _KEPT}


async def ask(bot: SlackBot, key: str, payload: dict) -> None:
    """``/ask question``: the question is posted as a message, answered in its thread.
    Under the claim ``key``, whose ``payload`` notes the question's ``root`` once it is
    posted: an instance redoing the ``/ask`` after this one died answers in that thread
    rather than posting the question twice."""
    command = payload["command"]
    channel, user = command["channel_id"], command["user_id"]
    text = (command.get("text") or "").strip()
    root = payload.get("root")
    if root is None:
        respond = AsyncRespond(response_url=command["response_url"])
        if bot.mode(channel) == "off":
            await _private(respond, messages.switched_off())
            return
        refusal = await reject_empty(Ask(text, user, channel, None, PLATFORM))
        if refusal:  # before posting: a question nobody can answer stays private
            await _private(respond, refusal)
            return
        try:
            posted = await post(bot.client, channel, None, blocks.question_message(user, text))
        except SlackApiError as exc:
            if exc.response.get("error") not in _NOT_IN_CHANNEL:
                raise
            await _private(respond, messages.invite_me())
            return
        root = posted["ts"]
        await bot.note(key, {**payload, "root": root})
    await answer(bot, channel, user, text, root)


async def leaderboard(bot: SlackBot, args: AsyncArgs) -> None:
    """``/leaderboard [#channel]``: the table in the channel, the chart in its thread."""
    command = args.command
    channel, asked = command["channel_id"], command.get("text") or ""
    ref = _CHANNEL_REF.search(asked)
    if asked.strip() and not ref:
        await _private(args.respond, messages.which_channel())
        return
    board = await bot.service.leaderboard(ref.group(1) if ref else None, chart=True)
    if not board.rows:
        await _private(args.respond, messages.no_votes_yet(f"<#{ref.group(1)}>" if ref else None))
        return
    name = (ref.group(2) or ref.group(1)) if ref else None
    link = messages.dashboard_link(bot.web_url, board.channel) if bot.web_url else None
    message = blocks.leaderboard_message(board, name, link)
    try:
        posted = await post(bot.client, channel, None, message)
    except SlackApiError as exc:
        if exc.response.get("error") not in _NOT_IN_CHANNEL:
            raise
        await _private(args.respond, messages.invite_me())
        return
    if board.chart_png:
        await bot.client.files_upload_v2(
            channel=channel,
            thread_ts=posted["ts"],
            content=board.chart_png,
            filename="leaderboard.png",
            title="Parley leaderboard",
        )


async def reindex(bot: SlackBot, args: AsyncArgs) -> None:
    """``/reindex``: one message in the channel, updated with the progress and summary."""
    command = args.command
    channel = command["channel_id"]
    requester = Requester(PLATFORM, command["user_id"])
    if not bot.service.may_reindex(requester):
        await _private(args.respond, messages.not_admin())
        return
    running = bot.service.reindex_status
    if running is not None:
        await _private(args.respond, messages.reindex_busy(running))
        return
    started = blocks.text_message(messages.reindex_starting())
    posted = await post(bot.client, channel, None, started)

    async def show(text: str) -> None:
        try:
            await update(bot.client, channel, posted["ts"], blocks.text_message(text))
        except SlackApiError as exc:  # the message was deleted: keep indexing
            log.warning("could not update the re-index message: %s", exc.response.get("error"))

    await reindex_from_chat(bot.service, requester, show)
