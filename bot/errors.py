"""Errors raised by the bot package.

    BotError
    ├── ConfigFileError  parley.toml or a PARLEY_* variable is invalid (one line: where, what)
    ├── DownloadFailed   a file attached to a question could not be downloaded (the reason)
    ├── IndexUnusable    the index cannot be searched until it is rebuilt (another embedder's)
    ├── NotAllowed       the user may not run this command (re-index is for admins)
    ├── NotRecorded      a vote or thumb could not be stored (disk full, database fault)
    └── ReindexBusy      a re-index is already running; the message says whose and how far

Errors from ``knowledge`` and ``arena`` pass through unchanged (but for the one
``IndexUnusable`` stands for); the CLI turns every one of them into a one-line
ClickException in one place.
"""

from __future__ import annotations

from arena.errors import ArenaError
from knowledge.errors import KnowledgeError

__all__ = [
    "SAID_TO_USERS",
    "BotError",
    "ConfigFileError",
    "DownloadFailed",
    "IndexUnusable",
    "NotAllowed",
    "NotRecorded",
    "ReindexBusy",
]


class BotError(Exception):
    """Base class for every error the bot package raises."""


class ConfigFileError(BotError):
    """The configuration cannot be read; the message names the file and the problem."""


class DownloadFailed(BotError):
    """An attached file's download failed; the message is the plain reason ("the file
    was deleted", "Slack answered 403"), which the asker reads."""


class IndexUnusable(BotError):
    """The knowledge base cannot be searched until someone rebuilds it (it was built by
    another embedder): a question gets the reason, never "try again in a minute" as a
    passing search failure (a KnowledgeError) does, since waiting will not help."""


class NotAllowed(BotError):
    """The user may not run this command."""


class NotRecorded(BotError):
    """A vote or thumb could not be stored; the message tells the user to try again."""


class ReindexBusy(BotError):
    """A re-index is already running; one runs at a time."""


# every error whose message is written for the person who met it: shown to them as it
# is (a one-line CLI error, a reply in chat); anything else is a fault, logged in full
SAID_TO_USERS = (BotError, ArenaError, KnowledgeError)
