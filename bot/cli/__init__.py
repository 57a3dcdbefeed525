"""The ``parley`` command line: index, search, ask, models, chat, leaderboard, export,
import, backup, restore, judge, audit, doctor, slack, discord and web.

``operator`` holds the commands an operator runs on a data directory's files (search,
export, import, backup, restore, doctor), through ``bot.operator`` and ``bot.doctor``;
``judge`` (in ``grading``) grades case files with the judge directly, an operator
command too. Everything else goes through the service.

Each module registers its commands on the one group in ``base``, which imports a
command's module only when the command runs (``base.COMMAND_MODULES``): ``parley
leaderboard`` loads neither the answering, indexing nor judging stacks.
"""

from .base import cli, main

__all__ = ["cli", "main"]
