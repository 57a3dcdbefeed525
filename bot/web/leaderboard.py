"""The leaderboard page: the table Chatbot Arena's readers know, the interval chart and
the pairwise heatmaps, overall or for one channel, with style control and ties counted
as half wins as toggles.

Every board is fitted with style control, so both Rank (UB) and Rank (StyleCtrl) are
always shown; the toggle picks which score the Score and 95% CI columns, the order and
the chart follow. A provisional model (too few votes) shows no rank and no interval, as
in the terminal. The heatmaps cover the ``HEATMAP_MODELS`` best-scored models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from arena.leaderboard import LeaderboardRow, TieRule
from arena.store import JudgeSummary
from arena.trends import PairMatrix

from .. import messages
from .charts import heatmap, interval_chart
from .live import LiveBoard
from .responses import LIVE_PARAMS, arrange, download, live_html, page
from .tables import Column, Table, count, number, percent

__all__ = ["HEATMAP_MODELS", "board_table", "leaderboard_page"]

HEATMAP_MODELS = 15  # cells beyond this many models are too small to read


def _interval(row: Mapping[str, Any]) -> str:
    if row["ci"] is None or row["score"] is None:
        return "–"
    low, high = row["ci"]
    return f"+{max(high - row['score'], 0):.0f}/−{max(row['score'] - low, 0):.0f}"


def _votes(row: Mapping[str, Any]) -> str:
    left = f" (+{row['left_out']})" if row["left_out"] else ""
    return f"{row['votes']:,}{left}"


def _model(row: Mapping[str, Any]) -> str:
    return row["model"] + (" *" if row["provisional"] and row["score"] is not None else "")


def board_table(
    rows: list[LeaderboardRow], style: bool, judged: Mapping[str, JudgeSummary] | None
) -> Table:
    """The board's rows as the page's table, with the chosen score (plain, or with style
    control) in its Score and 95% CI columns; beside the judge's grade, the share of the
    model's answer sentences the support check flagged."""
    records = []
    for r in (row.shown() for row in rows):
        score, low, high = (
            (r.style_score, r.style_ci_low, r.style_ci_high)
            if style
            else (r.score, r.ci_low, r.ci_high)
        )
        summary = (judged or {}).get(r.model)
        records.append(
            {
                "rank_ub": r.rank_ub,
                "style_rank_ub": r.style_rank_ub,
                "model": r.model,
                "score": score,
                "ci": None if low is None or high is None else [low, high],
                "elo": r.elo,
                "votes": r.votes,
                "left_out": r.left_out_votes,
                "win_rate": r.win_rate,
                "both_bad_rate": r.both_bad_rate,
                "thumbs_up_rate": r.thumbs_up_rate,
                "judge": summary.score if summary else None,
                "flagged": summary.flagged_share if summary else None,
                "provisional": r.provisional,
            }
        )
    columns = [
        Column("rank_ub", "Rank (UB)"),
        Column("style_rank_ub", "Rank (StyleCtrl)"),
        Column("model", "Model", show=_model, align="left", row_header=True, link=_model_link),
        Column("score", "Score (style-controlled)" if style else "Score", text=number),
        Column("ci", "95% CI", show=_interval, sortable=False),
        Column("elo", "Elo", text=number),
        Column("votes", "Votes", show=_votes),
        Column("win_rate", "Win rate", text=percent),
        Column("both_bad_rate", "Both bad", text=percent),
        Column("thumbs_up_rate", "Thumbs up", text=percent),
        Column("judge", "Judge", text=number),
        Column("flagged", "Flagged", text=percent),
    ]
    caption = "Leaderboard, style-controlled" if style else "Leaderboard"
    return Table("board", caption, columns, records)


def _model_link(row: Mapping[str, Any]) -> str:
    return f"/models/{quote(row['model'], safe='')}"


def _matrix_part(matrix: PairMatrix, models: list[str]) -> tuple[list, list]:
    index = {m: k for k, m in enumerate(matrix.models)}
    keep = [index[m] for m in models if m in index]
    fractions = [[matrix.win_fraction[i][j] for j in keep] for i in keep]
    battles = [[matrix.battles[i][j] for j in keep] for i in keep]
    return fractions, battles


def _notes(live_board: LiveBoard) -> list[str]:
    board = live_board.board.leaderboard
    notes = [] if board.rows else [messages.no_votes_yet(live_board.board.channel)]
    if board.too_few_votes:
        notes.append(messages.dashboard_too_few_votes())
    if any(r.provisional and r.score is not None for r in board.rows):
        notes.append(messages.PROVISIONAL_NOTE)
    if board.left_out:
        notes.append(messages.dashboard_votes_left_out(board.left_out))
    return notes


def _pairs_table(models: list[str], fractions: list, battles: list) -> Table:
    rows = [
        {"model_a": a, "model_b": b, "win_fraction": fractions[i][j], "battles": battles[i][j]}
        for i, a in enumerate(models)
        for j, b in enumerate(models)
        if i != j and battles[i][j]
    ]
    columns = [
        Column("model_a", "Model", align="left", row_header=True),
        Column("model_b", "Against", align="left"),
        Column("win_fraction", "Win fraction", text=lambda v: "–" if v is None else f"{v:.2f}"),
        Column("battles", "Battles", text=count),
    ]
    return Table("pairs", "Battles between the best-scored models", columns, rows)


def _board_view(request: Request, live_board: LiveBoard, style: bool, ties: TieRule) -> dict:
    """Everything the board fragment shows, arranged as the query asks."""
    board = live_board.board
    listed = board.rows + board.leaderboard.unrated  # thumbs-only models after the rated
    table = arrange(request, board_table(listed, style, board.judged), "score", True)
    ranked = board_table(board.rows, style, None).arranged("score", True).rows
    scored = [r for r in ranked if r["score"] is not None]
    top = [r["model"] for r in scored[:HEATMAP_MODELS]]
    fractions, battles = _matrix_part(live_board.matrix, top)
    chart = interval_chart(
        [
            (r["model"], r["score"], *(r["ci"] or (None, None)), r["provisional"], r["elo"])
            for r in scored
        ]
    )
    return {
        "table": table,
        "pairs": arrange(request, _pairs_table(top, fractions, battles)),
        "notes": _notes(live_board),
        "chart": chart,
        "wins": heatmap(top, fractions, "fraction"),
        "battles": heatmap(top, battles, "count"),
        "live_board": live_board,
        "ties": ties,
        "refresh": request.app.state.web.settings.web_refresh_seconds,
    }


async def leaderboard_page(request: Request) -> Response:
    """``/``: ``channel``, ``style=1`` and ``ties=half`` choose the board.

    The fragment is drawn once per board and query (``Rendered``): until the next refit
    every viewer asking the same gets the same HTML, so a warm page costs no drawing.
    """
    web = request.app.state.web
    query = request.query_params
    channel = query.get("channel") or None
    style = query.get("style") == "1"
    ties: TieRule = "half" if query.get("ties") == "half" else "model"
    live_board = await web.boards.get(channel, ties)
    if "export" in query:  # downloads are drawn afresh: they are rare
        view = _board_view(request, live_board, style, ties)
        return download(request, [view["table"], view["pairs"]]) or Response(status_code=404)
    key = tuple(sorted((k, v) for k, v in query.items() if k not in LIVE_PARAMS))
    drawn = web.rendered.get(key, live_board)
    if drawn is None:
        view = _board_view(request, live_board, style, ties)
        drawn = web.rendered.put(key, live_board, live_html(request, "_board.html", **view))
    html, digest = drawn
    if query.get("fragment"):
        return Response(status_code=204) if query.get("seen") == digest else HTMLResponse(html)
    return page(
        request,
        "leaderboard.html",
        channels=live_board.channels,
        channel=channel,
        style=style,
        ties=ties,
        live=Markup(html),
    )
