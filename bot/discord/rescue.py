"""Answering the ``/ask``s and messages an instance took and then died before answering.

One instance holds a bot token's gateway; when it dies, a standby takes the gateway over
(``gateway``), but Discord delivers an interaction or a message once: the ``/ask``s the
dead one had deferred would show "thinking…" until their token runs out, and the
mentions it was answering would get no answer. Each is answered under a claim that
keeps what answering it takes: an ``/ask``'s interaction token
(``commands.answer_claimed``), a message's place and, once shown, the thread and the
partial answer (``mentions.answer``). A claim its holder stopped renewing is an orphan
(``Claims.orphans``); the instance now serving looks for those when it connects and
every half lease, and answers each: an ``/ask`` into the interaction's original
response through the token (``Followups.rescued``), a message where the dead one was
answering it (``mentions.rescued``). The claim's takeover lets one instance alone
answer it. Work first claimed more than ``WINDOW`` ago is logged and left: an
interaction's token (15 minutes) may run out before an answer is ready, and an answer
that late to a message would come out of the blue.
"""

from __future__ import annotations

import logging

import discord

from arena.store import Orphan

from ..background import Background
from ..periodic import Periodic
from ..service import Service
from .commands import ASK_SCOPE, Followups, answer_claimed
from .mentions import MENTION_SCOPE, rescued

__all__ = ["WINDOW", "Rescue"]

WINDOW = 600.0  # seconds after its first claim that a dead instance's work is redone
log = logging.getLogger(__name__)


class Rescue(Periodic):
    """The look for ``/ask``s and messages left by dead instances, for one connected client: at
    ``start``, then every half lease until ``stop`` (a look under way is cancelled; the
    answers it started go on, as the client's other work does)."""

    def __init__(self, client: discord.Client, service: Service, *, window: float = WINDOW) -> None:
        self._client = client
        self._service = service
        self.window = window
        self._answering = Background("answering a rescued /ask or message failed", log)
        super().__init__(
            self.sweep,
            service.claims.lease / 2,
            failure="the look for /asks and messages left by dead instances failed",
            log=log,
            at_once=True,
        )

    async def sweep(self) -> int:
        """Start answering each orphaned ``/ask`` and message; how many were started."""
        claims = self._service.claims
        asks = await claims.orphans(ASK_SCOPE, self.window)
        mentions = await claims.orphans(MENTION_SCOPE, self.window)
        return sum(map(self._ask, asks)) + sum(map(self._message, mentions))

    def _ask(self, orphan: Orphan) -> bool:
        asked = orphan.payload
        try:
            replies = Followups.rescued(self._client, asked["application_id"], asked["token"])
        except (KeyError, TypeError):
            log.warning("cannot answer %s again: its claim holds no /ask", orphan.key)
            self._answering.spawn(self._service.claims.abandon(ASK_SCOPE, orphan.key))
            return False
        log.info(
            "answering /ask %s, which %s deferred and did not finish", orphan.key, orphan.owner
        )
        self._answering.spawn(
            answer_claimed(self._service, self._client, orphan.key, asked, replies)
        )
        return True

    def _message(self, orphan: Orphan) -> bool:
        asked = orphan.payload
        if not isinstance(asked, dict) or not {"posted_in", "message", "question"} <= asked.keys():
            log.warning("cannot answer %s again: its claim holds no message", orphan.key)
            self._answering.spawn(self._service.claims.abandon(MENTION_SCOPE, orphan.key))
            return False
        log.info("answering message %s, which %s took and did not finish", orphan.key, orphan.owner)
        self._answering.spawn(rescued(self._client, self._service, orphan.key, asked))
        return True
