"""Starting Parley in Slack: Socket Mode (the default: no public URL needed) or HTTP
mode, which serves the Events API, interactivity and slash commands at ``/slack/events``
for running behind a load balancer. On SIGTERM or Ctrl-C both stop taking new work
(the socket closes, the port stops listening), give the answers and votes already
acknowledged up to ``shutdown_timeout`` seconds to finish, and return, so the process
exits 0. With ``audit_interval_minutes`` and ``admin_channel`` set, scheduled audits
are posted to that channel while it runs."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from ..audits import AuditScheduler, slack_poster
from ..config import Settings
from ..errors import BotError
from ..runtime import serve_service
from ..shutdown import finish_within, stop_on_signals
from .app import SlackBot

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


def missing_settings(settings: Settings, *, http: bool) -> list[str]:
    """The environment variables this mode needs that are not set."""
    needed = {"SLACK_BOT_TOKEN": settings.slack_bot_token}
    if http:
        needed["SLACK_SIGNING_SECRET"] = settings.slack_signing_secret
    else:
        needed["SLACK_APP_TOKEN"] = settings.slack_app_token
    return [name for name, value in needed.items() if not value]


async def _finish(bot: SlackBot, timeout: float) -> None:
    """Let the acknowledged work finish (cut off after ``timeout``), then close."""
    await finish_within(bot.drain(), timeout, "the Slack work in flight")
    await bot.close()


async def run_socket_mode(
    bot: SlackBot, app_token: str, *, stop: asyncio.Event, shutdown_timeout: float = 30.0
) -> None:
    """Connect to Slack over a WebSocket and serve until ``stop`` is set."""
    handler = AsyncSocketModeHandler(bot.app, app_token)
    await handler.connect_async()
    log.info("Parley is connected to Slack in Socket Mode")
    try:
        await stop.wait()
    finally:
        await handler.close_async()
        await _finish(bot, shutdown_timeout)


async def run_http(
    bot: SlackBot,
    host: str,
    port: int,
    *,
    stop: asyncio.Event,
    shutdown_timeout: float = 30.0,
) -> None:
    """Serve ``/slack/events`` on ``host:port`` until ``stop`` is set."""
    runner = web.AppRunner(
        bot.app.web_app(path=EVENTS_PATH, port=port), shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("Parley serves Slack at http://%s:%d%s", host, port, EVENTS_PATH)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # stops listening; requests being acknowledged complete
        await _finish(bot, shutdown_timeout)


def audit_scheduler(bot: SlackBot, settings: Settings) -> AuditScheduler | None:
    """Scheduled audits posted to ``admin_channel``, when both settings are given."""
    if settings.audit_interval_minutes is None or not settings.admin_channel:
        return None
    return AuditScheduler(
        bot.service,
        settings.audit_interval_minutes,
        slack_poster(bot.client, settings.admin_channel),
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
    """Open the service and serve Slack in the chosen mode until SIGTERM, Ctrl-C or
    ``stop``."""
    missing = missing_settings(settings, http=http)
    if missing:
        raise BotError(
            f"set {' and '.join(missing)} in the environment (see docs/slack.md) to run in"
            f" {'HTTP' if http else 'Socket'} mode"
        )
    stop = stop or asyncio.Event()
    timeout = settings.shutdown_timeout
    async with serve_service(settings) as service:
        bot = SlackBot(service, settings, http=http)
        audits = audit_scheduler(bot, settings)
        watcher = None
        if audits is not None:
            audits.start()
            watcher = asyncio.create_task(audits.stop_when(stop))
        try:
            with stop_on_signals(stop):
                if http:
                    await run_http(bot, host, port, stop=stop, shutdown_timeout=timeout)
                else:
                    assert settings.slack_app_token is not None
                    token = settings.slack_app_token.get_secret_value()
                    await run_socket_mode(bot, token, stop=stop, shutdown_timeout=timeout)
        finally:
            if audits is not None and watcher is not None:
                watcher.cancel()
                await audits.stop()
        log.info("Parley has left Slack")
