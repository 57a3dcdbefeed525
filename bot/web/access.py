"""Who is looking at the dashboard, and what they may see and do.

Nothing but the login page and the static files is served to a request without one of:
a session cookie from logging in with a token (``PARLEY_WEB_TOKEN`` for viewers,
``PARLEY_WEB_ADMIN_TOKEN`` for admins), or the trusted header the team's proxy sets
(``web_trusted_header``; bind to 127.0.0.1 behind that proxy, or anyone can send it).
The cookie is signed (itsdangerous, through Starlette's sessions) with a key made from
the tokens, so changing a token signs everyone out. Failed logins are limited per client
address: the connecting one, or, when it is a proxy listed in ``web_forwarded_allow_ips``,
the client that proxy names in X-Forwarded-For (from anyone else the header is ignored,
so a guesser cannot pose as many addresses). Every form carries a token from the
session (CSRF). A proxy-named user is an admin when ``web:<user>`` is among the
configured admins, the same rule chat uses; an admin-token holder is one by the web's
own word, as a Discord server manager is by Discord's. With ``web_hide_text`` only
admins see question and answer text.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import messages
from ..access import Requester
from ..config import Settings
from ..errors import BotError
from ..service import Service

__all__ = [
    "LOGIN_ATTEMPTS",
    "LOGIN_WINDOW",
    "PLATFORM",
    "AccessMiddleware",
    "LoginLimiter",
    "Viewer",
    "csrf_ok",
    "csrf_token",
    "session_secret",
    "token_role",
    "trusted_proxies",
    "viewer_of",
]

PLATFORM = "web"
LOGIN_ATTEMPTS = 5  # wrong tokens allowed per client address per window
LOGIN_WINDOW = 60.0  # seconds
PUBLIC_PATHS = ("/login", "/static/")


@dataclass(frozen=True)
class Viewer:
    """A signed-in person: who (for the admin rule), whether an admin, what they see, and
    whether they came in with a token (and so may sign out) rather than the proxy."""

    requester: Requester
    admin: bool
    sees_text: bool
    token: bool = False


def session_secret(settings: Settings) -> str:
    """The cookie-signing key: derived from the tokens (so a new token ends every
    session), or random per process when a proxy header is the only way in."""
    tokens = [t.get_secret_value() for t in (settings.web_token, settings.web_admin_token) if t]
    if not tokens:
        return secrets.token_hex(32)
    material = "\x1f".join(tokens).encode()
    return hmac.new(material, b"parley web session", hashlib.sha256).hexdigest()


def token_role(settings: Settings, token: str) -> str | None:
    """ "admin", "viewer" or None for the token typed at the login, compared in
    constant time."""
    given = token.encode()
    for role, secret in (("admin", settings.web_admin_token), ("viewer", settings.web_token)):
        if secret is not None and hmac.compare_digest(given, secret.get_secret_value().encode()):
            return role
    return None


def trusted_proxies(settings: Settings) -> list[str]:
    """The proxy addresses and networks whose X-Forwarded-For is believed; BotError
    naming an entry that is neither (uvicorn would silently never match it)."""
    for entry in settings.web_forwarded_allow_ips:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise BotError(messages.web_bad_proxy_address(entry)) from None
    return [entry.strip() for entry in settings.web_forwarded_allow_ips]


class LoginLimiter:
    """At most ``attempts`` wrong tokens per client address in any ``window`` seconds."""

    def __init__(
        self,
        attempts: int = LOGIN_ATTEMPTS,
        window: float = LOGIN_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        remembered: int = 10_000,
    ) -> None:
        self._attempts = attempts
        self._window = window
        self._clock = clock
        self._remembered = remembered
        self._failures: dict[str, deque[float]] = {}

    def wait(self, client: str) -> float:
        """Seconds before ``client`` may try again (0: now)."""
        failures = self._recent(client)
        if len(failures) < self._attempts:
            return 0.0
        return failures[0] + self._window - self._clock()

    def failed(self, client: str) -> None:
        if len(self._failures) >= self._remembered and client not in self._failures:
            self._failures.pop(next(iter(self._failures)))  # the longest-known address
        self._recent(client).append(self._clock())

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= self._clock() - self._window:
            failures.popleft()
        return failures


def csrf_token(request: Request) -> str:
    """The session's form token, made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and submitted) and hmac.compare_digest(expected, submitted)


def viewer_of(request: Request, service: Service, settings: Settings) -> Viewer | None:
    """The trusted header's user, else the session's token holder, else None."""
    header = settings.web_trusted_header
    named = request.headers.get(header, "").strip() if header else ""
    role = request.session.get("role")
    if named:
        requester = Requester(PLATFORM, named)
    elif role in ("admin", "viewer"):
        requester = Requester(PLATFORM, role, platform_admin=role == "admin")
    else:
        return None
    admin = service.may_reindex(requester)
    sees_text = admin or not settings.web_hide_text
    return Viewer(requester, admin, sees_text, token=not named)


class AccessMiddleware:
    """Sends whoever is not signed in to the login page (an htmx poll is told to go
    there with HX-Redirect instead of getting the page in its place); puts the viewer in
    ``request.state.viewer`` for the rest. Runs inside the session middleware."""

    def __init__(self, app: ASGIApp, service: Service, settings: Settings) -> None:
        self._app = app
        self._service = service
        self._settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PUBLIC_PATHS):
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        viewer = viewer_of(request, self._service, self._settings)
        if viewer is None:
            await _to_login(request)(scope, receive, send)
            return
        scope.setdefault("state", {})["viewer"] = viewer
        await self._app(scope, receive, send)


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    login = f"/login?next={quote(target, safe='')}"
    if request.headers.get("HX-Request"):
        return PlainTextResponse(
            messages.sign_in_again(), status_code=401, headers={"HX-Redirect": login}
        )
    if request.method not in ("GET", "HEAD"):
        return PlainTextResponse(messages.sign_in_first(), status_code=403)
    return RedirectResponse(login, status_code=303)
