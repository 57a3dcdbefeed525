"""Starting Parley on Discord, and the URL that invites it to a server."""

from __future__ import annotations

import discord

from ..config import Settings
from ..errors import BotError
from ..runtime import open_service
from .client import ParleyClient

__all__ = ["INVITE_PERMISSIONS", "invite_url", "run_discord"]

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


async def run_discord(settings: Settings) -> None:
    """Connect to Discord with DISCORD_TOKEN and answer until stopped."""
    if settings.discord_token is None:
        raise BotError(
            "DISCORD_TOKEN is not set: copy the bot token from the Discord developer portal"
            " (your application, Bot, Reset Token) into the environment."
        )
    discord.utils.setup_logging()
    async with open_service(settings, hold_index=True) as service:
        client = ParleyClient(
            service,
            guilds=settings.discord_guilds,
            message_content=settings.discord_message_content,
        )
        try:
            async with client:
                await client.start(settings.discord_token.get_secret_value())
        except discord.LoginFailure as exc:
            raise BotError(
                "Discord refused the token in DISCORD_TOKEN; reset it and try again."
            ) from exc
        except discord.PrivilegedIntentsRequired as exc:
            raise BotError(
                "Discord refused the message-content intent: enable Message Content Intent"
                " under Bot in the developer portal, or set discord_message_content = false."
            ) from exc
