"""What Parley says to its users, in one place (like bolt's ``logger/messages.py``), so
wording stays consistent across the CLI, the console, chat and the dashboard: replies and
notices, prompts, summaries and errors a user reads. One module per audience:

- ``answers``: what a question's asker reads on every surface (sources, marks, votes);
- ``attachments``: what was read of a file attached to a question, or why it was not;
- ``leaderboard``: what a leaderboard says around its rows;
- ``console``: the terminal chat's welcome, prompts and goodbye;
- ``chat``: what only Slack and Discord users read (the assistant panel, a channel's hints);
- ``operator``: the operator commands and their errors (index, search, judge and audit,
  import/export, backup/restore, db, the data directory);
- ``web``: the dashboard's sign-in, forms, downloads and address;
- ``startup``: a starting bot's tokens, ports and unreachable platforms;
- ``counting``: ``plural``, which they all count with.

Every public name is re-exported here (each module's ``__all__``): callers write
``messages.vote_recorded(...)``.

Kept with their code instead: log lines (beside what they log), the headings and
one-word marks of a surface's own rendering (table columns, doctor's ok/FIX, Discord's
"(continued)", the dashboard's templates), ``parley doctor``'s findings (each beside its
check in ``bot/doctor.py``), configuration errors (beside the setting they name), command
descriptions and ``--help`` (beside their options) and the audit report
(``bot/audit_report.py``)."""

from __future__ import annotations

from . import answers, attachments, chat, console, counting, leaderboard, operator, startup, web
from .answers import *  # noqa: F403
from .attachments import *  # noqa: F403
from .chat import *  # noqa: F403
from .console import *  # noqa: F403
from .counting import *  # noqa: F403
from .leaderboard import *  # noqa: F403
from .operator import *  # noqa: F403
from .startup import *  # noqa: F403
from .web import *  # noqa: F403

__all__ = [
    *answers.__all__,
    *attachments.__all__,
    *chat.__all__,
    *console.__all__,
    *counting.__all__,
    *leaderboard.__all__,
    *operator.__all__,
    *startup.__all__,
    *web.__all__,
]
