"""Answering the messages an instance acknowledged and then died before answering.

Slack delivers an event again only until one instance acknowledges it: a question whose
instance is killed between the acknowledgement and the reply gets no retry. Its claim
(``SlackBot.spawn_answer``) keeps the event, the team and Parley's user id, and stops
being renewed; every instance looks for such claims (``Claims.orphans``) when it starts
and every half lease, and hands each event again to the listener Slack would have given
a retry (``events.on_mention`` or ``on_message``, by the event's type). An ``/ask``,
which Slack never retries either, is claimed the same way (``SlackBot.spawn_ask``) and
run again from its claim: its question posted if the dead instance had not, then
answered in that question's thread. Each redo claims its work as a live event does, so
the claim's takeover lets one instance alone answer it however many rescue it at once.
A message is thus answered at most a lease and a half (45 s by default) after its
instance died, or as soon as a restarted instance is up; one first claimed more than
``WINDOW`` ago is logged and left unanswered, since a reply to an old question out of
the blue after a long outage helps nobody.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from arena.store import Orphan

from ..periodic import Periodic
from . import events
from .app import MESSAGE_SCOPE, SlackBot

__all__ = ["WINDOW", "Rescue"]

WINDOW = 600.0  # seconds after its first claim that a dead instance's message is answered
log = logging.getLogger(__name__)

# the listener that answers each kind of event, as a retry would reach it
_LISTENERS: dict[str, Callable[[SlackBot, dict, str, str], Awaitable[None]]] = {
    "app_mention": events.on_mention,
    "message": events.on_message,
}


class Rescue(Periodic):
    """The look for messages left by dead instances, for one running bot: at ``start``,
    then every half lease until ``stop`` (a look under way is cancelled; the answers it
    started go on)."""

    def __init__(self, bot: SlackBot, *, window: float = WINDOW) -> None:
        self._bot = bot
        self.window = window
        super().__init__(
            self.sweep,
            bot.service.claims.lease / 2,
            failure="the look for messages left by dead instances failed",
            log=log,
            at_once=True,
        )

    async def sweep(self) -> int:
        """Hand each orphaned message to its listener again; how many were handed."""
        return await self.hand_over(await self.orphans())

    async def orphans(self) -> list[Orphan]:
        """The messages dead instances acknowledged within the window and left unanswered."""
        return await self._bot.service.claims.orphans(MESSAGE_SCOPE, self.window)

    async def hand_over(self, orphans: list[Orphan]) -> int:
        """Give each message to the listener a retry of it would reach; how many were."""
        return sum([await self._hand_over(orphan) for orphan in orphans])

    async def _hand_over(self, orphan: Orphan) -> bool:
        payload = orphan.payload
        try:
            if "command" in payload:  # an /ask, and its question's ts once posted
                redo = self._bot.spawn_ask(payload["team"], payload["command"], payload.get("root"))
            else:
                team, event, bot_user = (payload[k] for k in ("team", "event", "bot_user"))
                redo = _LISTENERS[event["type"]](self._bot, event, bot_user, team)
        except (KeyError, TypeError):
            log.warning("cannot answer %s again: its claim holds no event or /ask", orphan.key)
            await self._bot.service.claims.abandon(MESSAGE_SCOPE, orphan.key)
            return False
        age = time.time() - orphan.claimed_at
        log.info(
            "answering %s, which %s acknowledged %.0f s ago and did not finish",
            orphan.key,
            orphan.owner,
            age,
        )
        await redo
        return True
