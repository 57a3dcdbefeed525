"""A battle's reveal after a vote, at most one ``chat.update`` in flight per message.

Every vote on a battle reveals the names and marks the last vote, so a storm of votes
on one battle would edit its message once per click: Slack rate-limits ``chat.update``
per workspace, and each edit costs the instance a Web API call. While one edit of a
message is on its way, the votes stored meanwhile only leave the newest edit pending;
it is sent when the running one returns, so the message ends showing the last vote and
no vote waits for another's edit. The voters' confirmations are not coalesced: each
voter is told their own vote (``clicks.vote``).
"""

from __future__ import annotations

import logging

from slack_sdk.web.async_client import AsyncWebClient

from .web_api import DELIVERY_ERRORS, why

__all__ = ["Reveals"]

log = logging.getLogger(__name__)


class Reveals:
    """The pending and running edits of battle messages, per (channel, message ts)."""

    def __init__(self) -> None:
        # the newest edit not yet sent, and the voter whose vote it shows
        self._pending: dict[tuple[str, str], tuple[dict, str]] = {}
        self._running: set[tuple[str, str]] = set()

    async def show(
        self,
        client: AsyncWebClient,
        battle_id: int,
        user: str,
        channel: str,
        ts: str,
        text: str,
        blocks: list[dict],
    ) -> None:
        """Edit the message to ``text`` and ``blocks`` (``user``'s vote shown), or leave
        that for the edit of it already on its way to send next. A failed edit is logged
        (the votes are stored already) and the next pending one is still sent."""
        key = (channel, ts)
        edit = {"channel": channel, "ts": ts, "text": text, "blocks": blocks}
        self._pending[key] = (edit, user)
        if key in self._running:
            return
        self._running.add(key)
        try:
            while (newest := self._pending.pop(key, None)) is not None:
                edit, voter = newest
                try:
                    await client.chat_update(**edit)
                except DELIVERY_ERRORS as exc:  # the message is gone, or Slack is down
                    log.error(
                        "the vote on battle %s by %s is recorded, but Slack could not show it: %s",
                        battle_id,
                        voter,
                        why(exc),
                    )
        finally:
            self._running.discard(key)
