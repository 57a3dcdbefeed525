"""A fake Slack: the Web API on the shared FakeServer, and a Socket Mode WebSocket.

``FakeSlack`` answers every Web API method Parley calls (``auth.test``,
``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``, ``reactions.*``,
``views.open``, ``assistant.threads.*``, the three steps of an external file upload,
``apps.connections.open``) and ``response_url`` posts, and records them all; a test can
queue a 429 with ``Retry-After`` or an error before the standing reply. Point the app
at ``api_url`` through ``PARLEY_SLACK_API_URL``.

``FakeSocketMode`` is an aiohttp WebSocket server on 127.0.0.1 that says hello, pushes
envelopes and records each acknowledgement, as Slack's Socket Mode endpoint does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading

from aiohttp import WSMsgType, web

from tests.fakes.http_server import FakeServer, Scripted, Seen

__all__ = ["BOT_ID", "BOT_USER", "TEAM", "FakeSlack", "FakeSocketMode", "listening_socket"]

BOT_USER = "UPARLEY"
BOT_ID = "BPARLEY"
TEAM = "T0001"


class FakeSlack:
    """The Web API methods Parley calls, with recorded requests and scriptable failures."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self._ts = itertools.count(1)
        self._ts_lock = threading.Lock()
        self.socket_url: str | None = None
        ok = Scripted(200, {"ok": True})
        routes = {
            "auth.test": Scripted(200, self._auth()),
            "chat.postMessage": self._posted,
            "chat.update": self._updated,
            "chat.postEphemeral": lambda seen: Scripted(
                200, {"ok": True, "message_ts": self._next()}
            ),
            "reactions.add": ok,
            "reactions.remove": ok,
            "views.open": Scripted(200, {"ok": True, "view": {"id": "V1"}}),
            "assistant.threads.setStatus": ok,
            "assistant.threads.setSuggestedPrompts": ok,
            "assistant.threads.setTitle": ok,
            "files.getUploadURLExternal": lambda seen: Scripted(
                200, {"ok": True, "upload_url": f"{server.url}/upload/F1", "file_id": "F1"}
            ),
            "files.completeUploadExternal": Scripted(
                200, {"ok": True, "files": [{"id": "F1", "title": "chart"}]}
            ),
            "apps.connections.open": lambda seen: Scripted(
                200, {"ok": True, "url": self.socket_url}
            ),
        }
        for method, standing in routes.items():
            server.route("POST", f"/api/{method}", standing)
        server.route("POST", "/upload/*", Scripted(200, "OK - 1234", content_type="text/plain"))
        server.route("POST", "/response/*", Scripted(200, "ok", content_type="text/plain"))

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.server.url}/response/{name}"

    def _next(self) -> str:
        with self._ts_lock:
            return f"1700000000.{next(self._ts):06d}"

    @staticmethod
    def _auth() -> dict:
        return {
            "ok": True,
            "url": "https://parley-test.slack.invalid/",
            "team": "Parley Test",
            "user": "parley",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
        }

    def _posted(self, seen: Seen) -> Scripted:
        ts = self._next()
        body = seen.body if isinstance(seen.body, dict) else {}
        message = {"type": "message", "ts": ts, "text": body.get("text", ""), "bot_id": BOT_ID}
        return Scripted(
            200, {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message}
        )

    def _updated(self, seen: Seen) -> Scripted:
        body = seen.body if isinstance(seen.body, dict) else {}
        return Scripted(
            200, {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"), "text": ""}
        )

    # --- scripting and reading ---------------------------------------------------------

    def fail(self, method: str, *replies: Scripted) -> None:
        """Answer the next calls of ``method`` with ``replies`` (a 429, an error) first."""
        self.server.then("POST", f"/api/{method}", *replies)

    def calls(self, method: str) -> list[dict]:
        """The parsed bodies of every call to ``method``, in order."""
        return [_decoded(s) for s in self.server.seen(f"/api/{method}")]

    def responses(self) -> list[dict]:
        """Everything posted to response URLs (ephemeral replies to slash commands)."""
        return [_decoded(s) for s in self.server.seen("/response/*")]

    def uploads(self) -> list[bytes]:
        return [s.raw for s in self.server.seen("/upload/*")]


def _decoded(seen: Seen) -> dict:
    """The call's arguments, wherever the client put them (query string, form or JSON);
    form-encoded ``blocks`` and ``view`` are JSON text, decoded like JSON calls."""
    out = {**seen.query, **(seen.body if isinstance(seen.body, dict) else {})}
    for key in ("blocks", "view"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


def listening_socket() -> tuple[socket.socket, int]:
    """A socket bound to a free port on 127.0.0.1, for an aiohttp ``SockSite``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


class FakeSocketMode:
    """Slack's Socket Mode endpoint: pushes envelopes and records their acknowledgements."""

    def __init__(self) -> None:
        self.acks: list[dict] = []
        self.connected = asyncio.Event()
        self._outbox: asyncio.Queue[dict] = asyncio.Queue()
        self._acked = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeSocketMode:
        app = web.Application()
        app.router.add_get("/link", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sock, port = listening_socket()
        await web.SockSite(self._runner, sock).start()
        self.url = f"ws://127.0.0.1:{port}/link"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def push(self, envelope: dict) -> None:
        await self._outbox.put(envelope)

    async def acked(self, envelope_id: str, timeout: float = 5.0) -> dict:
        """Wait for the client's acknowledgement of one envelope."""

        def found() -> dict | None:
            return next((a for a in self.acks if a.get("envelope_id") == envelope_id), None)

        async with self._acked:
            await asyncio.wait_for(self._acked.wait_for(lambda: found() is not None), timeout)
            return found()  # type: ignore[return-value]

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        self.connected.set()
        sender = asyncio.create_task(self._send(ws))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    async with self._acked:
                        self.acks.append(json.loads(message.data))
                        self._acked.notify_all()
        finally:
            sender.cancel()
        return ws

    async def _send(self, ws: web.WebSocketResponse) -> None:
        while True:
            envelope = await self._outbox.get()
            await ws.send_str(json.dumps(envelope))
