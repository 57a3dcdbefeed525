"""Parley's Slack app: bolt listeners that acknowledge, then hand the work to the service.

Every listener acknowledges first and starts its work as a task, so Slack hears back
within its three seconds however slow the models are; ``drain`` waits for those tasks
(tests, benchmarks, shutdown). Questions come from mentions, DMs, follow-ups in threads
Parley has answered, ``/ask`` and the assistant panel (``bot.slack.assistant``); clicks
become votes and thumbs. Nothing here decides anything the service can decide: who may
re-index, what a thread's history is, what a battle is. A retried event (same
``event_id``) is dropped by a middleware that claims the id before any ``await``, so
it is answered once even when the retry arrives while the first is still being answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
from aiohttp import ClientOSError, ServerConnectionError, ServerDisconnectedError
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import RandomJitter
from slack_sdk.web.async_client import AsyncWebClient

from arena.errors import ArenaError, VoteRefused
from knowledge.errors import KnowledgeError

from .. import messages
from ..access import Requester
from ..chat_reindex import reindex_from_chat
from ..config import ChannelMode, Settings
from ..errors import BotError, NotRecorded
from ..service import Ask, Reply, Service
from ..streaming import Throttled
from . import blocks
from .assistant import attach_assistant
from .blocks import Message

__all__ = [
    "OUTAGE_RETRIES",
    "PLATFORM",
    "WEB_API_TIMEOUT",
    "SlackBot",
    "ask_only_hint",
    "build_client",
    "reply_messages",
    "retry_handlers",
    "switched_off",
]

PLATFORM = "slack"
WORKING_REACTION = "eyes"
EDIT_INTERVAL = 1.0  # seconds between edits of a streaming answer (chat.update is Tier 3)
_SEEN_EVENTS = 10_000  # event ids remembered for retries (Slack retries within minutes)
_CHANNEL_REF = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_NOT_IN_CHANNEL = {"not_in_channel", "channel_not_found", "is_archived"}
# an outage of ~15 s is ridden out: waits of 0.5, 1, 2, 4, 8 s (plus jitter), then it is logged
OUTAGE_RETRIES = 5
WEB_API_TIMEOUT = 30.0  # seconds for one Web API call (slack_sdk's default), then retried
# what a failed Web API call raises once its retries are spent
_DELIVERY_ERRORS = (SlackApiError, aiohttp.ClientError, TimeoutError)
log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]


def retry_handlers(backoff: float = 0.5) -> list[AsyncRetryHandler]:
    """Slack's 500s and 503s, dropped and timed-out connections retried with exponential
    backoff (``backoff`` seconds first), 429s after their Retry-After: a short Slack
    outage delays a post instead of losing it."""
    waits = BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=RandomJitter())
    dropped = [ServerConnectionError, ServerDisconnectedError, ClientOSError, TimeoutError]
    return [
        AsyncConnectionErrorRetryHandler(OUTAGE_RETRIES, waits, error_types=dropped),
        AsyncServerErrorRetryHandler(OUTAGE_RETRIES, waits),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
    ]


def build_client(
    settings: Settings, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client: the configured base URL and ``retry_handlers``.
    Pass a ``session`` to reuse connections (without one, every call opens its own)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    options: dict[str, Any] = {"base_url": settings.slack_api_url.rstrip("/") + "/"}
    return AsyncWebClient(
        token=token,
        session=session,
        **(options if settings.slack_api_url else {}),
        retry_handlers=retry_handlers(),
    )


def ask_only_hint() -> str:
    return "In this channel I answer through `/ask`: try `/ask your question`."


def switched_off() -> str:
    return "Parley is switched off in this channel."


def _invite_me() -> str:
    return "I'm not in this channel yet: invite me with `/invite @Parley`, then ask again."


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
        self._web_url = settings.web_url  # /leaderboard links to the dashboard
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
            process_before_response=False,
        )
        self._tasks: set[asyncio.Task] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._register()

    # --- running work after the acknowledgement ----------------------------------------

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the listener returns; failures are logged, never lost."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait until every started piece of work has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

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

    # --- listeners: translate and spawn ------------------------------------------------

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
        app.event("app_mention")(self._on_mention)
        app.event("message")(self._on_message)
        app.command("/ask")(self._on_ask)
        app.command("/leaderboard")(self._on_leaderboard)
        app.command("/reindex")(self._on_reindex)
        app.action(re.compile(f"^{blocks.ACTION_VOTE}_"))(self._on_vote)
        app.action(blocks.ACTION_THUMB_UP)(self._on_thumb)
        app.action(blocks.ACTION_THUMB_DOWN)(self._on_thumb)
        app.view(blocks.REASON_MODAL)(self._on_reason)

    async def _on_mention(self, event: dict, context: dict) -> None:
        if event.get("bot_id"):
            return
        channel, user = event["channel"], event.get("user", "")
        thread = event.get("thread_ts") or event["ts"]
        mode = self.mode(channel)
        if mode == "ask_only":
            self.spawn(self._ephemeral(channel, user, ask_only_hint(), thread))
        elif mode == "mentions":
            me = re.compile(rf"<@{re.escape(context.get('bot_user_id') or '')}(?:\|[^>]*)?>")
            text = me.sub("", event.get("text", "")).strip()
            self.spawn(self.answer(channel, user, text, thread, react_to=event["ts"]))

    async def _on_message(self, event: dict, context: dict) -> None:
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, joins, other bots and Parley itself
        channel, text = event["channel"], event.get("text", "")
        thread = event.get("thread_ts") or event["ts"]
        if event.get("channel_type") == "im":
            self.spawn(self.answer(channel, event["user"], text, thread, react_to=event["ts"]))
        elif (
            event.get("thread_ts")
            and self.mode(channel) == "mentions"
            and f"<@{context.get('bot_user_id')}>" not in text  # app_mention answers those
        ):
            self.spawn(self._follow_up(event))

    async def _follow_up(self, event: dict) -> None:
        channel, thread = event["channel"], event["thread_ts"]
        if await self.service.in_conversation(PLATFORM, channel, thread):
            await self.answer(channel, event["user"], event["text"], thread, react_to=event["ts"])

    async def _on_ask(self, ack, command: dict, respond: Respond) -> None:
        await ack()
        self.spawn(self._ask_command(command, respond))

    async def _on_leaderboard(self, ack, command: dict, respond: Respond) -> None:
        await ack()
        self.spawn(self._leaderboard(command, respond))

    async def _on_reindex(self, ack, command: dict, respond: Respond) -> None:
        await ack()
        self.spawn(self._reindex(command, respond))

    async def _on_vote(self, ack, body: dict, action: dict) -> None:
        await ack()
        self.spawn(self._vote(body, action))

    async def _on_thumb(self, ack, body: dict, action: dict) -> None:
        await ack()
        self.spawn(self._thumb(body, action))

    async def _on_reason(self, ack, body: dict, view: dict) -> None:
        await ack()
        self.spawn(self._reason(body, view))

    # --- questions ---------------------------------------------------------------------

    async def answer(
        self, channel: str, user: str, text: str, thread: str, *, react_to: str | None = None
    ) -> None:
        """Show that work started, ask the service, post the reply in the thread, and take
        the working sign away again."""
        if react_to:
            await self._react(self.client.reactions_add, channel, react_to)
        question_id = 0
        live: str | None = None  # the ts of the message a streaming answer is shown in

        async def show(partial: str) -> None:
            nonlocal live
            message = blocks.partial_message(partial)
            try:
                if live is None:
                    live = (await self._post(channel, thread, message))["ts"]
                else:
                    await self.client.chat_update(channel=channel, ts=live, **message.as_kwargs())
            except _DELIVERY_ERRORS as exc:  # the final message still comes
                log.warning("could not show a partial answer in %s: %s", channel, _why(exc))

        try:
            reply = await self.service.ask(
                Ask(text, user, channel, thread, PLATFORM), on_text=Throttled(show, EDIT_INTERVAL)
            )
        except (BotError, ArenaError, KnowledgeError) as exc:
            replies = [blocks.text_message(str(exc))]
        else:
            replies, question_id = reply_messages(text, reply), reply.question_id
        try:
            for message in replies:
                if live is None:
                    await self._post(channel, thread, message)
                else:  # the first message takes the place of the partial answer
                    await self.client.chat_update(channel=channel, ts=live, **message.as_kwargs())
                    live = None
        except _DELIVERY_ERRORS as exc:  # Slack is down past the retries: the store has it
            log.error(
                "could not deliver the answer to question %s in %s: %s",
                question_id,
                channel,
                _why(exc),
            )
            return
        if react_to:
            await self._react(self.client.reactions_remove, channel, react_to)

    async def _react(self, call: Callable[..., Awaitable[Any]], channel: str, ts: str) -> None:
        try:
            await call(channel=channel, timestamp=ts, name=WORKING_REACTION)
        except _DELIVERY_ERRORS as exc:  # already reacted, no reactions scope, Slack down
            log.warning("could not change the working reaction: %s", _why(exc))

    async def _post(self, channel: str, thread: str | None, message: Message) -> dict:
        response = await self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread,
            unfurl_links=False,
            unfurl_media=False,
            **message.as_kwargs(),
        )
        return response.data  # type: ignore[return-value]

    async def _ephemeral(self, channel: str, user: str, text: str, thread: str | None) -> None:
        await self.client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread, **blocks.text_message(text).as_kwargs()
        )

    async def _ask_command(self, command: dict, respond: Respond) -> None:
        channel, user = command["channel_id"], command["user_id"]
        text = command.get("text", "").strip()
        if self.mode(channel) == "off":
            await respond(text=switched_off(), response_type="ephemeral")
            return
        if not text:
            await respond(text=messages.empty_question(), response_type="ephemeral")
            return
        try:
            root = await self._post(channel, None, blocks.question_message(user, text))
        except SlackApiError as exc:
            if exc.response.get("error") not in _NOT_IN_CHANNEL:
                raise
            await respond(text=_invite_me(), response_type="ephemeral")
            return
        await self.answer(channel, user, text, root["ts"])

    # --- votes and thumbs --------------------------------------------------------------

    async def _vote(self, body: dict, action: dict) -> None:
        user, channel = body["user"]["id"], body["channel"]["id"]
        message = body["message"]
        thread = message.get("thread_ts")
        choice = action["action_id"].removeprefix(f"{blocks.ACTION_VOTE}_")
        try:
            battle_id = int(action["value"])
            result = await self.service.vote(
                battle_id,
                user,
                choice,
                platform=PLATFORM,
                channel=channel,  # type: ignore[arg-type]
            )
        except (ValueError, VoteRefused, NotRecorded) as exc:
            await self._ephemeral(channel, user, str(exc), thread)
            return
        text = messages.vote_recorded(result.model_a, result.model_b, choice, result.replaced)  # type: ignore[arg-type]
        names = f"Model A: {result.model_a}. Model B: {result.model_b}."
        try:
            await self.client.chat_update(
                channel=channel,
                ts=message["ts"],
                text=message.get("text") or names,  # Slack's payload carries the posted text
                blocks=blocks.reveal_battle(message.get("blocks", []), battle_id, result),
            )
            await self._ephemeral(channel, user, text, thread)
        except _DELIVERY_ERRORS as exc:  # Slack is down past the retries: the vote is stored
            log.error(
                "the vote on battle %s by %s is recorded, but Slack could not show it: %s",
                battle_id,
                user,
                _why(exc),
            )

    async def _thumb(self, body: dict, action: dict) -> None:
        user, channel = body["user"]["id"], body["channel"]["id"]
        thread = body["message"].get("thread_ts")
        target = json.loads(action["value"])
        up = action["action_id"] == blocks.ACTION_THUMB_UP
        try:
            await self.service.thumb(int(target["answer"]), user, 1 if up else -1)
        except (VoteRefused, NotRecorded) as exc:
            await self._ephemeral(channel, user, str(exc), thread)
            return
        if up:
            text = messages.thumb_recorded(target["model"], 1)
            await self._ephemeral(channel, user, text, thread)
        else:  # stored already; the modal only adds an optional reason
            view = blocks.reason_modal(int(target["answer"]), target["model"], channel, thread)
            await self.client.views_open(trigger_id=body["trigger_id"], view=view)

    async def _reason(self, body: dict, view: dict) -> None:
        meta = json.loads(view["private_metadata"])
        user = body["user"]["id"]
        try:
            await self.service.thumb(int(meta["answer"]), user, -1, blocks.reason_of(view))
        except NotRecorded as exc:
            await self._ephemeral(meta["channel"], user, str(exc), meta.get("thread"))
            return
        text = messages.thumb_recorded(meta["model"], -1)
        await self._ephemeral(meta["channel"], user, text, meta.get("thread"))

    # --- leaderboard and re-index ------------------------------------------------------

    async def _leaderboard(self, command: dict, respond: Respond) -> None:
        channel = command["channel_id"]
        ref = _CHANNEL_REF.search(command.get("text", ""))
        if command.get("text", "").strip() and not ref:
            await respond(text=_which_channel(), response_type="ephemeral")
            return
        board = await self.service.leaderboard(ref.group(1) if ref else None, chart=True)
        if not board.rows:
            await respond(text=messages.no_votes_yet(), response_type="ephemeral")
            return
        try:
            link = messages.dashboard_link(self._web_url, board.channel) if self._web_url else None
            message = blocks.leaderboard_message(board, _name(ref), link)
            posted = await self._post(channel, None, message)
        except SlackApiError as exc:
            if exc.response.get("error") not in _NOT_IN_CHANNEL:
                raise
            await respond(text=_invite_me(), response_type="ephemeral")
            return
        if board.chart_png:
            await self.client.files_upload_v2(
                channel=channel,
                thread_ts=posted["ts"],
                content=board.chart_png,
                filename="leaderboard.png",
                title="Parley leaderboard",
            )

    async def _reindex(self, command: dict, respond: Respond) -> None:
        channel = command["channel_id"]
        requester = Requester(PLATFORM, command["user_id"])
        if not self.service.may_reindex(requester):
            await respond(text=messages.not_admin(), response_type="ephemeral")
            return
        running = self.service.reindex_status
        if running is not None:
            await respond(text=messages.reindex_busy(running), response_type="ephemeral")
            return
        posted = await self._post(channel, None, blocks.text_message("Re-indexing: starting"))

        async def show(text: str) -> None:
            try:
                message = blocks.text_message(text)
                await self.client.chat_update(
                    channel=channel, ts=posted["ts"], **message.as_kwargs()
                )
            except SlackApiError as exc:  # the message was deleted: keep indexing
                log.warning("could not update the re-index message: %s", exc.response.get("error"))

        await reindex_from_chat(self.service, requester, show)


def reply_messages(question: str, reply: Reply) -> list[Message]:
    """The service's Reply as the messages to post in the thread."""
    if reply.is_battle:
        assert reply.battle_id is not None
        return [blocks.battle_message(question, reply.answers, reply.battle_id)]
    if reply.answers:
        return blocks.answer_messages(reply.answers[0], reply.notices)
    return [blocks.notice_message(reply.notices)]


def _which_channel() -> str:
    return "Name a channel with #, like `/leaderboard #support`, or leave it out for all."


def _name(ref: re.Match[str] | None) -> str | None:
    return (ref.group(2) or ref.group(1)) if ref else None


def _why(exc: Exception) -> str:
    """A failed Web API call in a few words: Slack's error code, or the exception."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return f"{type(exc).__name__}: {exc}"
