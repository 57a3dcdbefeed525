"""Online backup and restore of the arena database (votes, answers, grades).

A backup is taken with SQLite's backup API on a read-only connection of its own, in
one step: it reads one consistent snapshot and, in WAL mode, blocks no writer, so the
bot keeps taking votes while it runs. A restore checks that the file is a sound Parley
database before copying it in. Neither replaces an existing file unless told to: a backup
written over last week's by a mistyped name would lose the only copy.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite

from arena.errors import StoreError
from arena.files import replaced_whole
from knowledge import cannot_read, read_only_uri

__all__ = ["backup_database", "restore_database"]


async def backup_database(database: Path, target: Path, *, force: bool = False) -> int:
    """Copy ``database`` to ``target`` (replaced only when ``force``); returns the votes
    copied."""
    if not database.is_file():
        raise StoreError(f"there is no arena database at {database}")
    if target.resolve() == database.resolve():
        raise StoreError("the backup must go to another file than the database itself")
    if target.exists() and not force:
        raise StoreError(
            f"{target} already exists; choose another name, or pass --force to replace it"
        )
    try:
        with replaced_whole(target) as partial:  # a backup is whole or absent
            async with (
                aiosqlite.connect(read_only_uri(database), uri=True) as source,
                aiosqlite.connect(partial) as copy,
            ):
                await source.backup(copy)  # pages=0: every page in one step, one snapshot
                async with copy.execute("SELECT COUNT(*) FROM votes") as cursor:
                    (votes,) = await cursor.fetchone()
    except (aiosqlite.Error, sqlite3.Error, OSError) as exc:
        raise StoreError(f"backup to {target} failed: {exc}") from exc
    return int(votes)


async def restore_database(backup: Path, database: Path, *, force: bool = False) -> int:
    """Copy a checked backup into ``database``; returns the votes restored. The backup
    is only read: nothing is written to it or beside it, so it may sit on a read-only
    mount."""
    if database.exists() and not force:
        raise StoreError(
            f"{database} already exists; restore into a fresh data directory, or pass"
            " --force to replace it (stop the bot first)"
        )
    try:
        async with aiosqlite.connect(read_only_uri(backup), uri=True) as source:
            votes = await _checked(source, backup)
            try:
                database.parent.mkdir(parents=True, exist_ok=True)
                async with aiosqlite.connect(database) as target:
                    await source.backup(target)
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(f"cannot write {database}: {exc}") from exc
    except sqlite3.Error as exc:
        if cannot_read(exc):
            raise StoreError(f"cannot read {backup}: {exc}") from exc
        raise StoreError(f"{backup} is not a Parley backup: {exc}") from exc
    return votes


async def _checked(source: aiosqlite.Connection, backup: Path) -> int:
    """The votes in a sound Parley database; StoreError (or SQLite's error) otherwise."""
    async with source.execute("PRAGMA integrity_check") as cursor:
        (verdict,) = await cursor.fetchone()
    if verdict != "ok":
        raise StoreError(f"{backup} is damaged: {verdict}")
    async with source.execute("SELECT COUNT(*) FROM _parley_migrations") as cursor:
        await cursor.fetchone()
    async with source.execute("SELECT COUNT(*) FROM votes") as cursor:
        (votes,) = await cursor.fetchone()
    return int(votes)
