"""Work done once across a deployment: the claims the adapters and the scheduler take.

``Service.claims`` is one of these, over the service's store, so every instance sharing
a database (PostgreSQL, or one SQLite file) asks the same table (``arena.claims``).
``once(scope, key)`` is a block that runs only in the instance that wins the claim; the
winner renews its claim every ``lease / 3`` seconds while the block runs, marks it done
when the block ends, and gives it up when the block fails (so a retry may redo it). A
holder that crashed stops renewing: after ``lease`` seconds the next instance to ask
takes the work over. With ``wait``, an instance that finds the work held by a live
holder waits (asleep, polling once a lease) until it is done, or taken over because its
holder died, instead of dropping it: Slack delivers an event again only until one
instance acknowledges it, so the instance acknowledging a retry must be the one to
redo the crashed work.

A claim may carry a ``payload``, what redoing the work takes. When no retry will come
(Slack sends an acknowledged event only once), ``orphans`` finds the claims whose holder
died with their payloads, for an instance to redo them through ``once`` (whose
takeover lets one instance alone win each); orphans first claimed longer ago than the
caller's window are logged once and left alone: work that old is better not done out
of the blue. A claim that must be in the store before its work is promised (a Slack
event is acknowledged only once its message is claimed, so an instance that dies right
after acknowledging leaves it to the others) is started with ``attempt`` and finished by
``once(first=...)``. Work done in steps (an ``/ask`` posts the question, then answers
it) ``note``s the steps done in its payload, so a redo picks up after them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

from arena.errors import StoreError
from arena.store import Claim, Orphan, Store

__all__ = ["LEASE", "MAX_WAIT", "RETENTION", "Attempt", "Claims", "instance_name"]

LEASE = 30.0  # seconds a claim lasts without renewal: a crashed holder's work waits this long
MAX_WAIT = 600.0  # the longest an instance waits for another's live claim before giving up
RETENTION = 86_400.0  # claims older than a day are forgotten (Slack retries within minutes)
_FORGET_EVERY = 3_600.0  # seconds between sweeps of old claims
log = logging.getLogger(__name__)

Attempt = asyncio.Future[Claim]  # a first try at a claim, under way or made


def instance_name() -> str:
    """Who holds a claim: the host, the process and a random tag (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Claims:
    """``once`` blocks over one store, as one instance (``owner``)."""

    def __init__(self, store: Store, *, owner: str | None = None, lease: float = LEASE) -> None:
        self._store = store
        self.owner = owner or instance_name()
        self.lease = lease
        self._forgotten_at = time.monotonic()

    def attempt(self, scope: str, key: str, payload: dict[str, Any] | None = None) -> Attempt:
        """Start the first try at a claim now, for a caller that must know it is written
        before it answers its sender (Slack's acknowledgement) and then does the work
        later: hand the attempt to ``once`` as ``first``."""
        return asyncio.ensure_future(self._store.claim(scope, key, self.owner, self.lease, payload))

    @contextlib.asynccontextmanager
    async def once(
        self,
        scope: str,
        key: str,
        *,
        wait: bool = False,
        payload: dict[str, Any] | None = None,
        first: Attempt | None = None,
    ) -> AsyncIterator[bool]:
        """Yield True in the one instance that is to do the work, else False (done, or
        held by a live holder and ``wait`` is off, or still held after ``MAX_WAIT``).
        ``payload`` is stored with the claim, for another instance to redo the work if
        this one dies; ``first``, an ``attempt`` already made, is the first try. A store
        that cannot be reached yields True: answering twice is better than never."""
        try:
            mine = await self._take(scope, key, wait=wait, payload=payload, first=first)
        except StoreError as exc:
            log.warning("claim %s/%s not checked (%s): doing the work", scope, key, exc)
            yield True
            return
        if not mine:
            yield False
            return
        renewing = asyncio.create_task(self._renew(scope, key))
        try:
            yield True
        except BaseException:
            renewing.cancel()
            with contextlib.suppress(StoreError):
                await self._store.release_claim(scope, key, self.owner)
            raise
        renewing.cancel()
        try:
            await self._store.finish_claim(scope, key, self.owner)
        except StoreError as exc:  # the lease runs out; a retry would do it again
            log.warning("could not mark %s/%s done: %s", scope, key, exc)
        await self._forget_old()

    async def note(self, scope: str, key: str, payload: dict[str, Any]) -> None:
        """Record how far a held claim's work got (its new ``payload``), so an instance
        that redoes it after this one dies does not repeat the done part. A note not
        written is logged: a redo then repeats that part."""
        try:
            if await self._store.note_claim(scope, key, self.owner, payload):
                return
            log.warning("%s/%s is no longer held by this instance: progress not noted", scope, key)
        except StoreError as exc:
            log.warning("could not note the progress of %s/%s: %s", scope, key, exc)

    async def abandon(self, scope: str, key: str) -> None:
        """End a claim whose work cannot be done (a payload this version cannot read, a
        channel gone since), so that no later look for orphans tries it again."""
        async with self.once(scope, key):
            return

    async def orphans(self, scope: str, window: float) -> list[Orphan]:
        """The claims of ``scope`` whose holder stopped renewing them (it died) within the
        last ``window`` seconds, to redo; older ones are logged and abandoned. Empty when
        the store cannot be reached: the next call looks again."""
        now = time.time()
        try:
            for old in await self._store.abandon_orphans(scope, self.lease, now - window):
                log.warning(
                    "not redoing %s/%s: %s claimed it %.0f s ago and died (older than %.0f s)",
                    scope,
                    old.key,
                    old.owner,
                    now - old.claimed_at,
                    window,
                )
            return await self._store.orphaned_claims(scope, self.lease, now - window)
        except StoreError as exc:
            log.warning("could not look for %s claims left by dead instances: %s", scope, exc)
            return []

    async def _take(
        self,
        scope: str,
        key: str,
        *,
        wait: bool,
        payload: dict[str, Any] | None,
        first: Attempt | None,
    ) -> bool:
        deadline = time.monotonic() + MAX_WAIT
        while True:
            claim = await (first or self._store.claim(scope, key, self.owner, self.lease, payload))
            first = None
            if claim.won:
                return True
            if claim.status == "done" or not wait:
                log.debug("%s/%s is %s by %s", scope, key, claim.status, claim.owner)
                return False
            if time.monotonic() >= deadline:
                log.warning("%s/%s still held by %s: left to it", scope, key, claim.owner)
                return False
            # asleep until its lease would run out, were it not renewed
            expires = claim.renewed_at + self.lease - time.time()
            await asyncio.sleep(min(max(expires, 0.0) + 0.05, self.lease))

    async def _renew(self, scope: str, key: str) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self._store.renew_claim(scope, key, self.owner):
                    log.warning("%s/%s was taken over by another instance", scope, key)
                    return
            except StoreError as exc:  # the next renewal may get through in time
                log.warning("could not renew the claim on %s/%s: %s", scope, key, exc)

    async def _forget_old(self) -> None:
        if time.monotonic() - self._forgotten_at < _FORGET_EVERY:
            return
        self._forgotten_at = time.monotonic()
        with contextlib.suppress(StoreError):
            await self._store.forget_claims(time.time() - RETENTION)
