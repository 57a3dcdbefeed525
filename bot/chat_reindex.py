"""The re-index flow every chat surface shares: one message, edited as files go by.

Slack and Discord both let an admin re-index from chat. The service decides who may
and runs one re-index at a time; this module turns its progress, its refusals and its
report into the texts of that one message, so both adapters only say how to edit it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from knowledge.errors import KnowledgeError
from knowledge.indexer import IndexReport

from . import messages
from .access import Requester
from .errors import BotError
from .service import Service

__all__ = ["MAX_SKIPPED_SHOWN", "Show", "reindex_from_chat", "report_text"]

MAX_SKIPPED_SHOWN = 5  # a chat message lists a few skipped files; the log has them all

Show = Callable[[str], Awaitable[None]]


async def reindex_from_chat(service: Service, requester: Requester, show: Show) -> None:
    """Run a re-index for ``requester``, showing progress, then the summary, through
    ``show`` (the adapter edits one message). A refusal (not an admin, one already
    running, no sources) or an index failure is shown the same way, plainly."""

    async def progress(status) -> None:
        await show(messages.reindex_progress(status))

    try:
        report = await service.reindex(requester, on_progress=progress)
    except (BotError, KnowledgeError) as exc:
        await show(str(exc))
        return
    await show(report_text(report))


def report_text(report: IndexReport) -> str:
    """The summary, then the first few skipped files with their reasons."""
    lines = [messages.index_summary(report)]
    shown = report.skipped[:MAX_SKIPPED_SHOWN]
    lines += [messages.file_skipped(path, reason) for path, reason in shown]
    if len(report.skipped) > MAX_SKIPPED_SHOWN:
        lines.append(messages.more_skipped(len(report.skipped) - MAX_SKIPPED_SHOWN))
    return "\n".join(lines)
