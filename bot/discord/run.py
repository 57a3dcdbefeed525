"""Starting Parley on Discord, and the URL that invites it to a server.

One instance per bot token holds the gateway; another started with the same token
stands by and takes over when the first stops or dies (``gateway``), and answers the
``/ask``s the dead one had deferred and the messages it was answering (``rescue``).

On SIGTERM or Ctrl-C the bot stops taking new messages and interactions, gives the
answers and votes in flight up to ``shutdown_timeout`` seconds, then logs out and
returns, so the process exits 0. With ``audit_interval_minutes`` and ``admin_channel``
(a channel id) set, scheduled audits are posted to that channel while it runs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord

from .. import messages
from ..audits import AuditScheduler, Post
from ..config import Settings
from ..errors import BotError
from ..render import split_text
from ..runtime import serve_service
from ..shutdown import finish_within, stop_on_signals
from ..startup import (
    NETWORK_ERRORS,
    START_TIMEOUT,
    network_reason,
    retries_in_one_line,
    until_stopped,
)
from .client import ParleyClient
from .embeds import CONTENT_LIMIT
from .gateway import GatewayLock, gateway_lock, take_gateway, watch_gateway
from .rescue import Rescue

__all__ = [
    "AUDIT_THREAD_NAME",
    "INVITE_PERMISSIONS",
    "audit_scheduler",
    "discord_poster",
    "finish_in_flight",
    "invite_url",
    "run_discord",
]

# the gateway events that start work; a stopping bot drops them
_WORK_EVENTS = ("MESSAGE_CREATE", "INTERACTION_CREATE")
AUDIT_THREAD_NAME = "Audit details"
_AUTHENTICATION_FAILED = 4004  # the gateway's close code for a refused token
# discord.py's message before each new try at the gateway, logged with a traceback
_RECONNECTING = "Attempting a reconnect"
log = logging.getLogger(__name__)

# what Parley does in a server: read and answer in channels and the threads it starts,
# with embeds and the leaderboard chart; nothing more
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot with its slash commands and the permissions above."""
    return discord.utils.oauth_url(
        application_id, permissions=INVITE_PERMISSIONS, scopes=("bot", "applications.commands")
    )


def _dropped(payload: Any) -> None:
    """What a stopping bot does with a new message or interaction: nothing."""


async def finish_in_flight(
    client: discord.Client, timeout: float, *, keep: set[asyncio.Task] | frozenset = frozenset()
) -> bool:
    """Stop taking new work, then wait (at most ``timeout`` s) for the handlers already
    running: discord.py runs each event and interaction in a task of its own, so those
    are the loop's tasks other than this one and the long-lived ones in ``keep``.
    False when some were cut off."""
    for event in _WORK_EVENTS:  # discord.py's table of gateway event parsers
        client._connection.parsers[event] = _dropped
    running = [
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and task not in keep and not task.done()
    ]
    if not running:
        return True
    gathered = asyncio.gather(*running, return_exceptions=True)
    return await finish_within(gathered, timeout, "the Discord work in flight")


def discord_poster(client: discord.Client, channel_id: int) -> Post:
    """Post an audit report: the summary in the channel, the details in a thread started
    from it, each piece within Discord's message limit."""

    async def post(summary: str, details: list[str]) -> None:
        channel = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
        top = await channel.send(summary[:CONTENT_LIMIT])  # type: ignore[union-attr]
        if not details:
            return
        thread = await top.create_thread(name=AUDIT_THREAD_NAME)
        for piece in split_text("\n".join(details), CONTENT_LIMIT):
            await thread.send(piece)

    return post


def audit_scheduler(client: ParleyClient, settings: Settings) -> AuditScheduler | None:
    """Scheduled audits posted to ``admin_channel`` (a channel id), when both are set."""
    if settings.audit_interval_minutes is None or not settings.admin_channel:
        return None
    if not settings.admin_channel.isdigit():
        raise BotError(messages.discord_not_a_channel_id(settings.admin_channel))
    return AuditScheduler(
        client.service,
        settings.audit_interval_minutes,
        discord_poster(client, int(settings.admin_channel)),
        sample=settings.audit_sample,
    )


async def _log_in(client: ParleyClient, token: str) -> None:
    """Discord's login (the bot user, the application, the command sync) within
    ``START_TIMEOUT``; a refused token, a refused request or an unreachable Discord is a
    one-line BotError."""
    try:
        await asyncio.wait_for(client.login(token), START_TIMEOUT)
    except discord.LoginFailure as exc:
        raise BotError(messages.discord_token_refused()) from exc
    except discord.Forbidden as exc:  # the command sync, in a server Parley is not in
        raise BotError(messages.discord_forbidden(exc.status, exc.text)) from exc
    except discord.HTTPException as exc:
        what = f"{exc.status} {exc.text}".strip()
        raise BotError(messages.platform_answered("Discord", what)) from exc
    except NETWORK_ERRORS as exc:
        url = discord.http.Route.BASE
        raise BotError(messages.platform_unreachable("Discord", url, network_reason(exc))) from exc


async def _connected(client: ParleyClient, runner: asyncio.Task, stop: asyncio.Event) -> None:
    """Wait until the gateway connection is open (or ``stop``). A gateway that does not
    answer within ``START_TIMEOUT``, or a connection that fails before it ever opened, is
    a BotError; a refused token or intent (the gateway's close codes) is left to the
    caller, which says so."""
    opened = asyncio.ensure_future(client.connected.wait())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait(
            {opened, runner, stopping}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        opened.cancel()
        stopping.cancel()
    if client.connected.is_set() or stop.is_set():
        return
    gateway = str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    if not runner.done():
        reason = f"no gateway connection within {START_TIMEOUT:.0f} s"
        raise BotError(messages.platform_unreachable("Discord's gateway", gateway, reason))
    failure = runner.exception()
    if failure is None or isinstance(
        failure, (discord.ConnectionClosed, discord.PrivilegedIntentsRequired)
    ):
        return
    # discord.py may fail its own retry after a first connection that never opened
    # (an AttributeError while the network error is handled): name the network error
    reason = network_reason(_network_cause(failure))
    raise BotError(messages.platform_unreachable("Discord's gateway", gateway, reason)) from failure


def _network_cause(exc: BaseException) -> BaseException:
    """The network error behind ``exc`` (itself, or what it was raised from or during)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, NETWORK_ERRORS):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


async def _serve(client: ParleyClient, settings: Settings, stop: asyncio.Event) -> None:
    """Connect to the gateway and serve until the connection ends or ``stop`` is set;
    then finish the work in flight and log out. The tasks already running (the database
    pool's workers, the gateway lock's watch) are no work in flight."""
    audits = audit_scheduler(client, settings)
    rescue = Rescue(client, client.service)
    keep = set(asyncio.all_tasks())
    runner = asyncio.create_task(client.connect(), name="parley-discord")
    keep.add(runner)
    stopping = asyncio.create_task(stop.wait())
    keep.add(stopping)
    try:
        await _connected(client, runner, stop)
        if client.connected.is_set() and not stop.is_set():
            log.info(messages.discord_connected(str(client.user)))
        if client.connected.is_set():
            keep.add(rescue.start())  # the /asks a dead instance deferred
        if audits is not None:
            keep.add(audits.start())
        await asyncio.wait({runner, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not runner.done():
            await rescue.stop()
            if audits is not None:
                await audits.stop()
            await finish_in_flight(client, settings.shutdown_timeout, keep=keep)
            await client.close()
        await runner  # a token or intent refused at the gateway is raised here
    finally:
        stopping.cancel()
        await rescue.stop()
        if audits is not None:
            await audits.stop()
        if not runner.done():
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)


async def run_discord(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Log in with DISCORD_TOKEN and answer until SIGTERM, Ctrl-C or ``stop``: first
    standing by while another instance holds the token's gateway (``gateway``), and
    again should another instance take it over. A missing or refused token, a refused
    intent or an unreachable Discord is one line (a BotError)."""
    if settings.discord_token is None:
        raise BotError(messages.discord_token_missing())
    token = settings.discord_token.get_secret_value()
    retries_in_one_line("discord.client", _RECONNECTING)
    stop = stop or asyncio.Event()
    with stop_on_signals(stop):
        lock = gateway_lock(settings, token)
        try:
            while await take_gateway(lock, stop):
                lost = asyncio.Event()
                if not await _while_held(settings, token, stop, lock, lost):
                    break
        finally:
            await lock.release()
    log.info("Parley has left Discord")


async def _while_held(
    settings: Settings, token: str, stop: asyncio.Event, lock: GatewayLock, lost: asyncio.Event
) -> bool:
    """Serve while this instance holds the gateway lock; True when it stopped because
    another instance took the gateway (the caller stands by again)."""
    ending = asyncio.Event()  # ``stop``, or the lock lost
    watchers = [
        asyncio.create_task(watch_gateway(lock, lost)),
        asyncio.create_task(_either(stop, lost, ending)),
    ]
    try:
        await _run_client(settings, token, ending)
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    return lost.is_set() and not stop.is_set()


async def _either(first: asyncio.Event, second: asyncio.Event, then: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    then.set()


async def _run_client(settings: Settings, token: str, stop: asyncio.Event) -> None:
    """Open the service, log in and serve the gateway until ``stop``."""
    async with serve_service(settings) as service:
        client = ParleyClient(
            service,
            guilds=settings.discord_guilds,
            message_content=settings.discord_message_content,
            web_url=settings.web_url,
        )
        try:
            async with client:
                await until_stopped(_log_in(client, token), stop)
                if not stop.is_set():
                    await _serve(client, settings, stop)
        except discord.PrivilegedIntentsRequired as exc:
            raise BotError(messages.discord_intent_refused()) from exc
        except discord.ConnectionClosed as exc:
            if exc.code == _AUTHENTICATION_FAILED:
                raise BotError(messages.discord_token_refused()) from exc
            raise BotError(messages.discord_gateway_closed(exc.code, exc.reason)) from exc
