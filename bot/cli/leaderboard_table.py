"""``parley leaderboard``'s table: plain text laid out for the terminal's width.

Every column shown is as wide as its widest cell and its header's longest word, so no
value and no word is ever cut; headers wrap between words only. When the columns do not
fit, the least needed ones are left out in a fixed order (``DROP_ORDER``) and a note
names them (``--json`` has everything). Model names are never cut, so at widths where
even rank, model, score, interval and votes do not fit, lines run over. Notes wrap
between words. Intervals are written as Chatbot Arena writes them, +above/-below.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from rich.cells import cell_len

from arena.leaderboard import Leaderboard, LeaderboardRow
from arena.store import JudgeSummary

from .. import messages

__all__ = ["DROP_ORDER", "board_table", "pipeline_lines", "pipeline_text"]

# which columns give way first when the table is too wide; the others always stay
DROP_ORDER = (
    "Judge legacy",
    "👍",
    "Both bad",
    "Win",
    "Elo",
    "Graded",
    "Flagged",
    "Style CI",
    "Style rank",
)
DASH = "–"


@dataclass(frozen=True)
class _Column:
    header: str
    cells: list[str]
    left: bool = False  # numbers are right-aligned, the model name left

    @cached_property
    def cells_width(self) -> int:
        return max(cell_len(text) for text in self.cells)

    def width(self, wrap: bool) -> int:
        """As wide as the widest cell and the header, or its longest word with ``wrap``."""
        header = self.header.split() if wrap else [self.header]
        return max(self.cells_width, *(cell_len(word) for word in header))


@dataclass(frozen=True)
class _Layout:
    columns: list[_Column]
    wrap: bool  # headers wrap between words
    gap: int  # spaces between columns

    @property
    def widths(self) -> list[int]:
        return [c.width(self.wrap) for c in self.columns]

    @property
    def width(self) -> int:
        return sum(self.widths) + self.gap * (len(self.columns) - 1)


def board_table(
    board: Leaderboard,
    *,
    width: int,
    style: bool = False,
    judged: Mapping[str, JudgeSummary] | None = None,
) -> str:
    """The rated rows, then the unrated ones, as a table within ``width`` columns, and
    under it what the board says as a whole: provisional marks, too few votes to rank,
    votes left out and why, the style coefficients, columns left out for width.

    With ``style`` the rates give way to the style columns, and a note names them (they
    stay in ``--json``).
    A provisional model's interval and rank are too wide to rank by, so they are not
    shown; its name is marked with *. With ``judged``, the judge's mean score, the share
    of answer sentences the support check flagged, the legacy score and the graded
    answers follow in their own columns.
    """
    rows = [*board.rows, *board.unrated]
    columns, given_way = _columns(rows, style, judged)
    layout, hidden = _fit(columns, width)
    return "\n".join([*_table_lines(layout), *_notes(board, rows, given_way, hidden, width)])


def pipeline_text(settings: Mapping[str, object]) -> str:
    """A pipeline's settings in a few words: ``openai gpt-4o-mini, k=8 hybrid, web
    fallback (searxng), prompt brief`` (follow-ups and the prompt only when not the
    defaults)."""
    model = " ".join(str(settings[key]) for key in ("provider", "model") if settings.get(key))
    parts = [model, f"k={settings.get('k', '?')} {settings.get('mode', '?')}"]
    if settings.get("followup", "fused") != "fused":
        parts.append(f"follow-ups {settings['followup']}")
    if settings.get("web", "off") != "off":
        parts.append(f"web {settings['web']} ({settings.get('web_backend')})")
    if settings.get("prompt", "default") != "default":
        parts.append(f"prompt {settings['prompt']}")
    return ", ".join(p for p in parts if p)


def pipeline_lines(
    rows: Sequence[LeaderboardRow], pipelines: Mapping[str, Mapping[str, object]], width: int
) -> list[str]:
    """``--details``: each row's pipeline, one entry a line (wrapped under its name), in
    the table's order; a name with no recorded settings (answers from before pipelines
    were recorded, or imported battles) says so."""
    lines = ["Pipelines:"]
    wrap = textwrap.TextWrapper(
        max(width, 20), break_long_words=False, break_on_hyphens=False, subsequent_indent="    "
    )
    for row in rows:
        settings = pipelines.get(row.model)
        said = pipeline_text(settings) if settings else "settings not recorded"
        lines += wrap.wrap(f"  {row.model}: {said}")
    return lines


def _columns(
    rows: Sequence[LeaderboardRow], style: bool, judged: Mapping[str, JudgeSummary] | None
) -> tuple[list[_Column], list[str]]:
    """The columns to lay out, and the headers of those that give way to the style
    columns (the rates, with ``style``: the note under the table names them)."""

    def pct(value: float | None) -> str:
        return DASH if value is None else f"{value:.0%}"

    def number(value: float | None) -> str:
        return DASH if value is None else f"{value:.0f}"

    def interval(score: float | None, low: float | None, high: float | None, hide: bool) -> str:
        if score is None or low is None or high is None or hide:
            return DASH
        return f"+{max(high - score, 0):.0f}/-{max(score - low, 0):.0f}"

    def rank(value: int | None, hide: bool) -> str:
        return DASH if value is None or hide else str(value)

    def votes(row: LeaderboardRow) -> str:
        return f"{row.votes} (+{row.left_out_votes})" if row.left_out_votes else str(row.votes)

    def marked(row: LeaderboardRow) -> str:
        return row.model + ("*" if row.provisional and row.score is not None else "")

    columns = [
        _Column("Rank (UB)", [rank(r.rank_ub, r.provisional) for r in rows]),
        _Column("Model", [marked(r) for r in rows], left=True),
        _Column("Score", [number(r.score) for r in rows]),
        _Column("95% CI", [interval(r.score, r.ci_low, r.ci_high, r.provisional) for r in rows]),
    ]
    if style:
        columns += [
            _Column("Style", [number(r.style_score) for r in rows]),
            _Column(
                "Style CI",
                [
                    interval(r.style_score, r.style_ci_low, r.style_ci_high, r.provisional)
                    for r in rows
                ],
            ),
            _Column("Style rank", [rank(r.style_rank_ub, r.provisional) for r in rows]),
        ]
    columns += [
        _Column("Elo", [number(r.elo) for r in rows]),
        _Column("Votes", [votes(r) for r in rows]),
    ]
    rates = [
        _Column("Win", [pct(r.win_rate) for r in rows]),
        _Column("Both bad", [pct(r.both_bad_rate) for r in rows]),
        _Column("👍", [pct(r.thumbs_up_rate) for r in rows]),
    ]
    given_way = [c.header for c in rates] if style else []
    if not style:
        columns += rates
    if judged is not None:
        summaries = [judged.get(r.model) for r in rows]
        columns += [
            _Column("Judge", [number(s and s.score) for s in summaries]),
            _Column("Flagged", [pct(s and s.flagged_share) for s in summaries]),
            _Column("Judge legacy", [number(s and s.legacy_score) for s in summaries]),
            _Column("Graded", [str(s.graded if s else 0) for s in summaries]),
        ]
    return columns, given_way


def _fit(columns: list[_Column], width: int) -> tuple[_Layout, list[str]]:
    """The first layout that fits in ``width``: two spaces between columns before one,
    and with each, whole headers before wrapped ones; failing all, without the next
    column of ``DROP_ORDER``. Also the headers of the columns left out."""
    hidden: list[str] = []
    while True:
        for gap in (2, 1):
            for wrap in (False, True):
                layout = _Layout(columns, wrap, gap)
                if layout.width <= width:
                    return layout, hidden
        shown = {c.header for c in columns}
        drop = next((header for header in DROP_ORDER if header in shown), None)
        if drop is None:  # only the columns that always stay: lines run over
            return layout, hidden
        columns = [c for c in columns if c.header != drop]
        hidden.append(drop)


def _header_lines(header: str, width: int) -> list[str]:
    """The header's words packed into lines no wider than ``width``."""
    lines: list[str] = []
    for word in header.split():
        if lines and cell_len(lines[-1]) + 1 + cell_len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _pad(text: str, width: int, left: bool) -> str:
    space = " " * (width - cell_len(text))
    return text + space if left else space + text


def _table_lines(layout: _Layout) -> list[str]:
    """Headers (bottom-aligned, wrapped between words), a rule, then one line a row."""
    columns, widths, joint = layout.columns, layout.widths, " " * layout.gap
    headers = [_header_lines(c.header, w) for c, w in zip(columns, widths, strict=True)]
    depth = max(len(h) for h in headers)
    headers = [[""] * (depth - len(h)) + h for h in headers]
    lines = [
        joint.join(_pad(h[n], w, c.left) for h, c, w in zip(headers, columns, widths, strict=True))
        for n in range(depth)
    ]
    lines.append("─" * layout.width)
    for n in range(len(columns[0].cells)):
        lines.append(
            joint.join(_pad(c.cells[n], w, c.left) for c, w in zip(columns, widths, strict=True))
        )
    return [line.rstrip() for line in lines]


def _notes(
    board: Leaderboard,
    rows: Sequence[LeaderboardRow],
    given_way: Sequence[str],
    hidden: Sequence[str],
    width: int,
) -> list[str]:
    notes = []
    if any(r.provisional and r.score is not None for r in rows):
        notes.append(messages.PROVISIONAL_NOTE)
    if any(r.left_out_votes for r in rows):
        notes.append(messages.LEFT_OUT_MARK_NOTE)
    if board.too_few_votes:
        notes.append(messages.too_few_votes_to_rank())
    if board.left_out:
        notes.append(messages.votes_left_out(board.left_out))
    if board.style_coefficients is not None:
        notes.append(messages.style_coefficients_note(board.style_coefficients))
    if given_way:
        notes.append(messages.columns_given_way_to_style(given_way))
    if hidden:
        notes.append(messages.columns_not_shown(hidden))
    wrap = textwrap.TextWrapper(
        max(width, 20), break_long_words=False, break_on_hyphens=False, subsequent_indent="  "
    )
    return [line for note in notes for line in wrap.wrap(note)]
