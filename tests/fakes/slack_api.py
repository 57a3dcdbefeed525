"""A fake Slack: the Web API on the shared FakeServer, and a Socket Mode WebSocket.

``FakeSlack`` answers every Web API method Parley calls (``auth.test``,
``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``, ``reactions.*``,
``views.open``, ``assistant.threads.*``, the three steps of an external file upload,
``files.info``, ``apps.connections.open``) and ``response_url`` posts, and records them
all. It holds the files people attached (``add_file``) and serves their bytes at their
``url_private_download`` only to a request with the bot token as a Bearer token; any other
request is redirected to the workspace's sign-in page, as Slack does. A test can
queue a 429 with ``Retry-After`` or an error before the standing reply. Point the app
at ``api_url`` through ``PARLEY_SLACK_API_URL``, or put the server at slack.com
(``tests.fakes.net``).

The answers have the shapes Slack's documentation and recorded samples show
(docs.slack.dev method pages; bolt-python's and python-slack-sdk's test payloads, read
at a2f21ae and ae87985), not what Parley reads of them: chat.postMessage returns the
``message`` as Slack stored it (``user``, ``bot_id``, ``app_id``, ``team``,
``bot_profile``, ``thread_ts``, and ``blocks`` with a ``block_id`` on every block and
``verbatim: false`` on mrkdwn text); chat.update returns the edited ``message``;
auth.test sends the token's scopes in ``x-oauth-scopes``; views.open returns the whole
``view``. The fake keeps each posted message, so a test builds a click's payload from
the message exactly as Slack would send it back (``stored``).

``FakeSocketMode`` is an aiohttp WebSocket server on 127.0.0.1 that says hello, pushes
envelopes and records each acknowledgement, as Slack's Socket Mode endpoint does.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import random
import socket
import ssl
import string
import threading

from aiohttp import WSMsgType, web

from tests.fakes.http_server import FakeServer, Scripted, Seen

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER",
    "SCOPES",
    "TEAM",
    "FakeSlack",
    "FakeSocketMode",
    "listening_socket",
    "stored_blocks",
]

BOT_USER = "UPARLEY"
BOT_ID = "BPARLEY"
APP_ID = "APARLEY"
TEAM = "T0001"
BOT_TOKEN = "xoxb-test"  # the only token the fake's file downloads accept
# the bot scopes manifest.yml asks for, as auth.test reports them
SCOPES = (
    "app_mentions:read,assistant:write,channels:history,chat:write,commands,files:read,"
    "files:write,"
    "groups:history,im:history,mpim:history,reactions:write"
)
_BOT_PROFILE = {
    "id": BOT_ID,
    "app_id": APP_ID,
    "name": "Parley",
    "icons": {"image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png"},
    "deleted": False,
    "updated": 1700000000,
    "team_id": TEAM,
}


def _block_id(rng: random.Random) -> str:
    """Slack's own block ids: a few letters and digits."""
    return "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(3, 5)))


def stored_blocks(blocks: list[dict], text: str, rng: random.Random) -> list[dict]:
    """``blocks`` as Slack stores and sends them back: a ``block_id`` on each block that
    had none, ``verbatim: false`` on mrkdwn and ``emoji: true`` on plain text objects; a
    message posted with text alone gets the rich_text block Slack makes of it."""
    if not blocks:
        section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
        return [{"type": "rich_text", "block_id": _block_id(rng), "elements": [section]}]

    def normalised(node):
        if isinstance(node, list):
            return [normalised(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: normalised(value) for key, value in node.items()}
        if out.get("type") == "mrkdwn":
            out.setdefault("verbatim", False)
        elif out.get("type") == "plain_text":
            out.setdefault("emoji", True)
        return out

    out = []
    for block in normalised(copy.deepcopy(blocks)):
        block.setdefault("block_id", _block_id(rng))
        out.append(block)
    return out


class FakeSlack:
    """The Web API methods Parley calls, with recorded requests and scriptable failures."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self._ts = itertools.count(1)
        self._lock = threading.RLock()
        self._rng = random.Random(7)
        self._messages: dict[tuple[str, str], dict] = {}  # (channel, ts) -> stored message
        self._files: dict[str, tuple[dict, bytes]] = {}  # id -> (file object, bytes)
        self._file_ids = itertools.count(1)
        self.socket_url: str | None = None
        ok = Scripted(200, {"ok": True})
        routes = {
            "auth.test": Scripted(200, self.auth_answer(), headers={"x-oauth-scopes": SCOPES}),
            "chat.postMessage": self._posted,
            "chat.update": self._updated,
            "chat.postEphemeral": lambda seen: Scripted(
                200, {"ok": True, "message_ts": self._next()}
            ),
            "reactions.add": ok,
            "reactions.remove": ok,
            "views.open": self._view_opened,
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
            "files.info": self._file_info,
        }
        for method, standing in routes.items():
            server.route("POST", f"/api/{method}", standing)
        server.route("POST", "/upload/*", Scripted(200, "OK - 1234", content_type="text/plain"))
        server.route("POST", "/response/*", Scripted(200, "ok", content_type="text/plain"))
        server.route("GET", "/files-pri/*", self._file_download)
        server.route("GET", "/api/files.info", self._file_info)  # slack_sdk GETs it

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.server.url}/response/{name}"

    def _next(self) -> str:
        with self._lock:
            return f"1700000000.{next(self._ts):06d}"

    @staticmethod
    def auth_answer() -> dict:
        """auth.test's answer for Parley's bot token."""
        return {
            "ok": True,
            "url": "https://parley-test.slack.com/",
            "team": "Parley Test",
            "user": "parley",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _posted(self, seen: Seen) -> Scripted:
        body = _decoded(seen)
        channel, text = body.get("channel", ""), body.get("text", "")
        ts = self._next()
        with self._lock:
            message = {
                "user": BOT_USER,
                "type": "message",
                "ts": ts,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "text": text,
                "team": TEAM,
                "bot_profile": _BOT_PROFILE,
                "blocks": stored_blocks(body.get("blocks") or [], text, self._rng),
            }
            thread = body.get("thread_ts")
            if thread:
                message["thread_ts"] = thread
                parent = self._messages.get((channel, thread))
                if parent is not None:
                    message["parent_user_id"] = parent["user"]
            self._messages[(channel, ts)] = message
        return Scripted(200, {"ok": True, "channel": channel, "ts": ts, "message": message})

    def _updated(self, seen: Seen) -> Scripted:
        body = _decoded(seen)
        channel, ts = body.get("channel", ""), body.get("ts", "")
        with self._lock:
            old = self._messages.get((channel, ts))
            if old is None:
                return Scripted(200, {"ok": False, "error": "message_not_found"})
            text = body.get("text", old["text"])
            new = {
                **old,
                "text": text,
                "blocks": stored_blocks(body.get("blocks") or [], text, self._rng),
                "edited": {"user": BOT_USER, "ts": self._next()},
            }
            self._messages[(channel, ts)] = new
        shown = {k: v for k, v in new.items() if k != "ts"}  # chat.update's message has no ts
        return Scripted(
            200, {"ok": True, "channel": channel, "ts": ts, "text": text, "message": shown}
        )

    def _view_opened(self, seen: Seen) -> Scripted:
        body = _decoded(seen)
        view = body.get("view") or {}
        with self._lock:
            view_id = "V" + _block_id(self._rng).upper()
            full = {
                "id": view_id,
                "team_id": TEAM,
                "type": view.get("type", "modal"),
                "blocks": stored_blocks(view.get("blocks") or [], "", self._rng),
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "state": {"values": {}},
                "hash": f"1700000000.{view_id}",
                "title": view.get("title"),
                "clear_on_close": False,
                "notify_on_close": False,
                "close": view.get("close"),
                "submit": view.get("submit"),
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": APP_ID,
                "external_id": "",
                "app_installed_team_id": TEAM,
                "bot_id": BOT_ID,
            }
        return Scripted(200, {"ok": True, "view": full})

    def _file_info(self, seen: Seen) -> Scripted:
        with self._lock:
            held = self._files.get(_decoded(seen).get("file", ""))
        if held is None:
            return Scripted(200, {"ok": False, "error": "file_not_found"})
        return Scripted(
            200,
            {
                "ok": True,
                "file": held[0],
                "comments": [],
                "response_metadata": {"next_cursor": ""},
            },
        )

    def _file_download(self, seen: Seen) -> Scripted:
        """A file's bytes for the bot token; the sign-in page's redirect otherwise."""
        with self._lock:
            held = next(
                (
                    h
                    for h in self._files.values()
                    if h[0]["url_private_download"].endswith(seen.path)
                ),
                None,
            )
        if seen.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return Scripted(
                302,
                "<html><body>Sign in to Parley Test</body></html>",
                headers={"location": f"https://parley-test.slack.com/?redir={seen.path}"},
                content_type="text/html; charset=utf-8",
            )
        if held is None:
            return Scripted(404, "Not found", content_type="text/plain")
        file, data = held
        return Scripted(
            200,
            data,
            headers={"content-disposition": f'attachment; filename="{file["name"]}"'},
            content_type=file["mimetype"],
        )

    # --- scripting and reading ---------------------------------------------------------

    def add_file(
        self,
        name: str,
        data: bytes,
        mimetype: str = "application/octet-stream",
        *,
        user: str = "UANA",
        size: int | None = None,
    ) -> dict:
        """A file a person uploaded, as a message event's ``files`` carries it (its URLs
        on this server); ``size`` as Slack reports it (default: the bytes')."""
        with self._lock:
            file_id = f"F{next(self._file_ids):07d}"
        pretty = name.rsplit(".", 1)[-1].lower()
        base = f"{self.server.url}/files-pri/{TEAM}-{file_id}"
        file = {
            "id": file_id,
            "created": 1700000000,
            "timestamp": 1700000000,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": pretty,
            "pretty_type": pretty.upper(),
            "user": user,
            "user_team": TEAM,
            "editable": False,
            "size": len(data) if size is None else size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/{name}",
            "url_private_download": f"{base}/download/{name}",
            "permalink": f"https://parley-test.slack.com/files/{user}/{file_id}/{name}",
            "permalink_public": f"https://slack-files.com/{TEAM}-{file_id}-0a1b2c3d4e",
            "has_rich_preview": False,
            "file_access": "visible",
        }
        with self._lock:
            self._files[file_id] = (file, data)
        return copy.deepcopy(file)

    def downloads(self) -> list[Seen]:
        """Every request for a file's bytes (with the token or without)."""
        return self.server.seen("/files-pri/*", "GET")

    def fail(self, method: str, *replies: Scripted) -> None:
        """Answer the next calls of ``method`` with ``replies`` (a 429, an error) first."""
        self.server.then("POST", f"/api/{method}", *replies)

    def calls(self, method: str) -> list[dict]:
        """The parsed bodies of every call to ``method``, in order."""
        return [_decoded(s) for s in self.server.seen(f"/api/{method}")]

    def stored(self, channel: str, ts: str) -> dict:
        """A posted (and maybe updated) message as Slack holds it and sends it back in a
        click's payload."""
        with self._lock:
            return copy.deepcopy(self._messages[(channel, ts)])

    def messages(self, channel: str) -> list[dict]:
        """Every message Parley posted in ``channel``, as Slack holds it now, oldest first."""
        with self._lock:
            found = [m for (c, _), m in sorted(self._messages.items()) if c == channel]
            return copy.deepcopy(found)

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
        self.port = 0

    async def start(self, tls: ssl.SSLContext | None = None) -> FakeSocketMode:
        """Listen on 127.0.0.1 (``wss`` with a ``tls`` context) at ``/link/``, where
        apps.connections.open sends clients."""
        app = web.Application()
        app.router.add_get("/link", self._socket)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        sock, self.port = listening_socket()
        await web.SockSite(self._runner, sock, ssl_context=tls).start()
        self.url = f"{'wss' if tls else 'ws'}://127.0.0.1:{self.port}/link"
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
