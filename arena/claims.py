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
SQLite (one writer); it is sent on its own, committed as it runs (one trip to the
database where a transaction takes three), since a Slack acknowledgement waits for it.
Times are the instances' clocks (seconds since the epoch), so machines sharing a
database keep their clocks in step (NTP) well within a lease.

A claim may carry a ``payload``: what redoing its work takes (JSON), written with the
first claim, replaced by its holder as the work gets on (``note_claim``: an ``/ask``'s
question once posted) and kept when the claim is taken over. A holder that died after
the only delivery of its work (Slack never resends an acknowledged event) leaves an
orphan, a claim nobody renews and nobody will ask for again; ``orphaned_claims`` finds
the recent ones, for an instance to claim and redo, and ``abandon_orphans`` drops the
payload of those too old to redo, so they are reported once and left alone.
``claimed_at`` is the first claim's time, kept on takeover, so an orphan's age counts
from the first instance that took the work. The table is ``claims`` (migrations
``009_event_claims`` and ``010_claim_payloads``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from knowledge.sql import AsyncSession

__all__ = ["Claim", "Claims", "Orphan"]

# Insert the claim, or take over one whose holder stopped renewing it before ``expired``
# (keeping its first time and payload); a row comes back only when this owner now holds it.
_CLAIM = (
    "INSERT INTO claims (scope, key, status, owner, claimed_at, renewed_at, payload)"
    " VALUES (?, ?, 'claimed', ?, ?, ?, ?)"
    " ON CONFLICT (scope, key) DO UPDATE SET owner = excluded.owner,"
    " renewed_at = excluded.renewed_at, payload = COALESCE(claims.payload, excluded.payload)"
    " WHERE claims.status = 'claimed' AND claims.renewed_at < ?"
    " RETURNING owner"
)
_HOLDER = "SELECT status, owner, renewed_at FROM claims WHERE scope = ? AND key = ?"
# claims of a scope whose holder stopped renewing them, with what redoing them takes
_ORPHANED = "scope = ? AND status = 'claimed' AND renewed_at < ? AND payload IS NOT NULL"


@dataclass(frozen=True)
class Claim:
    """What a claim found: ``won`` when the asker now holds it; otherwise who holds it
    (``status`` "claimed", renewed at ``renewed_at``) or that it is "done"."""

    won: bool
    status: str
    owner: str
    renewed_at: float


@dataclass(frozen=True)
class Orphan:
    """A claim whose holder stopped renewing it: ``owner`` took it first at
    ``claimed_at``; ``payload`` is what redoing its work takes (empty once abandoned)."""

    key: str
    owner: str
    claimed_at: float
    payload: dict[str, Any]


class Claims:
    """Claim, renew, finish and give up work, and find the orphans; ``Store`` supplies
    ``_write`` and ``_rows``."""

    _write: Callable[[Callable[[AsyncSession], Awaitable[Any]]], Awaitable[Any]]
    _rows: Callable[..., Awaitable[list[tuple[Any, ...]]]]

    async def claim(
        self,
        scope: str,
        key: str,
        owner: str,
        lease: float,
        payload: dict[str, Any] | None = None,
    ) -> Claim:
        """Claim ``key`` for ``owner``: won when nobody held it, or when its holder has
        not renewed it for ``lease`` seconds and it is not done. ``payload`` (what
        redoing the work takes) is stored with a new claim; a taken-over one keeps its own."""
        now = time.time()
        stored = None if payload is None else json.dumps(payload)

        row = (scope, key, owner, now, now, stored, now - lease)
        while True:
            if await self._rows(_CLAIM, row, writing=True):
                return Claim(True, "claimed", owner, now)
            for status, holder, renewed_at in await self._rows(_HOLDER, (scope, key)):
                return Claim(False, status, holder, renewed_at)
            # forgotten (``forget_claims``) between the two statements: ask again

    async def renew_claim(self, scope: str, key: str, owner: str) -> bool:
        """Renew a held claim's lease; False when ``owner`` no longer holds it."""
        return await self._change(
            "UPDATE claims SET renewed_at = ? WHERE scope = ? AND key = ? AND owner = ?"
            " AND status = 'claimed' RETURNING 1",
            (time.time(), scope, key, owner),
        )

    async def note_claim(self, scope: str, key: str, owner: str, payload: dict[str, Any]) -> bool:
        """Replace a held claim's payload with how far its work got, so an instance that
        redoes it skips what was done; False when ``owner`` no longer holds it."""
        return await self._change(
            "UPDATE claims SET payload = ? WHERE scope = ? AND key = ? AND owner = ?"
            " AND status = 'claimed' RETURNING 1",
            (json.dumps(payload), scope, key, owner),
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

    async def orphaned_claims(self, scope: str, lease: float, since: float) -> list[Orphan]:
        """The claims of ``scope`` not renewed for ``lease`` seconds, not done, with a
        payload, first claimed at ``since`` or later; oldest first."""
        rows = await self._rows(
            f"SELECT key, owner, claimed_at, payload FROM claims WHERE {_ORPHANED}"
            " AND claimed_at >= ? ORDER BY claimed_at",
            (scope, time.time() - lease, since),
        )
        return [Orphan(key, owner, at, json.loads(payload)) for key, owner, at, payload in rows]

    async def abandon_orphans(self, scope: str, lease: float, before: float) -> list[Orphan]:
        """Drop the payload of the orphaned claims of ``scope`` first claimed before
        ``before``, too old to redo, and return them without it (each to one caller
        only; the claims stay, so a late retry of the work may still take it over)."""

        async def abandon(s: AsyncSession) -> list[Orphan]:
            rows = await s.fetchall(
                f"UPDATE claims SET payload = NULL WHERE {_ORPHANED} AND claimed_at < ?"
                " RETURNING key, owner, claimed_at",
                (scope, time.time() - lease, before),
            )
            return [Orphan(key, owner, at, {}) for key, owner, at in rows]

        return await self._write(abandon)

    async def _change(self, sql: str, params: tuple[Any, ...]) -> bool:
        async def change(s: AsyncSession) -> bool:
            return await s.fetchone(sql, params) is not None

        return await self._write(change)
