"""The discord.py client: slash commands, buttons, and mentions answered in threads.

A mention in a channel is answered in a thread started from the message; in a thread
Parley started, later messages need no mention and carry the thread's history (the
service loads it). Each is answered under a claim (``mentions``), so that an instance
taking the gateway over answers it should this one die on the way. Parley ignores
itself and every other bot, and sends with ``allowed_mentions`` none, so neither an
answer nor a document can ping anyone.
Discord's 429s are left to discord.py's rate-limit handling.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import discord
from discord import app_commands

from .. import messages
from ..errors import SAID_TO_USERS
from ..service import Service
from .commands import COMMANDS, ORIGINAL_SHOWN
from .embeds import CONTENT_LIMIT
from .mentions import answer, asked_of
from .views import ThumbButton, VoteButton, submit_reason

__all__ = ["ParleyClient", "sync_commands", "with_channel"]

log = logging.getLogger(__name__)

CHANNEL_TEXT, CHANNEL_DM = 0, 1  # Discord's channel types


class ParleyClient(discord.Client):
    """Parley on Discord: the service, the command tree and the persistent buttons."""

    def __init__(
        self,
        service: Service,
        *,
        guilds: Sequence[int] = (),
        message_content: bool = True,
        web_url: str | None = None,
    ) -> None:
        intents = discord.Intents.default()
        # privileged: only for follow-ups without a mention (mentions carry their content)
        intents.message_content = message_content
        # Parley joins no voice channel: discord.py's warnings about voice libraries
        # (PyNaCl, davey) would only alarm the person starting the bot
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.service = service
        self.guild_ids = list(guilds)
        self.web_url = web_url  # the dashboard, which /leaderboard links to
        self.connected = asyncio.Event()  # set once the gateway connection is open
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = _command_failed
        for command in COMMANDS:
            self.tree.add_command(command)
        parsers = self._connection.parsers  # discord.py's table of gateway event parsers
        parsers["INTERACTION_CREATE"] = with_channel(parsers["INTERACTION_CREATE"])

    async def setup_hook(self) -> None:
        """Route every Parley button by its custom_id (restart-safe), sync the commands."""
        self.add_dynamic_items(VoteButton, ThumbButton)
        await sync_commands(self.tree, self.guild_ids)

    async def on_connect(self) -> None:
        self.connected.set()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Reason forms are routed here by custom_id, so they survive a restart."""
        await submit_reason(interaction)

    async def on_message(self, message: discord.Message) -> None:
        me = self.user
        if me is None or message.author.bot or message.author.id == me.id:
            log.debug("ignoring message %s: a bot's (or Parley's own)", message.id)
            return
        channel = message.channel
        ours = isinstance(channel, discord.Thread) and channel.owner_id == me.id
        private = message.guild is None
        if not (me in message.mentions or ours or private):
            return  # every message in the server arrives here: no line for each
        text = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        if not text and not message.attachments and me not in message.mentions:
            # no content nor files (the intent is off) and no mention: not for Parley
            log.debug("ignoring message %s: no content and no mention", message.id)
            return
        try:
            asked = asked_of(message, text)
            await answer(self, self.service, str(message.id), asked, channel, message)
        except Exception as exc:
            await message.channel.send(_failure(exc, f"answering message {message.id}"))


def with_channel(parse: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """An INTERACTION_CREATE parser that also reads ``channel_id``. Discord documents the
    ``channel`` object as optional, but discord.py finds the interaction's channel only
    there; without it an interaction would have no channel at all. The id alone lets
    discord.py take the channel (or thread) from its cache, or build it: a DM outside a
    guild, else a text channel."""

    def parse_interaction(data: dict[str, Any]) -> None:
        if not data.get("channel") and data.get("channel_id"):
            kind = CHANNEL_TEXT if data.get("guild_id") else CHANNEL_DM
            data = {**data, "channel": {"id": data["channel_id"], "type": kind}}
            log.debug("interaction %s came without a channel object", data.get("id"))
        parse(data)

    return parse_interaction


async def sync_commands(tree: app_commands.CommandTree, guild_ids: Sequence[int]) -> None:
    """Register the commands with Discord: per guild (instant) when guilds are
    configured, else globally (Discord may take up to an hour to show them)."""
    if not guild_ids:
        await tree.sync()
        return
    for guild_id in guild_ids:
        guild = discord.Object(guild_id)
        tree.copy_global_to(guild=guild)
        await tree.sync(guild=guild)


async def _command_failed(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """Log the failure and tell the user plainly: privately, unless the command had already
    shown everyone that Parley is thinking; that placeholder then says what happened."""
    name = interaction.command.name if interaction.command else "?"
    text = _failure(getattr(error, "original", error), f"/{name}")
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True)
    elif interaction.extras.get(ORIGINAL_SHOWN):  # a follow-up now makes a private message
        await interaction.followup.send(text, ephemeral=True)
    else:  # a follow-up would only edit the placeholder, ephemeral flag ignored: on purpose
        await interaction.edit_original_response(content=text)


def _failure(error: BaseException, doing: str) -> str:
    """What the user reads when ``doing`` failed: an error written for them (an index to
    rebuild, no model ready) as it is, logged in a line; any other, logged in full, as
    "something went wrong"."""
    if isinstance(error, SAID_TO_USERS):
        log.warning("%s failed: %s", doing, error)
        return str(error)[:CONTENT_LIMIT]
    log.error("%s failed", doing, exc_info=error)
    return messages.unexpected_error()
