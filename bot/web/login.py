"""Signing in with a token and out again (see ``bot.web.access`` for the rules)."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import messages
from .access import csrf_ok, csrf_token, token_role, viewer_of
from .responses import page

__all__ = ["login", "login_form", "logout", "safe_next"]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//host``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def login_form(request: Request) -> Response:
    """``GET /login``: the form (someone the proxy already names goes straight on)."""
    web = request.app.state.web
    target = safe_next(request.query_params.get("next"))
    if viewer_of(request, web.service, web.settings) is not None:
        return RedirectResponse(target, status_code=303)
    csrf_token(request)
    return page(request, "login.html", target=target, message=None)


async def login(request: Request) -> Response:
    """``POST /login``: a right token signs in; wrong ones are limited per address."""
    web = request.app.state.web
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    target = safe_next((form.get("next") or ["/"])[0])
    client = _client(request)
    wait = web.limiter.wait(client)
    if wait > 0:
        response = page(
            request, "login.html", 429, target=target, message=messages.web_login_throttled(wait)
        )
        response.headers["Retry-After"] = str(max(1, round(wait)))
        return response
    if not csrf_ok(request, (form.get("csrf") or [""])[0]):
        return page(request, "login.html", 403, target=target, message=messages.web_form_expired())
    role = token_role(web.settings, (form.get("token") or [""])[0])
    if role is None:
        web.limiter.failed(client)
        return page(request, "login.html", 401, target=target, message=messages.web_login_failed())
    web.limiter.succeeded(client)
    request.session.clear()  # a fresh session (and form token) for the signed-in person
    request.session["role"] = role
    csrf_token(request)
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    """``POST /logout``: forget the session."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    if not csrf_ok(request, (form.get("csrf") or [""])[0]):
        return page(request, "message.html", 403, message=messages.web_form_expired())
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
