"""What a person who attached a file to their question reads: what Parley read of it, and
why a file was not read (its type, its size, its download, its contents)."""

from __future__ import annotations

from collections.abc import Iterable

from .counting import plural

__all__ = [
    "attachment_cut",
    "attachment_not_downloaded",
    "attachment_not_kept",
    "attachment_too_large",
    "attachment_unreadable",
    "attachment_unsupported",
    "attachment_withheld",
    "attachments_read",
    "discord_file_gone",
    "discord_file_refused",
    "discord_file_unreachable",
    "slack_file_deleted",
    "slack_file_elsewhere",
    "slack_file_hidden",
    "slack_file_not_shared",
    "slack_file_refused",
    "slack_file_sign_in",
    "slack_file_unreachable",
]


def _formats(suffixes: Iterable[str]) -> str:
    """``.md``, ``.pdf``, ``.csv`` as "MD, PDF and CSV"."""
    *others, last = [s.lstrip(".").upper() for s in suffixes]
    return f"{', '.join(others)} and {last}" if others else last


def attachments_read(files: list[tuple[str, int]], in_thread: bool) -> str:
    """A file sent without a question: what was read, and where to ask about it."""
    read = ", ".join(f"{name} ({plural(count, 'passage')})" for name, count in files)
    where = "in this thread" if in_thread else "with your question"
    return f"I read {read}. Ask me about {'it' if len(files) == 1 else 'them'} {where}."


def attachment_unsupported(name: str, suffixes: Iterable[str]) -> str:
    return f"I can't read {name}: I read {_formats(suffixes)} files."


def attachment_too_large(name: str, size: int | None, limit: int) -> str:
    """``size`` as the platform reported it; None when the download ran past the limit."""
    limit_mb = f"{limit / 1_000_000:g} MB"
    if size is None:
        return f"I didn't read {name}: it is larger than the {limit_mb} I read."
    return (
        f"I didn't read {name}: it is {size / 1_000_000:.1f} MB and I read files up to {limit_mb}."
    )


def attachment_not_downloaded(name: str, reason: str) -> str:
    return f"I couldn't download {name} ({reason})."


def attachment_unreadable(name: str, reason: str) -> str:
    return f"I couldn't read {name} ({reason})."


def attachment_withheld(name: str, reason: str) -> str:
    """A file the platform shows but will not hand over (deleted, beyond a plan's limit)."""
    return f"I can't open {name}: {reason}."


def attachment_cut(name: str, kept: int) -> str:
    return f"{name} is long: I read its first {plural(kept, 'passage')}."


def attachment_not_kept(names: list[str]) -> str:
    """The thread's store failed: this answer used the files, later ones may not."""
    return f"I couldn't keep {', '.join(names)} for this thread: attach it again to ask more."


# why a Slack file could not be had (the reason in "I couldn't download X (...)" or
# "I can't open X: ...")


def slack_file_deleted() -> str:
    return "it was deleted"


def slack_file_hidden() -> str:
    return "the workspace's plan hides files this old"


def slack_file_not_shared(reason: str) -> str:
    return f"Slack would not share it with me ({reason})"


def slack_file_elsewhere() -> str:
    return "it is not stored on Slack"


def slack_file_sign_in() -> str:
    return "Slack asked me to sign in: is Parley's files:read scope granted?"


def slack_file_refused(status: int) -> str:
    return f"Slack answered HTTP {status}"


def slack_file_unreachable(reason: str) -> str:
    return f"Slack could not be reached: {reason}"


# why a Discord attachment could not be had


def discord_file_gone() -> str:
    return "Discord no longer has it: its message was deleted, or its link expired"


def discord_file_refused(status: int) -> str:
    return f"Discord answered HTTP {status}"


def discord_file_unreachable(reason: str) -> str:
    return f"Discord could not be reached: {reason}"
