"""Parley's Slack app: the bolt app, its listeners, and the work they start.

Every listener acknowledges at once (a question, once claimed) and starts its work as a
task, so Slack hears back within its three seconds however slow the models are;
``drain`` waits for those tasks (tests, benchmarks, shutdown). Where each kind of
request is handled:

- mentions and messages: ``events`` (which ones Parley answers, and why the rest are not);
- the answer itself, in a thread: ``questions``;
- ``/ask``, ``/leaderboard``, ``/reindex``: ``commands``;
- vote buttons, thumbs and the reason form: ``clicks`` (a battle's reveal: ``reveals``);
- the assistant panel: ``assistant``; Web API calls and their retries: ``web_api``.

A retried event (same ``event_id``) is dropped by a middleware that claims the id
before any ``await``, so it is answered once even when the retry arrives while the first
is still being answered. Across instances (several behind one load balancer, sharing a
database) a message is answered once through a claim on it in the shared store, keyed by
team, channel and message ``ts`` (``spawn_answer``, ``bot.claims``): the same for a
retry that reaches another instance and for the ``app_mention`` and ``message`` events of
one mention. The claim is written before the acknowledgement (bolt acknowledges once the
listener returns: ``process_before_response``), so a message Slack hears acknowledged is
one the store knows; it costs the acknowledgement one write, bounded by ``CLAIM_WAIT``
(a slower store gets its acknowledgement anyway, and the claim follows). A claim whose
holder crashed is taken over by the instance that acknowledged the retry, once the
holder's lease runs out. The claim carries the event (with the team and Parley's user
id), so that a message whose instance died after acknowledging it, which Slack never
retries, is answered by another instance's ``rescue.Rescue`` instead. An ``/ask`` is
claimed before its acknowledgement too (``spawn_ask``), by its trigger id, and its claim
notes the question's ts once posted, for a rescue to answer in that thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from ..background import Background
from ..claims import Attempt
from ..config import ChannelMode, Settings
from ..service import Service
from . import blocks, clicks, commands, events
from .assistant import attach_assistant
from .questions import PLATFORM
from .reveals import Reveals
from .web_api import WEB_API_TIMEOUT, build_client

__all__ = [
    "CLAIM_WAIT",
    "MESSAGE_SCOPE",
    "PLATFORM",
    "SlackBot",
    "Work",
    "ask_key",
    "message_key",
]

_SEEN_EVENTS = 10_000  # event ids remembered for retries (Slack retries within minutes)
MESSAGE_SCOPE = "slack-message"  # the claims on answering a message or an /ask (``bot.claims``)
CLAIM_WAIT = 1.0  # seconds an acknowledgement waits for its message's claim (Slack allows 3)
log = logging.getLogger(__name__)

# what a listener starts once it has acknowledged: the bot and bolt's arguments
Work = Callable[["SlackBot", AsyncArgs], Coroutine[Any, Any, None]]


def ask_key(team: str, command: dict) -> str:
    """An ``/ask``'s claim key: Slack sends each command once, with its own trigger."""
    return f"{team}:{command['channel_id']}:ask:{command['trigger_id']}"


def message_key(team: str, event: dict) -> str:
    """A message's claim key: the same for every event about it (a retry, the mention's
    ``app_mention`` and ``message``), whichever instance receives it."""
    return f"{team}:{event['channel']}:{event['ts']}"


class SlackBot:
    """The bolt app and its listeners, over one Service. Build it inside the running
    event loop (it opens the HTTP session its Web API calls share); ``close`` when done."""

    def __init__(
        self,
        service: Service,
        settings: Settings,
        *,
        client: AsyncWebClient | None = None,
        http: bool = True,
    ) -> None:
        self.service = service
        self._modes: dict[str, ChannelMode] = dict(settings.slack_channel_modes)
        self.web_url = settings.web_url  # /leaderboard links to the dashboard
        self.attachment_max_bytes = settings.attachment_max_bytes  # more is not downloaded
        secret = settings.slack_signing_secret
        # slack_sdk applies its own timeout only to sessions it opens itself, so ours has one
        timeout = aiohttp.ClientTimeout(total=WEB_API_TIMEOUT)
        self._session = None if client else aiohttp.ClientSession(timeout=timeout)
        self.client = client or build_client(settings, self._session)
        self.app = AsyncApp(
            name="parley",
            client=self.client,
            signing_secret=secret.get_secret_value() if secret else "",
            request_verification_enabled=http,
            process_before_response=True,  # listeners only start work: see the module
        )
        self.reveals = Reveals()  # one edit of a battle's message on its way at a time
        self.work = Background("Slack work failed", log)  # what the listeners started
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._register()

    # --- running work after the acknowledgement ----------------------------------------

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the listener returns; failures are logged, never lost."""
        self.work.spawn(work)

    async def spawn_answer(
        self, team: str, event: dict, bot_user: str, work: Coroutine[Any, Any, None]
    ) -> None:
        """Run ``work``, the reply to the message ``event``, in the one instance that
        claims the message; the others drop it (or wait while a live instance holds it,
        to take it over if that one dies). The claim keeps what the listener was given
        (``team``, ``event``, ``bot_user``), for ``rescue`` to hand it over again."""
        payload = {"team": team, "event": event, "bot_user": bot_user}
        await self._spawn_claimed(message_key(team, event), payload, work)

    async def spawn_ask(self, team: str, command: dict, root: str | None = None) -> None:
        """Run an ``/ask`` (``command``: the fields ``commands.kept``; ``root``: its
        question's ts, once posted) under a claim, like a message's reply, so that
        another instance's ``rescue`` answers it if this one dies."""
        payload = {"team": team, "command": command} | ({"root": root} if root else {})
        key = ask_key(team, command)
        await self._spawn_claimed(key, payload, commands.ask(self, key, payload))

    async def note(self, key: str, payload: dict) -> None:
        """Record in the claim ``key`` how far its work got (``payload``)."""
        await self.service.claims.note(MESSAGE_SCOPE, key, payload)

    async def _spawn_claimed(
        self, key: str, payload: dict, work: Coroutine[Any, Any, None]
    ) -> None:
        """Start ``work`` under the claim ``key``; return once the claim is written (or
        after ``CLAIM_WAIT``), so that Slack is acknowledged only for work the store
        knows."""
        first = self.service.claims.attempt(MESSAGE_SCOPE, key, payload)
        await asyncio.wait({first}, timeout=CLAIM_WAIT)
        self.spawn(self._once(key, payload, work, first))

    async def _once(
        self, key: str, payload: dict, work: Coroutine[Any, Any, None], first: Attempt
    ) -> None:
        claims = self.service.claims
        async with claims.once(MESSAGE_SCOPE, key, wait=True, payload=payload, first=first) as mine:
            if mine:
                await work
                return
        log.debug("not answering %s: another instance answers it", key)
        work.close()  # never started

    async def drain(self) -> None:
        """Wait until every started piece of work has finished."""
        await self.work.drain()

    async def close(self) -> None:
        """Let the started work finish, then close the Web API session."""
        await self.drain()
        if self._session is not None:
            await self._session.close()

    def _first_delivery(self, event_id: str) -> bool:
        """Claim an event id; False for a retry of one already claimed. No await inside,
        so two concurrent deliveries cannot both claim it."""
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > _SEEN_EVENTS:
            self._seen.popitem(last=False)
        return True

    def mode(self, channel: str) -> ChannelMode:
        return self._modes.get(channel, "mentions")

    # --- listeners ---------------------------------------------------------------------

    def _acked(self, work: Work) -> Callable[[AsyncArgs], Awaitable[None]]:
        """A listener that acknowledges at once, then runs ``work`` as a task."""

        async def listener(args: AsyncArgs) -> None:
            await args.ack()
            self.spawn(work(self, args))

        return listener

    def _register(self) -> None:
        app = self.app

        @app.middleware
        async def drop_retries(body: dict, next: Callable[[], Awaitable[None]]):
            event_id = body.get("event_id")
            is_event = body.get("type") == "event_callback" and event_id
            if is_event and not self._first_delivery(event_id):
                return BoltResponse(status=200, body="")  # a retry: answered already
            return await next()

        attach_assistant(self)

        # events are acknowledged by bolt once these return: they decide, claim and spawn
        @app.event("app_mention")
        async def mention(event: dict, context: dict) -> None:
            bot_user = context.get("bot_user_id") or ""
            await events.on_mention(self, event, bot_user, context.get("team_id") or "")

        @app.event("message")
        async def message(event: dict, context: dict) -> None:
            bot_user = context.get("bot_user_id") or ""
            await events.on_message(self, event, bot_user, context.get("team_id") or "")

        @app.command("/ask")
        async def ask(ack: AsyncAck, command: dict) -> None:
            await self.spawn_ask(command["team_id"], commands.kept(command))
            await ack()

        app.command("/leaderboard")(self._acked(commands.leaderboard))
        app.command("/reindex")(self._acked(commands.reindex))
        app.action(re.compile(f"^{blocks.ACTION_VOTE}_"))(self._acked(clicks.vote))
        app.action(blocks.ACTION_THUMB_UP)(self._acked(clicks.thumb))
        app.action(blocks.ACTION_THUMB_DOWN)(self._acked(clicks.thumb))
        app.view(blocks.REASON_MODAL)(self._acked(clicks.reason))
