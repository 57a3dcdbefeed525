"""What every page handler shares: its tables arranged from the query string, downloads,
whole pages, and live fragments that say "nothing new" without a body.

Query parameters: ``<table>_sort``, ``<table>_dir`` (``asc`` or ``desc``) and
``<table>_filter`` arrange one table; ``export=<table>&format=csv|json`` downloads it as
arranged; ``fragment=1`` asks for the live part of a page only, and ``seen=<digest>``
with it says what the browser shows, so an unchanged fragment is a bodiless 204 (htmx
then leaves the page, and the reader's place and focus, alone).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates

from .. import messages
from .access import Viewer, csrf_token
from .tables import Table

__all__ = [
    "LIVE_PARAMS",
    "arrange",
    "download",
    "live",
    "live_html",
    "page",
    "url_with",
]

LIVE_PARAMS = ("fragment", "seen", "export", "format")  # never carried into links
_SEEN = "seen-digest-goes-here"  # stands for the fragment's digest while it is hashed


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = {k: v for k, v in request.query_params.items() if k not in LIVE_PARAMS}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + (f"?{urlencode(params)}" if params else "")


def arrange(
    request: Request, table: Table, sort: str | None = None, descending: bool = False
) -> Table:
    """The table sorted and filtered as the query string asks (``sort`` by default)."""
    query = request.query_params
    key = query.get(f"{table.name}_sort", sort)
    if f"{table.name}_sort" in query:
        descending = query.get(f"{table.name}_dir") == "desc"
    return table.arranged(key, descending, query.get(f"{table.name}_filter", ""))


def download(request: Request, tables: Sequence[Table]) -> Response | None:
    """The table named by ``export``, as CSV (the default) or JSON; None when no download
    is asked; a 404 for a table the page lacks, a 400 for another format."""
    name = request.query_params.get("export")
    if name is None:
        return None
    table = next((t for t in tables if t.name == name), None)
    if table is None:
        return Response(messages.no_such_table(name), 404, media_type="text/plain")
    kind = request.query_params.get("format", "csv")
    if kind not in ("csv", "json"):
        return Response(messages.no_such_format(kind), 400, media_type="text/plain")
    as_json = kind == "json"
    body = table.json() if as_json else table.csv()
    media = "application/json" if as_json else "text/csv; charset=utf-8"
    filename = f"{table.name}.{'json' if as_json else 'csv'}"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _context(request: Request, values: Mapping[str, Any]) -> dict[str, Any]:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    return {
        "viewer": viewer,
        "csrf": csrf_token(request) if "session" in request.scope else "",
        "url_with": lambda **changes: url_with(request, **changes),
        "query": [(k, v) for k, v in request.query_params.items() if k not in LIVE_PARAMS],
        "path": request.url.path,
        **values,
    }


def page(request: Request, template: str, code: int = 200, **values: Any) -> HTMLResponse:
    """The whole page, with the viewer, the form token and the link helpers."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, template, _context(request, values), status_code=code
    )


def live_html(request: Request, template: str, **values: Any) -> tuple[str, str]:
    """A live fragment's HTML and its digest (written into its next poll's URL)."""
    templates: Jinja2Templates = request.app.state.templates
    context = _context(request, {**values, "seen": _SEEN})
    html = templates.get_template(template).render(context)
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    return html.replace(_SEEN, digest), digest


def live(request: Request, template: str, **values: Any) -> Response:
    """A fragment for htmx to swap in, or 204 when the browser already shows it."""
    html, digest = live_html(request, template, **values)
    if request.query_params.get("seen") == digest:
        return Response(status_code=204)
    return HTMLResponse(html)
