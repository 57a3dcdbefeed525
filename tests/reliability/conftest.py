"""The Discord fixtures (a fake Discord REST API, an in-memory store) from tests/bot/discord."""

from tests.bot.discord.conftest import discord_api, store

__all__ = ["discord_api", "store"]
