"""A local HTTP server on 127.0.0.1 (HTTPS with a ``tls`` context) that plays any JSON
or form API from a script.

Providers (OpenAI, Anthropic), the Slack Web API, Discord's REST routes and judge
servers are all faked with it. Replies are found per route (method and path, a path
ending in ``*`` matches a prefix), scripted replies first and in order, then the
route's standing reply; unrouted requests take the default script (``reply``), and
past its end a 500, so a test that forgets a reply fails loudly. Every request is
recorded with its parsed body: JSON, form fields (``payload=`` JSON decoded for
Slack interactivity), or multipart parts.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeServer", "Scripted", "Seen"]


@dataclass
class Scripted:
    """One response: status, a JSON-able body (or raw text or bytes), headers, and a delay
    first.

    With ``pace``, a text body is written one Server-Sent Event (a blank-line-ended
    block) at a time, ``pace`` seconds apart, as a model streaming its answer would.
    """

    status: int = 200
    body: dict | list | str | bytes = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"
    pace: float = 0.0


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict | list
    raw: bytes
    at: float


Responder = Callable[[Seen], Scripted]


def _parse_body(content_type: str, raw: bytes) -> dict | list:
    if not raw:
        return {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        if "payload" in form:  # Slack interactivity posts JSON inside a form field
            with contextlib.suppress(ValueError):
                form["payload"] = json.loads(form["payload"])
        return form
    if kind == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        parts: dict[str, object] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                parts[name] = {"filename": part.get_filename(), "bytes": payload}
            else:
                text = payload.decode(errors="replace")
                try:
                    parts[name] = json.loads(text) if name == "payload_json" else text
                except ValueError:
                    parts[name] = text
        return parts
    try:
        return json.loads(raw)
    except ValueError:
        return {"_raw": raw.decode(errors="replace")}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a burst of clients must not wait out TCP's 1 s retry


class FakeServer:
    """Threaded HTTP server; start with ``with FakeServer() as server`` or the fixture."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.script: list[Scripted] = []
        self.requests: list[Seen] = []
        self._routes: dict[tuple[str, str], tuple[list[Scripted], Responder | Scripted | None]] = {}
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.tls = tls
        if tls is not None:  # HTTPS: each connection's handshake runs in its own thread
            self.server.socket = tls.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
        # a short poll so that stop() returns at once (the default makes every test wait 0.5 s)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting ---------------------------------------------------------------------

    def reply(self, *responses: Scripted) -> None:
        """Queue replies for requests that no route claims."""
        with self._lock:
            self.script.extend(responses)

    def route(
        self,
        method: str,
        path: str,
        standing: Responder | Scripted | None = None,
        *queued: Scripted,
    ) -> None:
        """Answer ``method path`` with ``queued`` replies in order, then ``standing`` (a
        fixed reply or a function of the request). A path ending in ``*`` is a prefix."""
        with self._lock:
            self._routes[(method.upper(), path)] = (list(queued), standing)

    def then(self, method: str, path: str, *queued: Scripted) -> None:
        """Queue more one-off replies on an existing route (e.g. a 429 before success)."""
        with self._lock:
            self._routes[(method.upper(), path)][0].extend(queued)

    def seen(self, path: str, method: str | None = None) -> list[Seen]:
        """Recorded requests to ``path`` (prefix match when it ends in ``*``)."""
        with self._lock:
            requests = list(self.requests)
        return [
            r
            for r in requests
            if _matches(path, r.path) and (method is None or r.method == method.upper())
        ]

    def _respond(self, seen: Seen) -> Scripted:
        with self._lock:
            self.requests.append(seen)
            for (method, path), (queued, standing) in self._routes.items():
                if method == seen.method and _matches(path, seen.path):
                    if queued:
                        return queued.pop(0)
                    if standing is None:
                        break
                    return standing if isinstance(standing, Scripted) else standing(seen)
            else:
                if self.script:
                    return self.script.pop(0)
        return Scripted(500, {"error": f"unscripted {seen.method} {seen.path}"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=_parse_body(self.headers.get("content-type", ""), raw),
                    raw=raw,
                    at=time.monotonic(),
                )
                step = server._respond(seen)
                if step.delay:
                    time.sleep(step.delay)
                body = step.body
                payload = body if isinstance(body, str | bytes) else json.dumps(body)
                data = payload if isinstance(payload, bytes) else payload.encode()
                try:
                    self.send_response(step.status)
                    self.send_header("content-type", step.content_type)
                    for key, value in step.headers.items():
                        self.send_header(key, value)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    *events, rest = data.split(b"\n\n") if step.pace else [data]
                    for event in events:
                        self.wfile.write(event + b"\n\n")
                        self.wfile.flush()
                        time.sleep(step.pace)
                    self.wfile.write(rest)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _matches(pattern: str, path: str) -> bool:
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern
