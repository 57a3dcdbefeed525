"""The dashboard as a Starlette app over one Service: routes, sessions, access, headers.

Pages are Jinja2 templates (escaped by default: a question holding ``<script>`` or Slack
markup shows as the text it is) with htmx, served from ``static/``, for the parts that
update themselves; nothing is loaded from elsewhere. Every response forbids framing,
sniffing and caching, and a content security policy allows scripts, styles and images
from this site only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from knowledge.types import display_path

from .. import messages
from ..config import Settings
from ..service import Service
from .access import AccessMiddleware, LoginLimiter, session_secret, trusted_proxies
from .cells import moment
from .knowledge import knowledge_page, start_reindex
from .leaderboard import leaderboard_page
from .live import BoardCache, Rendered
from .login import login, login_form, logout
from .pages import audits_page, model_page
from .questions import questions_page, unanswered_page
from .responses import page

__all__ = ["SESSION_SECONDS", "SecurityHeaders", "Web", "create_app"]

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_SECONDS = 12 * 3600  # a signed-in browser stays signed in for a working day
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class Web:
    """What the handlers share: the service and settings, the boards in hand and what
    was drawn from them, the login limiter, and the re-index this dashboard started (and
    what became of it)."""

    def __init__(self, service: Service, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self.boards = BoardCache(service, settings.web_refresh_seconds)
        self.rendered = Rendered()
        self.limiter = LoginLimiter()
        self.reindex_task: asyncio.Task | None = None
        self.reindex_notice: str | None = None


class SecurityHeaders:
    """Adds the headers that keep pages from being framed, sniffed, cached or scripted
    from elsewhere, and a Server-Timing header with the time the response took to make
    (for operators and ``scripts/bench_web.py``)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        started = time.perf_counter()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                headers = message.setdefault("headers", [])
                headers += [
                    (b"server-timing", f"app;dur={took:.1f}".encode()),
                    (b"content-security-policy", POLICY.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
            await send(message)

        await self._app(scope, receive, with_headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return page(request, "missing.html", 404, what="this page")
    return page(request, "message.html", status, message=getattr(exc, "detail", ""))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("dashboard request %s failed", request.url.path, exc_info=exc)
    return page(request, "message.html", 500, message=messages.unexpected_error())


def create_app(service: Service, settings: Settings) -> Starlette:
    """The dashboard over ``service``; ``settings`` say who may see it and how."""
    routes = [
        Route("/", leaderboard_page),
        Route("/models/{name:path}", model_page),
        Route("/audits", audits_page),
        Route("/questions", questions_page),
        Route("/questions/unanswered", unanswered_page),
        Route("/knowledge", knowledge_page),
        Route("/knowledge/reindex", start_reindex, methods=["POST"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    https = bool(settings.web_url and settings.web_url.startswith("https://"))
    proxies = trusted_proxies(settings)
    middleware = [
        # the real client behind a listed proxy, before anything reads request.client
        *([Middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)] if proxies else []),
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(settings),
            session_cookie="parley_session",
            max_age=SESSION_SECONDS,
            same_site="lax",
            https_only=https,
        ),
        Middleware(AccessMiddleware, service=service, settings=settings),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
    )
    app.state.web = Web(service, settings)
    pages = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    pages.filters["moment"] = moment
    pages.filters["basename"] = lambda path: display_path(path).rsplit("/", 1)[-1]
    app.state.templates = Jinja2Templates(env=pages)
    return app
