"""A fake Discord gateway: the WebSocket at ``wss://gateway.discord.gg`` that a bot
connects to after logging in, written from Discord's gateway documentation
(developers/events/gateway.mdx).

It says Hello (op 10) with a heartbeat interval, acknowledges heartbeats (op 1 -> 11),
answers Identify (op 2) with READY and the test guild's GUILD_CREATE (or closes with
a close code such as 4004, Authentication failed, or 4014, Disallowed intents, when
told to refuse), and dispatches events a
test pushes (INTERACTION_CREATE…) with increasing sequence numbers. With
``compress=zlib-stream`` in the query, as discord.py asks, every payload is one
zlib stream, each message flushed with Z_SYNC_FLUSH, in binary frames.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import zlib
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.discord_api import APP_ID, BOT, GUILD_ID, guild
from tests.fakes.slack_api import listening_socket

__all__ = ["AUTHENTICATION_FAILED", "DISALLOWED_INTENTS", "FakeGateway"]

AUTHENTICATION_FAILED = 4004
DISALLOWED_INTENTS = 4014
_DISPATCH, _HEARTBEAT, _IDENTIFY, _HELLO, _HEARTBEAT_ACK = 0, 1, 2, 10, 11


class FakeGateway:
    """Discord's gateway on 127.0.0.1; ``identified`` is set once a client is READY,
    ``sessions`` counts them."""

    def __init__(self, *, refuse: int | None = None) -> None:
        self.refuse = refuse  # the close code Identify gets instead of READY
        self.identified = asyncio.Event()
        self.identify: dict[str, Any] = {}
        self.sessions = 0  # Identify payloads answered READY: the bots connected so far
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._outbox: asyncio.Queue[dict] = asyncio.Queue()

    async def start(self, tls: ssl.SSLContext | None = None) -> FakeGateway:
        app = web.Application()
        app.router.add_get("/", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sock, self.port = listening_socket()
        await web.SockSite(self._runner, sock, ssl_context=tls).start()
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send one event to the connected client."""
        await self._outbox.put({"op": _DISPATCH, "t": event, "d": data})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        zipped = request.query.get("compress") == "zlib-stream"
        stream = zlib.compressobj()
        sequence = 0

        async def send(payload: dict) -> None:
            nonlocal sequence
            if payload["op"] == _DISPATCH:
                sequence += 1
                payload = {**payload, "s": sequence}
            else:
                payload = {"t": None, "s": None, **payload}
            text = json.dumps(payload)
            if zipped:
                await ws.send_bytes(
                    stream.compress(text.encode()) + stream.flush(zlib.Z_SYNC_FLUSH)
                )
            else:
                await ws.send_str(text)

        await send({"op": _HELLO, "d": {"heartbeat_interval": 41250}})
        sender: asyncio.Task | None = None
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(message.data)
                if payload.get("op") == _HEARTBEAT:
                    await send({"op": _HEARTBEAT_ACK})
                elif payload.get("op") == _IDENTIFY:
                    self.identify = payload["d"]
                    if self.refuse is not None:
                        await ws.close(code=self.refuse, message=b"Refused.")
                        break
                    self.sessions += 1
                    await send({"op": _DISPATCH, "t": "READY", "d": _ready()})
                    await send({"op": _DISPATCH, "t": "GUILD_CREATE", "d": guild()})
                    self.identified.set()
                    sender = asyncio.create_task(self._forward(send))
        finally:
            if sender is not None:
                sender.cancel()
        return ws

    async def _forward(self, send) -> None:
        while True:
            await send(await self._outbox.get())


def _ready() -> dict[str, Any]:
    return {
        "v": 10,
        "user": BOT,
        "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
        "session_id": "fake-session",
        "resume_gateway_url": "wss://gateway.discord.gg",
        "shard": [0, 1],
        "application": {"id": str(APP_ID), "flags": 0},
        "private_channels": [],
        "relationships": [],
    }
