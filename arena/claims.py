"""Claims, mixed into ``Store``: work done once across every instance sharing the arena.

Several instances over one PostgreSQL may be handed the same piece of work: Slack
delivers an event again to whichever instance its load balancer picks, and every
instance's audit scheduler wakes each period. Before doing it, an instance claims it by
a ``scope`` (what kind of work) and a ``key`` (which one): the first claim wins; the
others are told who holds it, or that it is done. The holder renews its claim while it
works (``renew_claim``); a claim not renewed within its lease (its holder crashed) is
taken over by the next instance that asks, so crashed work is redone rather than lost.

Each claim is one statement (an upsert that takes over only an expired claim), so two
instances asking at once cannot both win, on PostgreSQL (the row lock decides) or on
SQLite (one writer). Times are the instances' clocks (seconds since the epoch), so
machines sharing a database keep their clocks in step (NTP) well within a lease.
The table is ``claims`` (migration ``009_event_claims``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from knowledge.sql import AsyncSession

__all__ = ["Claim", "Claims"]

# Insert the claim, or take over one whose holder stopped renewing it before ``expired``;
# a row comes back only when this owner now holds it.
_CLAIM = (
    "INSERT INTO claims (scope, key, status, owner, claimed_at, renewed_at)"
    " VALUES (?, ?, 'claimed', ?, ?, ?)"
    " ON CONFLICT (scope, key) DO UPDATE SET owner = excluded.owner,"
    " claimed_at = excluded.claimed_at, renewed_at = excluded.renewed_at"
    " WHERE claims.status = 'claimed' AND claims.renewed_at < ?"
    " RETURNING owner"
)
_HOLDER = "SELECT status, owner, renewed_at FROM claims WHERE scope = ? AND key = ?"


@dataclass(frozen=True)
class Claim:
    """What a claim found: ``won`` when the asker now holds it; otherwise who holds it
    (``status`` "claimed", renewed at ``renewed_at``) or that it is "done"."""

    won: bool
    status: str
    owner: str
    renewed_at: float


class Claims:
    """Claim, renew, finish and give up work; ``Store`` supplies ``_write``."""

    _write: Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]

    async def claim(self, scope: str, key: str, owner: str, lease: float) -> Claim:
        """Claim ``key`` for ``owner``: won when nobody held it, or when its holder has
        not renewed it for ``lease`` seconds and it is not done."""
        now = time.time()

        async def take(s: AsyncSession) -> Claim:
            won = await s.fetchone(_CLAIM, (scope, key, owner, now, now, now - lease))
            if won is not None:
                return Claim(True, "claimed", owner, now)
            status, holder, renewed_at = await s.fetchone(_HOLDER, (scope, key))
            return Claim(False, status, holder, renewed_at)

        return await self._write(take)

    async def renew_claim(self, scope: str, key: str, owner: str) -> bool:
        """Renew a held claim's lease; False when ``owner`` no longer holds it."""
        return await self._change(
            "UPDATE claims SET renewed_at = ? WHERE scope = ? AND key = ? AND owner = ?"
            " AND status = 'claimed' RETURNING 1",
            (time.time(), scope, key, owner),
        )

    async def finish_claim(self, scope: str, key: str, owner: str) -> bool:
        """Mark the work done, so nobody does it again; False when ``owner`` had lost it."""
        return await self._change(
            "UPDATE claims SET status = 'done', done_at = ? WHERE scope = ? AND key = ?"
            " AND owner = ? AND status = 'claimed' RETURNING 1",
            (time.time(), scope, key, owner),
        )

    async def release_claim(self, scope: str, key: str, owner: str) -> bool:
        """Give the work up undone (it failed), so the next to ask may do it at once."""
        return await self._change(
            "DELETE FROM claims WHERE scope = ? AND key = ? AND owner = ? AND status = 'claimed'"
            " RETURNING 1",
            (scope, key, owner),
        )

    async def forget_claims(self, before: float) -> int:
        """Delete the claims made before ``before`` (work nobody will be handed again)."""

        async def delete(s: AsyncSession) -> int:
            deleted = await s.fetchall(
                "DELETE FROM claims WHERE claimed_at < ? RETURNING 1", (before,)
            )
            return len(deleted)

        return await self._write(delete)

    async def _change(self, sql: str, params: tuple[Any, ...]) -> bool:
        async def change(s: AsyncSession) -> bool:
            return await s.fetchone(sql, params) is not None

        return await self._write(change)
