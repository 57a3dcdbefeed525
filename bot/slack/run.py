"""Starting Parley in Slack: Socket Mode (the default: no public URL needed) or HTTP
mode, which serves the Events API, interactivity and slash commands at ``/slack/events``
for running behind a load balancer.

Start-up checks before serving: the tokens the mode needs are set; in HTTP mode the
port is free; Slack accepts the bot token (``auth.test``) and, in Socket Mode, the app
token (``apps.connections.open``); the WebSocket opens within ``START_TIMEOUT``. Each
failure is one line (a ``BotError``) and a non-zero exit. From the first moment,
SIGTERM or Ctrl-C stops the bot: once serving, it stops taking new work (the socket
closes, the port stops listening), gives the answers and votes already acknowledged up
to ``shutdown_timeout`` seconds to finish, and returns, so the process exits 0. While
serving, in either mode, it answers the messages other instances (or this one, before a
restart) acknowledged and died before answering (``rescue``). With
``audit_interval_minutes`` and ``admin_channel`` set, scheduled audits are posted to
that channel while it runs.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from .. import messages
from ..audits import AuditScheduler
from ..config import Settings
from ..errors import BotError
from ..runtime import serve_service
from ..shutdown import finish_within, stop_on_signals
from ..startup import START_TIMEOUT, listen, retries_in_one_line, until_stopped
from .app import SlackBot
from .rescue import Rescue
from .web_api import Identity, audit_poster, check_bot_token, socket_mode_url

__all__ = [
    "EVENTS_PATH",
    "audit_scheduler",
    "missing_settings",
    "run_http",
    "run_slack",
    "run_socket_mode",
]

EVENTS_PATH = "/slack/events"
log = logging.getLogger(__name__)


# the Socket Mode client's own log (reconnects, failed connections), under slack_sdk's
_SOCKET_LOG = "slack_sdk.socket_mode.parley"


def missing_settings(settings: Settings, *, http: bool) -> list[str]:
    """The environment variables this mode needs that are not set."""
    needed = {"SLACK_BOT_TOKEN": settings.slack_bot_token}
    if http:
        needed["SLACK_SIGNING_SECRET"] = settings.slack_signing_secret
    else:
        needed["SLACK_APP_TOKEN"] = settings.slack_app_token
    return [name for name, value in needed.items() if not value]


async def _finish(bot: SlackBot, rescue: Rescue, timeout: float) -> None:
    """Start no more rescues, let the acknowledged work finish (cut off after
    ``timeout``), then close."""
    await rescue.stop()
    await finish_within(bot.drain(), timeout, "the Slack work in flight")
    await bot.close()


async def run_socket_mode(
    bot: SlackBot,
    app_token: str,
    *,
    stop: asyncio.Event,
    shutdown_timeout: float = 30.0,
    identity: Identity | None = None,
) -> None:
    """Connect to Slack over a WebSocket and serve until ``stop`` is set. A refused app
    token, or a WebSocket that does not open within ``START_TIMEOUT``, is a BotError."""
    retries_in_one_line(_SOCKET_LOG)
    logger = logging.getLogger(_SOCKET_LOG)
    handler = AsyncSocketModeHandler(bot.app, app_token, logger=logger)
    rescue = Rescue(bot)
    try:
        url = await until_stopped(socket_mode_url(bot.client, app_token), stop)
        if url is None:
            return
        handler.client.wss_uri = url  # the URL that proved the token, used at once
        opening = asyncio.wait_for(handler.connect_async(), START_TIMEOUT)
        try:
            await until_stopped(opening, stop)
        except TimeoutError as exc:
            raise BotError(messages.socket_mode_not_connected(START_TIMEOUT)) from exc
        if stop.is_set():
            return
        who = identity or Identity("parley", "Slack")
        log.info(messages.slack_connected(who.user, who.team, "Socket Mode"))
        rescue.start()
        await stop.wait()
    finally:
        await handler.close_async()
        await _finish(bot, rescue, shutdown_timeout)


async def run_http(
    bot: SlackBot,
    sock: socket.socket,
    *,
    stop: asyncio.Event,
    shutdown_timeout: float = 30.0,
    identity: Identity | None = None,
) -> None:
    """Serve ``/slack/events`` on the listening ``sock`` until ``stop`` is set."""
    host, port = sock.getsockname()[:2]
    runner = web.AppRunner(
        bot.app.web_app(path=EVENTS_PATH, port=port), shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    await web.SockSite(runner, sock).start()
    who = identity or Identity("parley", "Slack")
    log.info(messages.slack_connected(who.user, who.team, f"HTTP at {host}:{port}{EVENTS_PATH}"))
    rescue = Rescue(bot)
    rescue.start()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # stops listening; requests being acknowledged complete
        await _finish(bot, rescue, shutdown_timeout)


def audit_scheduler(bot: SlackBot, settings: Settings) -> AuditScheduler | None:
    """Scheduled audits posted to ``admin_channel``, when both settings are given."""
    if settings.audit_interval_minutes is None or not settings.admin_channel:
        return None
    return AuditScheduler(
        bot.service,
        settings.audit_interval_minutes,
        audit_poster(bot.client, settings.admin_channel),
        sample=settings.audit_sample,
    )


async def run_slack(
    settings: Settings,
    *,
    http: bool = False,
    host: str = "0.0.0.0",
    port: int = 3000,
    stop: asyncio.Event | None = None,
) -> None:
    """Check the tokens, open the service and serve Slack in the chosen mode until
    SIGTERM, Ctrl-C or ``stop``."""
    missing = missing_settings(settings, http=http)
    if missing:
        raise BotError(messages.slack_tokens_missing(missing, http))
    stop = stop or asyncio.Event()
    with stop_on_signals(stop):
        sock = listen(host, port) if http else None
        try:
            identity = await until_stopped(check_bot_token(settings), stop)
            if identity is not None:
                if identity.missing_scopes:
                    log.warning(messages.slack_scopes_missing(identity.missing_scopes))
                await _serve(settings, identity, sock, stop)
        finally:
            if sock is not None:
                sock.close()
    log.info("Parley has left Slack")


async def _serve(
    settings: Settings, identity: Identity, sock: socket.socket | None, stop: asyncio.Event
) -> None:
    timeout = settings.shutdown_timeout
    async with serve_service(settings) as service:
        bot = SlackBot(service, settings, http=sock is not None)
        audits = audit_scheduler(bot, settings)
        watcher = None
        if audits is not None:
            audits.start()
            watcher = asyncio.create_task(audits.stop_when(stop))
        try:
            if sock is not None:
                await run_http(bot, sock, stop=stop, shutdown_timeout=timeout, identity=identity)
            else:
                assert settings.slack_app_token is not None
                token = settings.slack_app_token.get_secret_value()
                await run_socket_mode(
                    bot, token, stop=stop, shutdown_timeout=timeout, identity=identity
                )
        finally:
            if audits is not None and watcher is not None:
                watcher.cancel()
                await audits.stop()
