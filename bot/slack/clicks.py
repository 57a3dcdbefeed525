"""Clicks, after their acknowledgement: a vote under a battle (stored, then the names
revealed in the message and the voter told privately), a thumb under an answer (👎
also opens the form that asks why), and the submitted form's reason.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from slack_bolt.kwargs_injection.async_args import AsyncArgs

from arena.errors import VoteRefused

from .. import messages
from ..errors import NotRecorded
from . import blocks
from .questions import PLATFORM
from .web_api import DELIVERY_ERRORS, ephemeral, why

if TYPE_CHECKING:
    from .app import SlackBot

__all__ = ["reason", "thumb", "vote"]

log = logging.getLogger(__name__)


def _where(body: dict) -> tuple[str, str, dict]:
    """The clicking user, the channel and the message the button is on."""
    channel = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
    return body["user"]["id"], channel, body["message"]


async def vote(bot: SlackBot, args: AsyncArgs) -> None:
    body, action = args.body, args.action
    user, channel, message = _where(body)
    thread = message.get("thread_ts")
    choice = action["action_id"].removeprefix(f"{blocks.ACTION_VOTE}_")
    try:
        battle_id = int(action["value"])
        result = await bot.service.vote(
            battle_id,
            user,
            choice,  # type: ignore[arg-type]
            platform=PLATFORM,
            channel=channel,
        )
    except (ValueError, VoteRefused, NotRecorded) as exc:
        await ephemeral(bot.client, channel, user, str(exc), thread)
        return
    confirmation = messages.vote_recorded(
        result.model_a,
        result.model_b,
        choice,  # type: ignore[arg-type]
        result.replaced,
    )
    # the reveal and the confirmation each on their own (the vote is stored already): the
    # reveal in its own task, as it may send the edits of votes stored after this one
    bot.spawn(
        bot.reveals.show(
            bot.client,
            battle_id,
            user,
            channel,
            message["ts"],
            # Slack's payload carries the posted text; the names when it does not
            message.get("text") or messages.reveal_text(result.model_a, result.model_b),
            blocks.reveal_battle(message.get("blocks", []), battle_id, result),
        )
    )
    try:
        await ephemeral(bot.client, channel, user, confirmation, thread)
    except DELIVERY_ERRORS as exc:
        log.error(
            "the vote on battle %s by %s is recorded, but Slack could not confirm it: %s",
            battle_id,
            user,
            why(exc),
        )


async def thumb(bot: SlackBot, args: AsyncArgs) -> None:
    body, action = args.body, args.action
    user, channel, message = _where(body)
    thread = message.get("thread_ts")
    target = json.loads(action["value"])
    up = action["action_id"] == blocks.ACTION_THUMB_UP
    try:
        await bot.service.thumb(int(target["answer"]), user, 1 if up else -1)
    except (VoteRefused, NotRecorded) as exc:
        await ephemeral(bot.client, channel, user, str(exc), thread)
        return
    if up:
        await ephemeral(
            bot.client, channel, user, messages.thumb_recorded(target["model"], 1), thread
        )
    else:  # stored already; the form only adds an optional reason
        form = blocks.reason_modal(int(target["answer"]), target["model"], channel, thread)
        await bot.client.views_open(trigger_id=body["trigger_id"], view=form)


async def reason(bot: SlackBot, args: AsyncArgs) -> None:
    view = args.view
    meta = json.loads(view["private_metadata"])
    user = args.body["user"]["id"]
    channel, thread = meta["channel"], meta.get("thread")
    try:
        await bot.service.thumb(int(meta["answer"]), user, -1, blocks.reason_of(view))
    except NotRecorded as exc:
        await ephemeral(bot.client, channel, user, str(exc), thread)
        return
    await ephemeral(bot.client, channel, user, messages.thumb_recorded(meta["model"], -1), thread)
