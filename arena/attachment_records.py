"""Documents attached in a conversation, mixed into ``Store``: kept for its follow-ups.

A person who attaches a contract to a question asks the next question in the same
thread without attaching it again, and that question may reach another instance. So
the passages read from each attached file are kept in the arena, under the
conversation's (platform, channel, thread), one row a file (a newer file of the same
name replaces the older), and only the newest ``MAX_FILES`` files of a conversation
are kept: a thread is a conversation about a few documents, not a library. They are
never written to the knowledge base. The table is ``thread_attachments`` (migration
``011_thread_attachments``); its text is kept as long as the questions' text is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.sql import AsyncSession
from knowledge.types import ATTACHED, Passage

__all__ = ["MAX_FILES", "AttachedFile", "AttachmentRecords"]

MAX_FILES = 3  # files kept per conversation, the newest


@dataclass(frozen=True)
class AttachedFile:
    """A document attached to a question, as read into passages (their source names it:
    ``knowledge.types.ATTACHED``)."""

    name: str
    passages: tuple[Passage, ...]


def _encoded(passages: Sequence[Passage]) -> str:
    return json.dumps(
        [[p.id, p.text, p.title, list(p.heading_path), p.location] for p in passages],
        ensure_ascii=False,
    )


def _decoded(name: str, stored: str) -> AttachedFile:
    source = f"{ATTACHED}{name}"
    return AttachedFile(
        name,
        tuple(
            Passage(pid, text, source, title, tuple(headings), location)
            for pid, text, title, headings, location in json.loads(stored)
        ),
    )


class AttachmentRecords:
    """``keep_attachments`` and ``thread_attachments``; needs the Store's ``_write`` and
    ``_rows``."""

    _write: Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
    _rows: Callable[..., Awaitable[list[tuple[Any, ...]]]]

    async def keep_attachments(
        self, platform: str, channel: str, thread: str, files: Iterable[AttachedFile]
    ) -> None:
        """Keep ``files`` for the conversation, each replacing one of its name, in one
        transaction; then only the conversation's ``MAX_FILES`` newest stay."""
        rows = [
            (platform, channel, thread, f.name, _encoded(f.passages), time.time()) for f in files
        ]
        place = (platform, channel, thread)

        async def keep(s: AsyncSession) -> None:
            await s.executemany(
                "INSERT INTO thread_attachments (platform, channel, thread, name, passages,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (platform, channel, thread, name) DO UPDATE SET"
                " passages = excluded.passages, created_at = excluded.created_at",
                rows,
            )
            await s.execute(
                "DELETE FROM thread_attachments WHERE platform = ? AND channel = ? AND thread = ?"
                " AND id NOT IN (SELECT id FROM thread_attachments WHERE platform = ?"
                " AND channel = ? AND thread = ? ORDER BY created_at DESC, id DESC LIMIT ?)",
                (*place, *place, MAX_FILES),
            )

        await self._write(keep)

    async def thread_attachments(
        self, platform: str, channel: str, thread: str
    ) -> list[AttachedFile]:
        """The files kept for the conversation, the newest first."""
        rows = await self._rows(
            "SELECT name, passages FROM thread_attachments WHERE platform = ? AND channel = ?"
            " AND thread = ? ORDER BY created_at DESC, id DESC",
            (platform, channel, thread),
        )
        return [_decoded(name, stored) for name, stored in rows]
