"""Starting Parley on Discord, and the URL that invites it to a server.

On SIGTERM or Ctrl-C the bot stops taking new messages and interactions, gives the
answers and votes in flight up to ``shutdown_timeout`` seconds, then logs out and
returns, so the process exits 0. With ``audit_interval_minutes`` and ``admin_channel``
(a channel id) set, scheduled audits are posted to that channel while it runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord

from ..audits import AuditScheduler, Post
from ..config import Settings
from ..errors import BotError
from ..render import split_text
from ..runtime import serve_service
from ..shutdown import finish_within, stop_on_signals
from .client import ParleyClient
from .embeds import CONTENT_LIMIT

__all__ = [
    "AUDIT_THREAD_NAME",
    "INVITE_PERMISSIONS",
    "audit_scheduler",
    "discord_poster",
    "finish_in_flight",
    "invite_url",
    "run_discord",
]

# the gateway events that start work; a stopping bot drops them
_WORK_EVENTS = ("MESSAGE_CREATE", "INTERACTION_CREATE")
AUDIT_THREAD_NAME = "Audit details"
log = logging.getLogger(__name__)

# what Parley does in a server: read and answer in channels and the threads it starts,
# with embeds and the leaderboard chart; nothing more
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot with its slash commands and the permissions above."""
    return discord.utils.oauth_url(
        application_id, permissions=INVITE_PERMISSIONS, scopes=("bot", "applications.commands")
    )


def _dropped(payload: Any) -> None:
    """What a stopping bot does with a new message or interaction: nothing."""


async def finish_in_flight(
    client: discord.Client, timeout: float, *, keep: set[asyncio.Task] | frozenset = frozenset()
) -> bool:
    """Stop taking new work, then wait (at most ``timeout`` s) for the handlers already
    running: discord.py runs each event and interaction in a task of its own, so those
    are the loop's tasks other than this one and the long-lived ones in ``keep``.
    False when some were cut off."""
    for event in _WORK_EVENTS:  # discord.py's table of gateway event parsers
        client._connection.parsers[event] = _dropped
    running = [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and task not in keep and not task.done()
    ]
    if not running:
        return True
    gathered = asyncio.gather(*running, return_exceptions=True)
    return await finish_within(gathered, timeout, "the Discord work in flight")


def discord_poster(client: discord.Client, channel_id: int) -> Post:
    """Post an audit report: the summary in the channel, the details in a thread started
    from it, each piece within Discord's message limit."""

    async def post(summary: str, details: list[str]) -> None:
        channel = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
        top = await channel.send(summary[:CONTENT_LIMIT])  # type: ignore[union-attr]
        if not details:
            return
        thread = await top.create_thread(name=AUDIT_THREAD_NAME)
        for piece in split_text("\n".join(details), CONTENT_LIMIT):
            await thread.send(piece)

    return post


def audit_scheduler(client: ParleyClient, settings: Settings) -> AuditScheduler | None:
    """Scheduled audits posted to ``admin_channel`` (a channel id), when both are set."""
    if settings.audit_interval_minutes is None or not settings.admin_channel:
        return None
    if not settings.admin_channel.isdigit():
        raise BotError(
            f"admin_channel {settings.admin_channel!r} is not a Discord channel id: turn on"
            " Developer Mode, right-click the channel, Copy Channel ID."
        )
    return AuditScheduler(
        client.service,
        settings.audit_interval_minutes,
        discord_poster(client, int(settings.admin_channel)),
        sample=settings.audit_sample,
    )


async def _serve(client: ParleyClient, token: str, settings: Settings, stop: asyncio.Event):
    """Run the client until it ends or ``stop`` is set; then finish and log out."""
    audits = audit_scheduler(client, settings)
    runner = asyncio.create_task(client.start(token), name="parley-discord")
    keep = {runner}
    if audits is not None:
        keep.add(audits.start())
    stopping = asyncio.create_task(stop.wait())
    keep.add(stopping)
    try:
        await asyncio.wait({runner, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not runner.done():
            if audits is not None:
                await audits.stop()
            await finish_in_flight(client, settings.shutdown_timeout, keep=keep)
            await client.close()
        await runner  # a refused token or intent is raised here
    finally:
        stopping.cancel()
        if audits is not None:
            await audits.stop()
        if not runner.done():
            runner.cancel()


async def run_discord(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Connect to Discord with DISCORD_TOKEN and answer until SIGTERM, Ctrl-C or ``stop``."""
    if settings.discord_token is None:
        raise BotError(
            "DISCORD_TOKEN is not set: copy the bot token from the Discord developer portal"
            " (your application, Bot, Reset Token) into the environment."
        )
    discord.utils.setup_logging()
    stop = stop or asyncio.Event()
    async with serve_service(settings) as service:
        client = ParleyClient(
            service,
            guilds=settings.discord_guilds,
            message_content=settings.discord_message_content,
            web_url=settings.web_url,
        )
        try:
            async with client:
                with stop_on_signals(stop):
                    await _serve(client, settings.discord_token.get_secret_value(), settings, stop)
        except discord.LoginFailure as exc:
            raise BotError(
                "Discord refused the token in DISCORD_TOKEN; reset it and try again."
            ) from exc
        except discord.PrivilegedIntentsRequired as exc:
            raise BotError(
                "Discord refused the message-content intent: enable Message Content Intent"
                " under Bot in the developer portal, or set discord_message_content = false."
            ) from exc
