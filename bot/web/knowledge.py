"""The knowledge page: indexed sources, the last index run (when, and every skipped file
with its reason), a running re-index's progress; and the form by which an admin starts
one, through the same service call and admin rule as ``/reindex`` in chat.

A re-index started here runs in the background of the dashboard's process; the page
polls its progress. One started elsewhere (the bot, ``parley index``) shows through the
progress it records beside the index.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import parse_qs

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from knowledge.types import display_path

from .. import messages
from ..errors import SAID_TO_USERS
from .access import csrf_ok
from .cells import moment
from .responses import arrange, download, live, live_html, page
from .tables import Column, Table, count

__all__ = ["STALE_PROGRESS", "knowledge_page", "start_reindex"]

log = logging.getLogger(__name__)

STALE_PROGRESS = 120.0  # seconds without news after which a recorded run reads as stopped


def _size(value: int | None) -> str:
    if value is None:
        return "–"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


async def knowledge_page(request: Request) -> Response:
    """``/knowledge``."""
    web = request.app.state.web
    view = await web.service.insights.knowledge()
    status = view.status
    sources = Table(
        "sources",
        "Indexed sources",
        [
            Column("path", "File", align="left", row_header=True),
            Column("title", "Title", align="left"),
            Column("passages", "Passages", text=count),
            Column("size", "Size", text=_size),
            Column("modified", "Modified", text=moment, align="left"),
        ],
        [
            {
                "path": display_path(s.path),
                "title": s.title,
                "passages": s.passages,
                "size": s.size,
                "modified": s.modified,
            }
            for s in (status.sources if status else [])
        ],
    )
    run = status.last_run if status else None
    skipped = Table(
        "skipped",
        "Skipped by the last run, and why",
        [
            Column("path", "File", align="left", row_header=True),
            Column("reason", "Reason", align="left"),
        ],
        [{"path": display_path(p), "reason": r} for p, r in (run.skipped if run else [])],
    )
    tables = [arrange(request, sources, "path"), arrange(request, skipped, "path")]
    exported = download(request, tables)
    if exported is not None:
        return exported
    recorded = status.progress if status else None
    stale = recorded is not None and time.time() - recorded.updated_at > STALE_PROGRESS
    values = {
        "status": status,
        "run": run,
        "running": view.running,
        "recorded": recorded,
        "stale": stale,
        "notice": web.reindex_notice,
        "refresh": web.settings.web_refresh_seconds,
    }
    if request.query_params.get("fragment"):
        return live(request, "_progress.html", **values)
    html, _ = live_html(request, "_progress.html", **values)
    return page(request, "knowledge.html", tables=tables, live=Markup(html), **values)


async def start_reindex(request: Request) -> Response:
    """``POST /knowledge/reindex``: an admin's re-index of the configured sources."""
    web = request.app.state.web
    viewer = request.state.viewer
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    if not csrf_ok(request, (form.get("csrf") or [""])[0]):
        return page(request, "message.html", 403, message=messages.web_form_expired())
    if not web.service.may_reindex(viewer.requester):
        return page(request, "message.html", 403, message=messages.not_admin())
    running = web.service.reindex_status
    if running is not None:
        return page(request, "message.html", 409, message=messages.reindex_busy(running))
    web.reindex_notice = messages.web_reindex_started()
    web.reindex_task = asyncio.create_task(_reindex(web, viewer.requester))
    return RedirectResponse("/knowledge", status_code=303)


async def _reindex(web, requester) -> None:
    """Run it and leave its outcome (the summary, or what went wrong) for the page."""
    try:
        report = await web.service.reindex(requester)
    except SAID_TO_USERS as exc:
        web.reindex_notice = str(exc)
    except Exception:
        log.exception("a re-index started from the dashboard failed")
        web.reindex_notice = messages.unexpected_error()
    else:
        web.reindex_notice = messages.index_summary(report)
