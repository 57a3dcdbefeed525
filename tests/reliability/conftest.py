"""The fake Discord REST API fixture from tests/bot/discord (the store is tests/conftest.py's)."""

from tests.bot.discord.conftest import discord_api

__all__ = ["discord_api"]
