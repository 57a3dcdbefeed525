"""The model page (its score over time, thumbs-down reasons, judge grades per audit and
recent answers) and the audits page (each report's canaries and the judge's agreement
with the team's own thumbs and votes)."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from arena.insights import AuditRecord
from arena.judge.grades import CRITERIA
from arena.leaderboard import TieRule

from .cells import HIDDEN, moment, ratio, reason_label, shown, source_lines
from .charts import line_chart
from .responses import arrange, download, page
from .tables import Column, Table, count, number

__all__ = ["audit_details", "audits_page", "model_page"]


def _level(value: Any) -> str:
    return "–" if value is None else f"{value:.1f}"


async def model_page(request: Request) -> Response:
    """``/models/{name}``; ``ties=half`` as on the leaderboard."""
    web = request.app.state.web
    insights = web.service.insights
    viewer = request.state.viewer
    name = request.path_params["name"]
    ties: TieRule = "half" if request.query_params.get("ties") == "half" else "model"
    live_board = await web.boards.get(None, ties)
    row = next((r for r in live_board.board.rows if r.model == name), None)
    if row is None and not await insights.model_known(name):
        return page(request, "missing.html", 404, what=f"a model named {name!r}")
    history = await insights.history(None, ties)
    series = history.scores.get(name, [])
    played = history.battles.get(name, [])
    points = [
        {"time": t, "score": s, "battles": n}
        for t, s, n in zip(history.times, series, played, strict=True)
        if s is not None
    ]
    history_table = Table(
        "history",
        "Score over time (votes so far at each time)",
        [
            Column("time", "Time", text=moment, align="left", row_header=True),
            Column("score", "Score", text=number),
            Column("battles", "Battles", text=count),
        ],
        points,
    )
    reasons = Table(
        "reasons",
        "Thumbs-down reasons",
        [
            Column("reason", "Reason", align="left", row_header=True),
            Column("thumbs", "Thumbs down", text=count),
        ],
        [
            {"reason": reason_label(viewer, reason), "thumbs": n}
            for reason, n in await insights.model_thumbs_down(name)
        ],
    )
    grades = Table(
        "grades",
        "Judge grades per audit (levels: 5 best, 1 worst)",
        [
            Column("created_at", "Audit", text=moment, align="left", row_header=True),
            Column("judge", "Judge", align="left"),
            Column("answers", "Answers", text=count),
            Column("score", "Score", text=number),
            *(Column(c, c.capitalize(), text=_level) for c in CRITERIA),
        ],
        [
            {
                "created_at": g.created_at,
                "judge": g.judge,
                "answers": g.answers,
                "score": g.score,
                **{c: g.criteria.get(c) for c in CRITERIA},
            }
            for g in await insights.model_grades(name)
        ],
    )
    answers = Table(
        "answers",
        "Recent answers",
        [
            Column("created_at", "Answered", text=moment, align="left", row_header=True),
            Column("question", "Question", align="left"),
            Column("answer", "Answer", align="left"),
            Column("sources", "Sources", text=source_lines, align="left", sortable=False),
            Column("thumbs_up", "Thumbs up", text=count),
            Column("thumbs_down", "Thumbs down", text=count),
        ],
        [
            {
                "created_at": a.created_at,
                "question": shown(viewer, a.question),
                "answer": a.error or shown(viewer, a.text),
                "sources": a.sources,
                "thumbs_up": a.thumbs_up,
                "thumbs_down": a.thumbs_down,
            }
            for a in await insights.model_answers(name)
        ],
    )
    tables = [
        arrange(request, history_table),
        arrange(request, reasons),
        arrange(request, grades),
        arrange(request, answers),
    ]
    exported = download(request, tables)
    if exported is not None:
        return exported
    series_chart = line_chart([p["time"] for p in points], [p["score"] for p in points])
    return page(
        request,
        "model.html",
        name=name,
        row=row,
        chart=series_chart if points else None,
        tables=tables,
        ties=ties,
    )


def _canaries(canaries: dict | None) -> str:
    if not canaries:
        return "none"
    verdict = "FAILED" if canaries.get("flagged") else "passed"
    auc = canaries.get("auc")
    shown_auc = "–" if auc is None or math.isnan(auc) else f"{auc:.2f}"
    return f"{verdict} (AUC {shown_auc})"


def _below(below: dict | None) -> str:
    return (
        ", ".join(f"{kind} {ratio(share)}" for kind, share in sorted((below or {}).items())) or "–"
    )


def _agreement(figures: dict | None) -> str:
    """The judge's agreement with the votes: its share of ``total`` and Cohen's kappa."""
    if not figures or not figures.get("total"):
        return "–"
    kappa = figures.get("kappa")
    k = "–" if kappa is None else f"{kappa:.2f}"
    return f"{ratio(figures.get('ratio'))} of {figures['total']} (κ {k})"


def _thumbs_agreement(agree: dict | None) -> str:
    """The judge's agreement with the thumbs: its share of ``thumbs`` and Cohen's kappa."""
    if not agree or not agree.get("thumbs"):
        return "–"
    kappa = agree.get("kappa")
    k = "–" if kappa is None else f"{kappa:.2f}"
    return f"{ratio(agree.get('ratio'))} of {agree['thumbs']} (κ {k})"


def _model_grades(audit: AuditRecord) -> Table:
    """One audit's grades per model, as a table of its own."""
    return Table(
        f"audit{audit.audit_id}",
        f"Audit {audit.audit_id}: grades per model (levels: 5 best, 1 worst)",
        [
            Column("model", "Model", align="left", row_header=True),
            Column("answers", "Answers", text=count),
            Column("score", "Score", text=number),
            *(Column(c, c.capitalize(), text=_level) for c in CRITERIA),
        ],
        [
            {
                "model": model,
                "answers": m.get("answers"),
                "score": m.get("score"),
                **{c: (m.get("criteria") or {}).get(c) for c in CRITERIA},
            }
            for model, m in audit.report.get("models", {}).items()
        ],
    )


def audit_details(request: Request, audit: AuditRecord, sees_text: bool) -> dict[str, Any]:
    """An audit's per-model grades (a table, arranged as asked) and worst answers, text
    hidden from viewers who may not read it."""
    worst = [
        {
            **w,
            "question": w.get("question") if sees_text else HIDDEN,
            "answer": w.get("answer") if sees_text else HIDDEN,
            "faults": w.get("faults", {}) if sees_text else {},
            "thumbs_down": w.get("thumbs_down", []) if sees_text else [],
        }
        for w in audit.report.get("worst", [])
    ]
    return {"audit": audit, "grades": arrange(request, _model_grades(audit)), "worst": worst}


async def audits_page(request: Request) -> Response:
    """``/audits``: every stored audit, newest first, with its details below."""
    web = request.app.state.web
    viewer = request.state.viewer
    audits = await web.service.insights.audits()
    rows = []
    for a in audits:
        votes = a.report.get("agreement") or {}
        rows.append(
            {
                "audit_id": a.audit_id,
                "created_at": a.created_at,
                "judge": a.judge,
                "answers": a.report.get("answers"),
                "unmeasured": a.report.get("unmeasured"),
                "canaries": a.report.get("canaries"),
                "below": (a.report.get("canaries") or {}).get("below"),
                "thumbs": (a.report.get("thumbs") or {}).get("agreement"),
                "votes_ties": votes.get("with_ties"),
                "votes_no_ties": votes.get("without_ties"),
                "cost_usd": a.report.get("cost_usd"),
            }
        )
    table = Table(
        "audits",
        "Audits, newest first",
        [
            Column("created_at", "Audit", text=moment, align="left", row_header=True),
            Column("judge", "Judge", align="left"),
            Column("answers", "Answers", text=count),
            Column("unmeasured", "Unmeasured", text=count),
            Column("canaries", "Canaries", text=_canaries, align="left", sortable=False),
            Column(
                "below", "Canaries below their answer", text=_below, align="left", sortable=False
            ),
            Column(
                "thumbs", "Judge vs thumbs", text=_thumbs_agreement, align="left", sortable=False
            ),
            Column(
                "votes_ties", "Judge vs votes (ties)", text=_agreement, align="left", sortable=False
            ),
            Column(
                "votes_no_ties",
                "Judge vs votes (no ties)",
                text=_agreement,
                align="left",
                sortable=False,
            ),
            Column("cost_usd", "Cost", text=lambda v: "–" if v is None else f"${v:.4f}"),
        ],
        rows,
    )
    table = arrange(request, table)
    details = [audit_details(request, a, viewer.sees_text) for a in audits]
    exported = download(request, [table, *(d["grades"] for d in details)])
    if exported is not None:
        return exported
    return page(request, "audits.html", table=table, details=details)
