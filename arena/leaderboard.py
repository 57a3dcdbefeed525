"""The leaderboard: Bradley-Terry scores with 95% intervals, online Elo, rates, a chart.

Computed from the pair counts and thumb counts only, so it costs O(models²) whatever
the number of votes; the online Elo beside it is cached in the store and replays only
new votes. Scores are on the Elo scale with mean 1000 over the rated models (see
``arena.ratings``); intervals are bootstrap percentiles (2.5, 97.5) or, on request,
the sandwich (robust) normal intervals. The bootstrap is seeded from the counts unless
a seed is given, so the same votes always give the same board.

Models with thumbs but no battles are listed after the rated ones with no score, rank,
interval or rates (a thumb is not a comparison), marked provisional. A model is
provisional while it has fewer than ``provisional_votes`` battle votes: its interval
is too wide to rank it, and the table and chart say so instead of drawing one.

Votes that are kept but do not count (battle hygiene: an answer named its own model,
or a user's votes past the daily cap) are left out of everything above and counted
per model in ``left_out_votes``. With ``style=True`` the board adds style-controlled
scores (``arena.style``) and the fitted style coefficients. With ``ties="half"`` the
fits count a tie (or "both bad") as half a win for each side instead of fitting the tie
model, as FastChat and lmarena.ai do, so the scores can be read beside theirs; the
votes and rates stay as counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from rich import box
from rich.markup import escape
from rich.table import Table

from arena.pair_table import Counted, PairTable
from arena.ratings import (
    BTFit,
    bootstrap_scores,
    data_seed,
    fit_bradley_terry,
    normal_intervals,
    rank_upper_bounds,
    score_covariance,
)
from arena.store import JudgeSummary, Store
from arena.style import FEATURE_NAMES, StyleRow, fit_style_control

__all__ = [
    "INTERVAL_METHODS",
    "TIE_RULES",
    "Leaderboard",
    "LeaderboardRow",
    "build_board",
    "build_leaderboard",
    "leaderboard_rows",
    "render_board",
    "render_table",
    "thumbs_up_rate",
    "write_chart",
]

Intervals = Literal["bootstrap", "sandwich"]
INTERVAL_METHODS: tuple[Intervals, ...] = ("bootstrap", "sandwich")
TieRule = Literal["model", "half"]  # the tie model, or a tie as half a win each
TIE_RULES: tuple[TieRule, ...] = ("model", "half")


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's line; the field names are the keys of ``parley leaderboard --json``.
    The ``style_*`` fields are None unless the board was built with style control."""

    rank_ub: int | None
    model: str
    score: float | None
    ci_low: float | None
    ci_high: float | None
    votes: int
    win_rate: float | None
    both_bad_rate: float | None
    thumbs_up_rate: float | None
    provisional: bool
    elo: float | None = None
    left_out_votes: int = 0
    style_score: float | None = None
    style_ci_low: float | None = None
    style_ci_high: float | None = None
    style_rank_ub: int | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready values."""
        return asdict(self)


@dataclass(frozen=True)
class Leaderboard:
    """The rows and what the board says about all of them."""

    rows: list[LeaderboardRow]
    intervals: Intervals = "bootstrap"
    tie_shape: float | None = None  # λ of the tie model the fit chose (None: no votes)
    style_coefficients: dict[str, float] | None = None
    left_out: dict[str, int] = field(default_factory=dict)  # votes per reason
    ties: TieRule = "model"

    @property
    def too_few_votes(self) -> bool:
        """Every rated model is provisional: no interval is narrow enough to rank by."""
        rated = [r for r in self.rows if r.score is not None]
        return bool(rated) and all(r.provisional for r in rated)


async def build_board(
    store: Store,
    *,
    channel: str | None = None,
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
    intervals: Intervals = "bootstrap",
    style: bool = False,
    daily_cap: int | None = None,
    ties: TieRule = "model",
) -> Leaderboard:
    """The leaderboard of one channel's votes (all channels when ``channel`` is None).

    ``daily_cap`` counts at most that many of each user's votes per UTC day (off when
    None). The fits run in a worker thread, off the event loop.
    """
    counts = await store.pair_counts(channel, daily_cap=daily_cap)
    thumbs = await store.thumb_counts(channel)
    elo = await store.elo_ratings(channel, daily_cap=daily_cap)
    left = await store.left_out_counts(channel, daily_cap=daily_cap)
    style_rows = await store.style_rows(channel, daily_cap=daily_cap) if style else None
    left_out: dict[str, int] = {}
    per_model: dict[str, int] = {}
    for reason, pair in left:
        left_out[reason] = left_out.get(reason, 0) + pair.total
        for model in (pair.model_a, pair.model_b):
            per_model[model] = per_model.get(model, 0) + pair.total

    def compute() -> Leaderboard:
        table = PairTable.from_counts(counts)
        fitted = table.ties_as_half_wins() if ties == "half" else table
        fit = fit_bradley_terry(fitted) if table.models else None
        rows = leaderboard_rows(
            counts,
            thumbs,
            rounds=rounds,
            provisional_votes=provisional_votes,
            seed=seed,
            intervals=intervals,
            elo=elo,
            left_out=per_model,
            fit=fit,
            ties=ties,
        )
        coefficients = None
        if style_rows is not None:
            rows, coefficients = _with_style(rows, style_rows, fit, ties)
        tie_shape = fit.tie_shape if fit is not None else None
        return Leaderboard(rows, intervals, tie_shape, coefficients, left_out, ties)

    return await asyncio.to_thread(compute)


async def build_leaderboard(
    store: Store,
    *,
    channel: str | None = None,
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
) -> list[LeaderboardRow]:
    """The rows of ``build_board`` with the default options."""
    board = await build_board(
        store, channel=channel, rounds=rounds, provisional_votes=provisional_votes, seed=seed
    )
    return board.rows


def leaderboard_rows(
    counts: Sequence[Counted],
    thumbs: Mapping[str, tuple[int, int]],
    *,
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
    intervals: Intervals = "bootstrap",
    elo: Mapping[str, float] | None = None,
    left_out: Mapping[str, int] | None = None,
    fit: BTFit | None = None,
    ties: TieRule = "model",
) -> list[LeaderboardRow]:
    """Rows from pair counts and thumb counts: rated models by score, then thumbs-only
    ones. ``fit`` saves refitting when the caller has the table's fit already (of the
    table as ``ties`` counts it)."""
    if rounds < 1:
        raise ValueError(f"bootstrap rounds must be at least 1, not {rounds}")
    if intervals not in INTERVAL_METHODS:
        raise ValueError(f"intervals are one of {', '.join(INTERVAL_METHODS)}, not {intervals!r}")
    elo, left_out = elo or {}, left_out or {}
    rows: list[LeaderboardRow] = []
    table = PairTable.from_counts(counts)
    if table.models:
        fitted = table.ties_as_half_wins() if ties == "half" else table
        fit = fit or fit_bradley_terry(fitted)
        if intervals == "sandwich":
            low, high = normal_intervals(fit, score_covariance(fitted, fit))
        else:
            rng = np.random.default_rng(data_seed(table) if seed is None else seed)
            samples = bootstrap_scores(fitted, fit, rounds, rng)
            low, high = np.percentile(samples, [2.5, 97.5], axis=0)
        ranks = rank_upper_bounds(low, high)
        battles = table.battles
        votes = table.per_model(battles, battles)
        wins = table.per_model(table.wins_i, table.wins_j)
        both_bad = table.per_model(table.both_bad, table.both_bad)
        for k, model in enumerate(table.models):
            rows.append(
                LeaderboardRow(
                    rank_ub=int(ranks[k]),
                    model=model,
                    score=round(float(fit.scores[k]), 1),
                    ci_low=round(float(low[k]), 1),
                    ci_high=round(float(high[k]), 1),
                    votes=int(votes[k]),
                    win_rate=round(float(wins[k] / votes[k]), 4),
                    both_bad_rate=round(float(both_bad[k] / votes[k]), 4),
                    thumbs_up_rate=thumbs_up_rate(thumbs.get(model)),
                    provisional=bool(votes[k] < provisional_votes),
                    elo=_rounded(elo.get(model)),
                    left_out_votes=left_out.get(model, 0),
                )
            )
        rows.sort(key=lambda row: (-(row.score or 0.0), row.model))
    for model in sorted((set(thumbs) | set(left_out)) - set(table.models)):
        rate = thumbs_up_rate(thumbs.get(model))
        rows.append(
            LeaderboardRow(
                None,
                model,
                None,
                None,
                None,
                0,
                None,
                None,
                rate,
                True,
                elo=_rounded(elo.get(model)),
                left_out_votes=left_out.get(model, 0),
            )
        )
    return rows


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _with_style(
    rows: list[LeaderboardRow],
    style_rows: Sequence[StyleRow],
    fit: BTFit | None,
    ties: TieRule = "model",
) -> tuple[list[LeaderboardRow], dict[str, float]]:
    """The rows with their style-controlled scores, and the style coefficients."""
    if ties == "half":
        style_rows = _ties_halved(style_rows)
    styled = fit_style_control(style_rows, fit)
    index = {model: k for k, model in enumerate(styled.models)}
    out = []
    for row in rows:
        k = index.get(row.model)
        if k is not None:
            row = replace(
                row,
                style_score=round(float(styled.scores[k]), 1),
                style_ci_low=round(float(styled.ci_low[k]), 1),
                style_ci_high=round(float(styled.ci_high[k]), 1),
                style_rank_ub=int(styled.rank_ub[k]),
            )
        out.append(row)
    coefficients = {name: round(styled.coefficients.get(name, 0.0), 4) for name in FEATURE_NAMES}
    return out, coefficients


def _ties_halved(rows: Sequence[StyleRow]) -> list[StyleRow]:
    """Each tie (or "both bad") row as half its count won by A and half by B."""
    out: list[StyleRow] = []
    for r in rows:
        if r.choice in ("tie", "both_bad"):
            out += [replace(r, choice=side, count=r.count / 2) for side in ("a", "b")]
        else:
            out.append(r)
    return out


def thumbs_up_rate(counts: tuple[int, int] | None) -> float | None:
    """Share of thumbs that were up; None when the model has none."""
    if not counts or sum(counts) == 0:
        return None
    return round(counts[0] / sum(counts), 4)


def render_table(
    rows: Sequence[LeaderboardRow],
    *,
    style: bool = False,
    extra_notes: Sequence[str] = (),
    judged: Mapping[str, JudgeSummary] | None = None,
) -> Table:
    """The leaderboard as a rich table that stays readable at 80 columns.

    Intervals are written as Chatbot Arena writes them, +above/-below the score, and
    every column is as wide as its widest cell, so no model name is cut. With style
    control, the rates give way to the style columns (they stay in ``--json``). A
    provisional model's interval and rank are too wide to rank by, so they are not
    shown; its name is marked with * and a note says why. With ``judged``, the judge's
    mean score, legacy score and graded answers follow in their own columns.
    """
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=0)  # the box parts columns
    table.caption_justify = "left"

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    def number(value: float | None) -> str:
        return "–" if value is None else f"{value:.0f}"

    def interval(score: float | None, low: float | None, high: float | None, hide: bool) -> str:
        if score is None or low is None or high is None or hide:
            return "–"
        return f"+{max(high - score, 0):.0f}/-{max(score - low, 0):.0f}"

    def rank(value: int | None, hide: bool) -> str:
        return "–" if value is None or hide else str(value)

    columns = ["Rank (UB)", "Model", "Score", "95% CI"]
    if style:
        columns += ["Style", "Style CI", "Style rank"]
    columns += ["Elo", "Votes"]
    if not style:
        columns += ["Win", "Both bad", "👍"]
    if judged is not None:
        columns += ["Judge", "Judge legacy", "Graded"]
    lines = []
    for r in rows:
        hide = r.provisional
        cells = [
            rank(r.rank_ub, hide),
            escape(r.model) + ("*" if r.provisional and r.score is not None else ""),
            number(r.score),
            interval(r.score, r.ci_low, r.ci_high, hide),
        ]
        if style:
            cells += [
                number(r.style_score),
                interval(r.style_score, r.style_ci_low, r.style_ci_high, hide),
                rank(r.style_rank_ub, hide),
            ]
        left = f" (+{r.left_out_votes})" if r.left_out_votes else ""
        cells += [number(r.elo), f"{r.votes}{left}"]
        if not style:
            cells += [pct(r.win_rate), pct(r.both_bad_rate), pct(r.thumbs_up_rate)]
        if judged is not None:
            summary = judged.get(r.model)
            cells += [
                number(summary and summary.score),
                number(summary and summary.legacy_score),
                str(summary.graded if summary else 0),
            ]
        lines.append(cells)
    for n, header in enumerate(columns):
        widest = max([len(line[n]) for line in lines] + [1])
        if header == "Model":
            table.add_column(header, min_width=widest, no_wrap=True)
        else:  # headers may wrap (or fold) onto more lines; cells never do
            table.add_column(header, justify="right", min_width=widest, overflow="fold")
    for cells in lines:
        table.add_row(*cells)
    notes = []
    if any(r.provisional and r.score is not None for r in rows):
        notes.append("* provisional: too few votes for an interval narrow enough to rank by")
    if any(r.left_out_votes for r in rows):
        notes.append("(+n): votes kept but left out of the ratings")
    table.caption = "\n".join([*notes, *extra_notes]) or None
    return table


LEFT_OUT_LABELS = {
    "daily_cap": "past a user's daily cap",
    "names_model": "an answer named its model",
}


def render_board(
    board: Leaderboard,
    *,
    style: bool = False,
    judged: Mapping[str, JudgeSummary] | None = None,
) -> Table:
    """``render_table`` with what the board says as a whole under it: too few votes to
    rank anyone, votes left out and why, the style coefficients."""
    notes = []
    if board.too_few_votes:
        notes.append(
            "Too few votes to rank: every model is provisional, so the intervals are too"
            " wide to say which is better. Keep voting."
        )
    if board.left_out:
        parts = [
            f"{n} ({LEFT_OUT_LABELS.get(reason, reason)})"
            for reason, n in sorted(board.left_out.items())
        ]
        notes.append(f"Votes left out of the ratings: {', '.join(parts)}.")
    if board.style_coefficients is not None:
        parts = [f"{name} {value:+.3f}" for name, value in board.style_coefficients.items()]
        notes.append(f"Style coefficients (logit per standard deviation): {', '.join(parts)}.")
    return render_table(board.rows, style=style, extra_notes=notes, judged=judged)


def write_chart(rows: Sequence[LeaderboardRow], path: Path | BinaryIO) -> None:
    """Scores with their 95% intervals and the online Elo, best at the top, as a PNG.
    Provisional models get a hollow marker and no interval (too wide to rank by)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in rows if r.score is not None][::-1]
    fig, ax = plt.subplots(figsize=(8, max(2.0, 0.4 * len(scored) + 1)))
    if scored:
        y = np.arange(len(scored))
        scores = np.array([r.score for r in scored])
        # a percentile interval may, rarely, not contain the full-data score
        errors = np.array(
            [
                [r.score - r.ci_low, r.ci_high - r.score] if not r.provisional else [0, 0]
                for r in scored
            ]
        ).T
        errors = np.maximum(errors, 0.0)
        firm = np.array([not r.provisional for r in scored])
        if firm.any():
            ax.errorbar(
                scores[firm],
                y[firm],
                xerr=errors[:, firm],
                fmt="o",
                capsize=4,
                label="Bradley-Terry, 95% interval",
            )
        if not firm.all():
            ax.plot(
                scores[~firm],
                y[~firm],
                "o",
                mfc="none",
                color="C0",
                label="provisional (too few votes to rank)",
            )
        elo = [(r.elo, k) for k, r in enumerate(scored) if r.elo is not None]
        if elo:
            ax.plot([e for e, _ in elo], [k for _, k in elo], "x", color="C1", label="online Elo")
        ax.set_yticks(y, [r.model for r in scored])
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no votes yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("score (Elo scale)")
    ax.set_title("Parley leaderboard")
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
