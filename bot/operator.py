"""The operator's door: what whoever holds a data directory runs on its files, outside
any chat: search the index, export and import battles, back up and restore the arena,
copy it to another database (``parley db migrate``).

These are not service behaviours. No chat user can reach them; they work on the files
themselves (a restore replaces the database any service would be built on, a backup is
a copy of it, a report may read a copy on a read-only mount), so each opens only what
it needs, read-only where it only reads. The CLI's operator commands call these and
render what comes back; everything a chat user can reach goes through ``Service``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from arena.backup import backup_database, restore_database
from arena.battles_io import ImportReport
from arena.battles_io import export_battles as write_battles
from arena.battles_io import import_battles as read_battles
from arena.transfer import CopyReport, copy_arena
from knowledge.sql import DatabaseUrl, is_database_url
from knowledge.types import Hit

from . import messages
from .config import Settings
from .errors import BotError
from .runtime import open_knowledge, open_store, require_index

if TYPE_CHECKING:
    from knowledge.retrieve import Mode

__all__ = [
    "Found",
    "backup",
    "copy_database",
    "export_battles",
    "import_battles",
    "restore",
    "search",
]


@dataclass(frozen=True)
class Found:
    """A search's hits, best first, why it matched by words alone ("" when not), and
    whether the index holds no passage at all (then indexing, not rewording, helps)."""

    hits: list[Hit]
    words_only: str = ""
    empty_index: bool = False


def search(settings: Settings, query: str, k: int | None = None, mode: Mode = "hybrid") -> Found:
    """The passages that best match ``query`` (``k`` defaults to ``top_k``). Reads the
    index without writing, so it works on a read-only copy, where the vectors cannot be
    opened and a hybrid search matches by words alone."""
    require_index(settings)
    with open_knowledge(settings, read_only=True) as kb:
        hits = kb.search(query, k or settings.top_k, mode=mode)
        words_only = kb.dense_unavailable if mode == "hybrid" else ""
        return Found(hits, words_only, empty_index=not hits and kb.count() == 0)


async def export_battles(settings: Settings, out: IO[str]) -> int:
    """Write every voted battle to ``out`` as FastChat JSONL; returns how many."""
    async with open_store(settings, read_only=True) as store:
        return await write_battles(store, out)


async def import_battles(settings: Settings, lines: IO[str]) -> ImportReport:
    """Store the battles of a FastChat JSONL file, each once, bad lines reported."""
    async with open_store(settings) as store:
        return await read_battles(store, lines)


async def backup(settings: Settings, target: Path, *, force: bool = False) -> int:
    """Copy the arena database to ``target`` (safe while a bot runs; an existing
    ``target`` replaced only when ``force``); returns the votes."""
    _in_a_file(settings)
    return await backup_database(settings.database_path, target, force=force)


async def restore(settings: Settings, source: Path, *, force: bool = False) -> int:
    """Copy a checked backup in as the arena database; returns the votes restored."""
    _in_a_file(settings)
    return await restore_database(source, settings.database_path, force=force)


def _in_a_file(settings: Settings) -> None:
    """Backups are SQLite files; an arena on PostgreSQL is backed up with its tools."""
    if settings.database_url:
        raise BotError(messages.arena_on_server())


async def copy_database(settings: Settings, target: str) -> CopyReport:
    """Copy the arena (from PostgreSQL when ``database_url`` is set, else from the data
    directory's file) into ``target``, a ``postgresql://`` URL or an SQLite file that
    holds no arena yet; every table's rows are counted on both sides. A server that
    cannot be reached is named as the user gave it: in ``--to``, not the setting."""
    if not is_database_url(target):
        if "://" in target:
            raise BotError(messages.migrate_target_unknown())
        return await copy_arena(settings.arena_database, target)
    try:
        url = DatabaseUrl(target, named_in="--to")
    except ValueError as exc:  # a port that is not a number
        raise BotError(messages.migrate_target_malformed(str(exc))) from None
    return await copy_arena(settings.arena_database, url)
