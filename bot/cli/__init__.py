"""The ``parley`` command line: index, search, ask, models, chat, leaderboard, export,
import, backup, restore, judge, audit, doctor, slack and discord.

Each module registers its commands on the one group in ``base``; importing them here is
what makes ``parley`` whole.
"""

from . import answers, documents, grading, ops, votes  # noqa: F401  (they register commands)
from .base import cli, main, share_global_options

share_global_options(cli)

__all__ = ["cli", "main"]
