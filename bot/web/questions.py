"""The questions pages: recent questions with their answers, sources, votes and thumbs,
searchable by text; and the questions the knowledge base could not answer, grouped by
topic, which is the list of documents the team should write next."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from arena.insights import MAX_SEARCH_CHARS, QuestionRecord

from .. import messages
from .access import Viewer
from .cells import moment, shown, source_lines
from .responses import arrange, download, live, live_html, page
from .tables import Column, Table, count

__all__ = ["PAGE_SIZE", "questions_page", "unanswered_page"]

PAGE_SIZE = 50
EXAMPLES = 3  # questions shown per topic in the gaps table


def _answers(record: QuestionRecord, viewer: Viewer) -> list[dict[str, Any]]:
    """Each answer's model, its letter in the battle (None outside one), its text (or
    HIDDEN) and its error."""
    labels = {}
    if record.battle is not None:
        labels = {record.battle.answer_a: "A", record.battle.answer_b: "B"}
    return [
        {
            "model": a.model,
            "label": labels.get(a.answer_id),
            "text": shown(viewer, a.text),
            "error": a.error,
        }
        for a in record.answers
    ]


def _answers_text(answers: list[dict[str, Any]]) -> str:
    parts = []
    for a in answers:
        label = f"Model {a['label']} ({a['model']})" if a["label"] else a["model"]
        parts.append(f"{label}: {a['error'] or a['text']}")
    return "\n\n".join(parts)


def _place_text(place: dict[str, str]) -> str:
    """Platform and channel; the console's and the CLI's one channel is their name."""
    platform, channel = place["platform"], place["channel"]
    return platform if channel in ("", platform) else f"{platform} {channel}"


def _votes_text(votes: dict[str, int] | None) -> str:
    """The battle's votes by choice (none: the question had no battle)."""
    if not votes:
        return ""
    return "; ".join(
        f"{label}: {votes[choice]}"
        for choice, label in messages.CHOICE_LABELS.items()
        if votes.get(choice)
    )


def _thumbs(record: QuestionRecord) -> list[dict[str, Any]]:
    return [
        {"model": a.model, "up": a.thumbs_up, "down": a.thumbs_down}
        for a in record.answers
        if a.thumbs_up or a.thumbs_down
    ]


def _thumbs_text(thumbs: list[dict[str, Any]]) -> str:
    return "; ".join(f"{t['model']}: {t['up']} up, {t['down']} down" for t in thumbs)


def _row(record: QuestionRecord, viewer: Viewer) -> dict[str, Any]:
    """Raw values (the JSON download), which the columns' ``text`` reads for the page."""
    return {
        "question_id": record.question_id,
        "created_at": record.created_at,
        "place": {"platform": record.platform, "channel": record.channel},
        "question": shown(viewer, record.text),
        "answers": _answers(record, viewer),
        "sources": list(dict.fromkeys(s for a in record.answers for s in a.sources)),
        "votes": dict(record.battle.votes) if record.battle is not None else None,
        "thumbs": _thumbs(record),
    }


async def questions_page(request: Request) -> Response:
    """``/questions``: ``q`` searches the text (admins only when text is hidden),
    ``before`` pages back past a question id."""
    web = request.app.state.web
    viewer = request.state.viewer
    query = request.query_params
    search = (query.get("q") or "").strip() if viewer.sees_text else ""
    if len(search) > MAX_SEARCH_CHARS:
        message = messages.search_too_long(len(search), MAX_SEARCH_CHARS)
        return page(request, "message.html", 400, message=message)
    before = query.get("before")
    before_id = int(before) if before and before.isdigit() else None
    records = await web.service.insights.questions(
        PAGE_SIZE, before=before_id, search=search or None
    )
    table = Table(
        "questions",
        f"Questions matching {search!r}" if search else "Recent questions, newest first",
        [
            Column("created_at", "Asked", text=moment, align="left", row_header=True),
            Column("place", "Where", text=_place_text, align="left"),
            Column("question", "Question", align="left"),
            Column("answers", "Answers", text=_answers_text, align="left", sortable=False),
            Column("sources", "Sources", text=source_lines, align="left", sortable=False),
            Column("votes", "Votes", text=_votes_text, align="left", sortable=False),
            Column("thumbs", "Thumbs", text=_thumbs_text, align="left", sortable=False),
        ],
        [_row(r, viewer) for r in records],
    )
    table = arrange(request, table)
    exported = download(request, [table])
    if exported is not None:
        return exported
    older = records[-1].question_id if len(records) == PAGE_SIZE else None
    values = {
        "table": table,
        "search": search,
        "older": older,
        "refresh": web.settings.web_refresh_seconds,
    }
    if query.get("fragment"):
        return live(request, "_questions.html", **values)
    html, _ = live_html(request, "_questions.html", **values)
    return page(request, "questions.html", live=Markup(html), max_search=MAX_SEARCH_CHARS, **values)


async def unanswered_page(request: Request) -> Response:
    """``/questions/unanswered``: the knowledge gaps, a topic a row."""
    web = request.app.state.web
    viewer = request.state.viewer
    groups = await web.service.insights.unanswered()
    rows = []
    for n, group in enumerate(groups, 1):
        topic = group.label or "(questions that share no words with others)"
        rows.append(
            {
                "topic": shown(viewer, topic),
                "questions": len(group.questions),
                "latest": max(q.created_at for q in group.questions),
                "examples": [shown(viewer, q.text) for q in group.questions[:EXAMPLES]],
                "group": n,
            }
        )
    table = Table(
        "gaps",
        "What the knowledge base could not answer, by topic",
        [
            Column("topic", "Topic", align="left", row_header=True),
            Column("questions", "Questions", text=count),
            Column("latest", "Last asked", text=moment, align="left"),
            Column("examples", "Examples", text="\n".join, align="left", sortable=False),
        ],
        rows,
    )
    table = arrange(request, table)
    exported = download(request, [table])
    if exported is not None:
        return exported
    details = [
        (shown(viewer, g.label), [(q, shown(viewer, q.text)) for q in g.questions]) for g in groups
    ]
    return page(request, "unanswered.html", table=table, details=details)
