"""Shared by the fault tests: the Slack and Discord harnesses (reused from their own
conftests, not copied) and a disk that fills up, deterministically."""

from __future__ import annotations

from arena.errors import StoreError
from arena.store import Store
from tests.bot.discord.conftest import discord_api  # noqa: F401
from tests.bot.slack.conftest import app, arena_app, slack  # noqa: F401

FILLER_USERS = 5000  # far more votes than the pages left can hold


async def fill_the_disk(arena: Store, battle_id: int) -> int:
    """Cap the database at its current size, then vote with filler users until SQLite
    answers SQLITE_FULL: the votes table's last page is then full, so the next vote
    (by a user id of the same length) needs a page the disk does not have. Returns how
    many filler votes fitted."""
    await set_page_limit(arena, None)
    for n in range(FILLER_USERS):
        try:
            await arena.record_vote(battle_id, f"UF{n:05d}", "tie")
        except StoreError as exc:
            assert "full" in str(exc), exc
            return n
    raise AssertionError("the database never filled up")


async def set_page_limit(arena: Store, pages: int | None) -> None:
    """Cap the SQLite file at ``pages`` (None: its current size). The limit is set on the
    store's own connection (``read()`` lends it on SQLite) and holds for it alone."""
    async with arena._database.read() as s:
        if pages is None:
            pages = await s.scalar("PRAGMA page_count")
        await s.execute(f"PRAGMA max_page_count = {pages}")


async def vote_rows(arena: Store) -> tuple[list, list]:
    """Every vote and every pair count, as stored."""
    votes = await arena._rows("SELECT battle_id, user, choice FROM votes ORDER BY 1, 2")
    counts = await arena._rows("SELECT * FROM pair_counts ORDER BY 1, 2, 3")
    return votes, counts
