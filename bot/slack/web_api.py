"""Slack's Web API as Parley uses it: the client (base URL, timeout, retries), the calls
every Slack path shares (a post in a thread, an update, a private reply, the working
reaction), the start-up checks of the tokens, and the poster of audit reports.

A short Slack outage delays a post instead of losing it (``retry_handlers``); a post
that still fails raises one of ``DELIVERY_ERRORS``, which callers log with ``why``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import ClientOSError, ServerConnectionError, ServerDisconnectedError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import RandomJitter
from slack_sdk.web.async_client import AsyncWebClient

from .. import messages
from ..audits import Post
from ..config import Settings
from ..errors import BotError
from ..render import split_text
from ..startup import NETWORK_ERRORS, START_TIMEOUT, network_reason
from .blocks import Message, text_message

__all__ = [
    "BOT_SCOPES",
    "DELIVERY_ERRORS",
    "OUTAGE_RETRIES",
    "START_RETRIES",
    "TEXT_LIMIT",
    "WEB_API_TIMEOUT",
    "WORKING_REACTION",
    "Identity",
    "api_url",
    "audit_poster",
    "build_client",
    "check_bot_token",
    "ephemeral",
    "post",
    "react",
    "retry_handlers",
    "socket_mode_url",
    "update",
    "why",
]

# an outage of ~15 s is ridden out: waits of 0.5, 1, 2, 4, 8 s (plus jitter), then it is logged
OUTAGE_RETRIES = 5
START_RETRIES = 2  # a starting bot says what is wrong within seconds, not after an outage's worth
WEB_API_TIMEOUT = 30.0  # seconds for one Web API call (slack_sdk's default), then retried
TEXT_LIMIT = 3000  # characters a message section shows before Slack folds it
WORKING_REACTION = "eyes"
log = logging.getLogger(__name__)
# what a failed Web API call raises once its retries are spent
DELIVERY_ERRORS = (SlackApiError, aiohttp.ClientError, TimeoutError)
# the bot scopes manifest.yml asks for: what Parley's calls need
BOT_SCOPES = frozenset(
    {
        "app_mentions:read",
        "assistant:write",
        "channels:history",
        "chat:write",
        "commands",
        "files:read",
        "files:write",
        "groups:history",
        "im:history",
        "mpim:history",
        "reactions:write",
    }
)
# auth.test's and apps.connections.open's answers for a token that will never work
_REFUSED = {
    "account_inactive",
    "invalid_auth",
    "not_allowed_token_type",
    "not_authed",
    "token_expired",
    "token_revoked",
}


def retry_handlers(backoff: float = 0.5, retries: int = OUTAGE_RETRIES) -> list[AsyncRetryHandler]:
    """Slack's 500s and 503s, dropped and timed-out connections retried with exponential
    backoff (``backoff`` seconds first), 429s after their Retry-After."""
    waits = BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=RandomJitter())
    dropped = [ServerConnectionError, ServerDisconnectedError, ClientOSError, TimeoutError]
    return [
        AsyncConnectionErrorRetryHandler(retries, waits, error_types=dropped),
        AsyncServerErrorRetryHandler(retries, waits),
        AsyncRateLimitErrorRetryHandler(max_retry_count=min(retries, 3)),
    ]


def api_url(settings: Settings) -> str:
    """The Web API's base URL: ``slack_api_url`` (a proxy, a test server) or Slack's own."""
    return (
        settings.slack_api_url.rstrip("/") + "/"
        if settings.slack_api_url
        else "https://slack.com/api/"
    )


def build_client(
    settings: Settings,
    session: aiohttp.ClientSession | None = None,
    *,
    retries: int = OUTAGE_RETRIES,
) -> AsyncWebClient:
    """The Web API client with the bot token, ``api_url`` and ``retry_handlers``. Pass a
    ``session`` to reuse connections (without one, every call opens its own)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=api_url(settings),
        session=session,
        retry_handlers=retry_handlers(retries=retries),
    )


# --- the calls every path shares --------------------------------------------------------


async def post(client: AsyncWebClient, channel: str, thread: str | None, message: Message) -> dict:
    """Post ``message`` (in ``thread`` when given); Slack's answer, with the new ``ts``."""
    response = await client.chat_postMessage(
        channel=channel,
        thread_ts=thread,
        unfurl_links=False,
        unfurl_media=False,
        **message.as_kwargs(),
    )
    return response.data  # type: ignore[return-value]


async def update(client: AsyncWebClient, channel: str, ts: str, message: Message) -> None:
    await client.chat_update(channel=channel, ts=ts, **message.as_kwargs())


async def ephemeral(
    client: AsyncWebClient, channel: str, user: str, text: str, thread: str | None
) -> None:
    """A reply only ``user`` sees, in the thread when given."""
    await client.chat_postEphemeral(
        channel=channel, user=user, thread_ts=thread, **text_message(text).as_kwargs()
    )


async def react(call: Callable[..., Awaitable[Any]], channel: str, ts: str) -> None:
    """Add or remove (``call``) the working reaction; a failure only costs the sign."""
    try:
        await call(channel=channel, timestamp=ts, name=WORKING_REACTION)
    except DELIVERY_ERRORS as exc:  # already reacted, no reactions scope, Slack down
        log.warning("could not change the working reaction: %s", why(exc))


def why(exc: Exception) -> str:
    """A failed Web API call in a few words: Slack's error code, or the exception."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return f"{type(exc).__name__}: {exc}"


def audit_poster(client: AsyncWebClient, channel: str) -> Post:
    """Post an audit report: the summary in ``channel``, the details in its thread."""

    async def post_report(summary: str, details: list[str]) -> None:
        top = await client.chat_postMessage(channel=channel, text=summary)
        for piece in split_text("\n".join(details), TEXT_LIMIT) if details else []:
            await client.chat_postMessage(channel=channel, text=piece, thread_ts=top["ts"])

    return post_report


# --- start-up checks --------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the bot token says Parley is (auth.test): its user name, its workspace, and the
    scopes the token was granted (Slack's ``x-oauth-scopes`` header; None if absent)."""

    user: str
    team: str
    scopes: frozenset[str] | None = None

    @property
    def missing_scopes(self) -> list[str]:
        """The scopes Parley uses (``manifest.yml``'s) that the token lacks."""
        return [] if self.scopes is None else sorted(BOT_SCOPES - self.scopes)


async def check_bot_token(settings: Settings) -> Identity:
    """Ask Slack (auth.test) whether the bot token works, within ``START_TIMEOUT``; a
    refused token or an unreachable Slack is a one-line BotError."""
    url = api_url(settings)
    timeout = aiohttp.ClientTimeout(total=START_TIMEOUT / (START_RETRIES + 1))
    async with aiohttp.ClientSession(timeout=timeout) as session:
        client = build_client(settings, session, retries=START_RETRIES)
        answer = await _checked(client.auth_test(), "SLACK_BOT_TOKEN", url)
    granted = answer.headers.get("x-oauth-scopes")
    scopes = frozenset(s.strip() for s in granted.split(",")) if granted is not None else None
    return Identity(str(answer.get("user") or "parley"), str(answer.get("team") or "Slack"), scopes)


async def socket_mode_url(client: AsyncWebClient, app_token: str) -> str:
    """A Socket Mode WebSocket URL (apps.connections.open with the app token), which also
    checks that token; a refusal is a one-line BotError."""
    opened = client.apps_connections_open(app_token=app_token)
    answer = await _checked(opened, "SLACK_APP_TOKEN", client.base_url)
    return str(answer["url"])


async def _checked(call: Awaitable[Any], variable: str, url: str) -> Any:
    """Slack's answer to a start-up call, or the BotError that says what to fix."""
    try:
        return await asyncio.wait_for(call, START_TIMEOUT)
    except SlackApiError as exc:
        code = str(exc.response.get("error") or exc.response.status_code)
        if code in _REFUSED:
            raise BotError(messages.slack_token_refused(variable, code)) from exc
        raise BotError(messages.platform_answered("Slack", repr(code))) from exc
    except SlackClientError as exc:  # not Slack's JSON: a proxy's page, a wrong URL
        raise BotError(messages.platform_answered("Slack", str(exc))) from exc
    except NETWORK_ERRORS as exc:
        raise BotError(messages.platform_unreachable("Slack", url, network_reason(exc))) from exc
