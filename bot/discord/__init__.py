"""Parley on Discord: slash commands, mentions answered in threads, battle votes and
thumbs as persistent buttons, the leaderboard, and admin re-index (see docs/discord.md).

Only translation lives here; every behaviour is a call to ``bot.service.Service``.
"""

from __future__ import annotations

from .client import ParleyClient
from .run import invite_url, run_discord

__all__ = ["ParleyClient", "invite_url", "run_discord"]
