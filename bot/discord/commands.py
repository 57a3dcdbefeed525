"""The slash commands: /ask, /leaderboard and /reindex.

Each one acknowledges first (Discord drops an interaction not answered within three
seconds), then calls the service and renders what comes back. Who may re-index is the
service's decision; the command only vouches for Discord's Manage Server permission.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import discord
from discord import app_commands

from .. import messages
from ..access import Requester
from ..chat_reindex import reindex_from_chat
from ..service import Ask, Reply, Service, reject_empty
from ..streaming import Throttled
from .embeds import CHART_NAME, CONTENT_LIMIT, leaderboard_embed, partial_content, reply_posts
from .files import attachments_of, files_of
from .views import PLATFORM, location, reply_view, service_of

__all__ = [
    "ASK_SCOPE",
    "COMMANDS",
    "EDIT_INTERVAL",
    "ORIGINAL_SHOWN",
    "RETRY_DELAYS",
    "Followups",
    "LiveAnswer",
    "answer_claimed",
    "ask",
    "ask_of",
    "leaderboard",
    "location",
    "reindex",
    "send_reply",
]

log = logging.getLogger(__name__)

ORIGINAL_SHOWN = "parley.original_shown"  # key in Interaction.extras
ASK_SCOPE = "discord-ask"  # the claims on answering an /ask (``bot.claims``)
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)  # seconds between tries of a post Discord failed
EDIT_INTERVAL = 1.5  # seconds between edits of a streaming answer (5 edits per 5 s allowed)
_DELIVERY_ERRORS = (discord.DiscordServerError, aiohttp.ClientError, TimeoutError)


class Followups:
    """The messages that answer a deferred interaction. The first replaces the "thinking…"
    placeholder by editing the original response, as Discord asks: a follow-up sent right
    after a defer would edit it anyway, ignoring its ephemeral flag (documented, and
    deprecated). The rest are follow-ups. ``shown[ORIGINAL_SHOWN]`` (the interaction's
    ``extras``) records that the placeholder is gone, so an error reply after it can be
    private. ``rescued`` makes the same over the interaction's webhook alone (its
    application id and token), for an instance answering after the one that deferred
    it died."""

    def __init__(
        self,
        edit_original: Callable[..., Awaitable[Any]],
        followup: discord.Webhook,
        shown: dict[Any, Any],
    ) -> None:
        self._edit_original = edit_original
        self._followup = followup
        self._shown = shown

    @classmethod
    def of(cls, interaction: discord.Interaction) -> Followups:
        return cls(interaction.edit_original_response, interaction.followup, interaction.extras)

    @classmethod
    def rescued(cls, client: discord.Client, application_id: int, token: str) -> Followups:
        webhook = discord.Webhook.partial(application_id, token, client=client)
        return cls(functools.partial(webhook.edit_message, "@original"), webhook, {})

    async def send(self, **kwargs: Any) -> discord.Message:
        if self._shown.get(ORIGINAL_SHOWN):
            return await self._followup.send(wait=True, **kwargs)
        if "file" in kwargs:  # an edit attaches files as attachments
            kwargs["attachments"] = [kwargs.pop("file")]
        message = await self._edit_original(**kwargs)
        self._shown[ORIGINAL_SHOWN] = True
        return message


class LiveAnswer:
    """The message a hosted answer grows in: sent with its first text, then edited at
    most every ``EDIT_INTERVAL`` s. ``send_reply`` turns it into the answer's first post."""

    def __init__(self, send: Callable[..., Awaitable[Any]]) -> None:
        self._send = send
        self.message: discord.Message | discord.WebhookMessage | None = None
        self.on_text = Throttled(self._show, EDIT_INTERVAL)

    async def _show(self, text: str) -> None:
        content = partial_content(text)
        try:
            if self.message is None:
                self.message = await self._send(content=content)
            else:
                await self.message.edit(content=content)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("could not show a partial answer (the whole one follows): %s", exc)


async def send_reply(
    send: Callable[..., Awaitable[Any]], reply: Reply, live: LiveAnswer | None = None
) -> bool:
    """Post a Reply with ``send`` (a channel's, or a deferred interaction's ``Followups``), the
    buttons on its last message; the first post replaces ``live``'s partial answer when
    there is one. False when Discord stayed down past the retries: the failure is
    logged with the question's id (the question and answer are stored)."""
    posts = reply_posts(reply)
    view = reply_view(reply)
    for number, post in enumerate(posts, 1):
        kwargs: dict[str, Any] = {"embeds": post.embeds}
        if post.content:
            kwargs["content"] = post.content
        if view is not None and number == len(posts):
            kwargs["view"] = view
        streamed = live.message if live and number == 1 else None
        if streamed is not None:  # content=None clears the partial text
            kwargs.setdefault("content", None)
        if not await _deliver(streamed.edit if streamed else send, kwargs, reply.question_id):
            return False
    return True


async def _deliver(send: Callable[..., Awaitable[Any]], kwargs: dict, question_id: int) -> bool:
    """discord.py retries 500, 502, 504 and 524 itself (five tries) but gives up at once
    on a 503, a refused or dropped connection and a timeout: those are retried here."""
    waits = iter(RETRY_DELAYS)
    while True:
        try:
            await send(**kwargs)
            return True
        except _DELIVERY_ERRORS as exc:
            wait = next(waits, None)
            if wait is None:
                log.error("could not deliver the answer to question %s: %s", question_id, exc)
                return False
            log.warning("Discord failed (%s); retrying in %.1f s", exc, wait)
        await asyncio.sleep(wait)


@app_commands.command(name="ask", description="Ask Parley a question about the knowledge base.")
@app_commands.describe(
    question="What you want to know",
    file="A document to answer from too (PDF, Word, Markdown...); not added to the knowledge base",
)
async def ask(
    interaction: discord.Interaction,
    question: app_commands.Range[str, 1, 2000],
    file: discord.Attachment | None = None,
) -> None:
    channel, thread = location(interaction.channel)
    asker = str(interaction.user.id)  # with a file, "x" gets the file's receipt instead
    refusal = None if file else await reject_empty(Ask(question, asker, channel, thread, PLATFORM))
    if refusal:  # answered at once, privately: a public "thinking…" would show the channel
        await interaction.response.send_message(refusal, ephemeral=True)
        return
    await interaction.response.defer(thinking=True)
    asked = {
        "question": question,
        "user": str(interaction.user.id),
        "channel": channel,
        "thread": thread,
        "files": files_of([file] if file else []),
        "application_id": interaction.application_id,
        "token": interaction.token,
    }
    service, replies = service_of(interaction), Followups.of(interaction)
    await answer_claimed(service, interaction.client, str(interaction.id), asked, replies)


async def answer_claimed(
    service: Service, client: discord.Client, key: str, asked: dict, replies: Followups
) -> None:
    """Answer an ``/ask`` (``asked``: what ``ask`` keeps of it) into ``replies`` under a
    claim that keeps ``asked``, so that if this instance dies on the way, the one that
    takes the gateway over answers it (``rescue``) while the interaction's token lasts;
    ``client`` downloads its file."""
    async with service.claims.once(ASK_SCOPE, key, payload=asked) as mine:
        if not mine:  # answered already, by an instance that took it over
            return
        live = LiveAnswer(replies.send)
        reply = await service.ask(ask_of(client, asked), on_text=live.on_text)
        await send_reply(replies.send, reply, live)


def ask_of(client: discord.Client, asked: dict) -> Ask:
    """The service's question from what a claim keeps of an ``/ask`` or a message, its
    files downloaded through ``client`` when the service reads them."""
    files = attachments_of(client, asked.get("files", []))
    return Ask(asked["question"], asked["user"], asked["channel"], asked["thread"], PLATFORM, files)


@app_commands.command(name="leaderboard", description="How the models rank, from your votes.")
@app_commands.describe(channel="Only the votes cast in this channel (default: everywhere)")
async def leaderboard(
    interaction: discord.Interaction, channel: app_commands.AppCommandChannel | None = None
) -> None:
    await interaction.response.defer(thinking=True)
    board = await service_of(interaction).leaderboard(
        str(channel.id) if channel else None, chart=True
    )
    replies = Followups.of(interaction)
    if not board.rows:
        await replies.send(content=messages.no_votes_yet(f"<#{channel.id}>" if channel else None))
        return
    kwargs: dict[str, Any] = {"embed": leaderboard_embed(board)}
    web_url = getattr(interaction.client, "web_url", None)
    if web_url:
        kwargs["content"] = messages.dashboard_link(web_url, board.channel)
    if board.chart_png:
        kwargs["file"] = discord.File(io.BytesIO(board.chart_png), filename=CHART_NAME)
    await replies.send(**kwargs)


@app_commands.command(
    name="reindex", description="Re-index the knowledge base (Manage Server or Parley admins)."
)
async def reindex(interaction: discord.Interaction) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    requester = Requester(
        PLATFORM, str(interaction.user.id), platform_admin=interaction.permissions.manage_guild
    )

    undelivered: str | None = None  # the last text the message could not show

    async def show(text: str) -> None:
        nonlocal undelivered
        try:
            await interaction.edit_original_response(content=text[:CONTENT_LIMIT])
            undelivered = None
        except discord.HTTPException as exc:  # e.g. the 15-minute token expired: keep indexing
            log.warning("could not update the re-index message (%s): %s", exc, text)
            undelivered = text

    await reindex_from_chat(service_of(interaction), requester, show)
    if undelivered is not None:  # the re-index outlived the interaction: summary by DM
        try:
            await interaction.user.send(undelivered[:CONTENT_LIMIT])
        except discord.HTTPException as exc:
            log.warning("could not send the re-index summary by DM (%s): %s", exc, undelivered)


COMMANDS: tuple[app_commands.Command, ...] = (ask, leaderboard, reindex)
