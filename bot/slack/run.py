"""Starting Parley in Slack: Socket Mode (the default: no public URL needed) or HTTP
mode, which serves the Events API, interactivity and slash commands at ``/slack/events``
for running behind a load balancer. Both stop cleanly on cancellation, letting the work
already acknowledged finish first."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from ..config import Settings
from ..errors import BotError
from ..runtime import open_service
from .app import SlackBot

__all__ = ["EVENTS_PATH", "missing_settings", "run_http", "run_slack", "run_socket_mode"]

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


async def run_socket_mode(bot: SlackBot, app_token: str, *, stop: asyncio.Event) -> None:
    """Connect to Slack over a WebSocket and serve until ``stop`` is set."""
    handler = AsyncSocketModeHandler(bot.app, app_token)
    await handler.connect_async()
    log.info("Parley is connected to Slack in Socket Mode")
    try:
        await stop.wait()
    finally:
        await handler.close_async()
        await bot.close()


async def run_http(bot: SlackBot, host: str, port: int, *, stop: asyncio.Event) -> None:
    """Serve ``/slack/events`` on ``host:port`` until ``stop`` is set."""
    runner = web.AppRunner(bot.app.web_app(path=EVENTS_PATH, port=port))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("Parley serves Slack at http://%s:%d%s", host, port, EVENTS_PATH)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await bot.close()


async def run_slack(
    settings: Settings,
    *,
    http: bool = False,
    host: str = "0.0.0.0",
    port: int = 3000,
    stop: asyncio.Event | None = None,
) -> None:
    """Open the service and serve Slack in the chosen mode until cancelled or stopped."""
    missing = missing_settings(settings, http=http)
    if missing:
        raise BotError(
            f"set {' and '.join(missing)} in the environment (see docs/slack.md) to run in"
            f" {'HTTP' if http else 'Socket'} mode"
        )
    stop = stop or asyncio.Event()
    async with open_service(settings, hold_index=True) as service:
        bot = SlackBot(service, settings, http=http)
        if http:
            await run_http(bot, host, port, stop=stop)
        else:
            assert settings.slack_app_token is not None
            await run_socket_mode(bot, settings.slack_app_token.get_secret_value(), stop=stop)
