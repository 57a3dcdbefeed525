"""Answering the ``/ask`` interactions an instance deferred and then died before answering.

One instance holds a bot token's gateway; when it dies, a standby takes the gateway over
(``gateway``), but the interactions the dead one had deferred show "thinking…" until
their token runs out, since Discord delivers an interaction once. Each ``/ask`` is
answered under a claim that keeps what answering it takes, its interaction's token
included (``commands.answer_claimed``); a claim its holder stopped renewing is an
orphan (``Claims.orphans``), and the instance now serving looks for those when it
connects and every half lease, and answers each into the interaction's original
response through the token (``Followups.rescued``). The claim's takeover lets one
instance alone answer it. An interaction first claimed more than ``WINDOW`` ago is
logged and left: its token (15 minutes) may run out before an answer is ready.
"""

from __future__ import annotations

import logging

import discord

from arena.store import Orphan

from ..background import Background
from ..periodic import Periodic
from ..service import Service
from .commands import ASK_SCOPE, Followups, answer_claimed

__all__ = ["WINDOW", "Rescue"]

WINDOW = 600.0  # seconds after its first claim that a dead instance's /ask is answered
log = logging.getLogger(__name__)


class Rescue(Periodic):
    """The look for ``/ask``s left by dead instances, for one connected client: at
    ``start``, then every half lease until ``stop`` (a look under way is cancelled; the
    answers it started go on, as the client's other work does)."""

    def __init__(self, client: discord.Client, service: Service, *, window: float = WINDOW) -> None:
        self._client = client
        self._service = service
        self.window = window
        self._answering = Background("answering a rescued /ask failed", log)
        super().__init__(
            self.sweep,
            service.claims.lease / 2,
            failure="the look for /ask interactions left by dead instances failed",
            log=log,
            at_once=True,
        )

    async def sweep(self) -> int:
        """Start answering each orphaned ``/ask``; how many were started."""
        orphans = await self._service.claims.orphans(ASK_SCOPE, self.window)
        return sum(self._hand_over(orphan) for orphan in orphans)

    def _hand_over(self, orphan: Orphan) -> bool:
        asked = orphan.payload
        try:
            replies = Followups.rescued(self._client, asked["application_id"], asked["token"])
        except (KeyError, TypeError):
            log.warning("cannot answer %s again: its claim holds no /ask", orphan.key)
            return False
        log.info(
            "answering /ask %s, which %s deferred and did not finish", orphan.key, orphan.owner
        )
        self._answering.spawn(answer_claimed(self._service, orphan.key, asked, replies))
        return True
