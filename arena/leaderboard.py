"""The leaderboard: Bradley-Terry scores with 95% intervals, rates, and a chart.

Computed from the pair counts and thumb counts only, so it costs O(models²) whatever
the number of votes. Scores are on the Elo scale with mean 1000 over the rated models
(see ``arena.ratings``); intervals are bootstrap percentiles (2.5, 97.5).

Models with thumbs but no battles are listed after the rated ones with no score, rank,
interval or rates (a thumb is not a comparison), marked provisional. A model is
provisional while it has fewer than ``provisional_votes`` battle votes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from rich.markup import escape
from rich.table import Table

from arena.ratings import (
    Counted,
    PairTable,
    bootstrap_scores,
    fit_bradley_terry,
    rank_upper_bounds,
)
from arena.store import JudgeSummary, Store

__all__ = [
    "LeaderboardRow",
    "build_leaderboard",
    "leaderboard_rows",
    "render_table",
    "thumbs_up_rate",
    "write_chart",
]


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's line; the field names are the keys of ``parley leaderboard --json``."""

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

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready values."""
        return asdict(self)


async def build_leaderboard(
    store: Store,
    *,
    channel: str | None = None,
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
) -> list[LeaderboardRow]:
    """The leaderboard of one channel's votes (all channels when ``channel`` is None)."""
    counts = await store.pair_counts(channel)
    thumbs = await store.thumb_counts(channel)
    return leaderboard_rows(
        counts, thumbs, rounds=rounds, provisional_votes=provisional_votes, seed=seed
    )


def leaderboard_rows(
    counts: Sequence[Counted],
    thumbs: Mapping[str, tuple[int, int]],
    *,
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
) -> list[LeaderboardRow]:
    """Rows from pair counts and thumb counts: rated models by score, then thumbs-only ones."""
    if rounds < 1:
        raise ValueError(f"bootstrap rounds must be at least 1, not {rounds}")
    rows: list[LeaderboardRow] = []
    table = PairTable.from_counts(counts)
    if table.models:
        fit = fit_bradley_terry(table)
        samples = bootstrap_scores(table, fit, rounds, np.random.default_rng(seed))
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
                )
            )
        rows.sort(key=lambda row: (-(row.score or 0.0), row.model))
    for model in sorted(set(thumbs) - set(table.models)):
        rate = thumbs_up_rate(thumbs[model])
        rows.append(LeaderboardRow(None, model, None, None, None, 0, None, None, rate, True))
    return rows


def thumbs_up_rate(counts: tuple[int, int] | None) -> float | None:
    """Share of thumbs that were up; None when the model has none."""
    if not counts or sum(counts) == 0:
        return None
    return round(counts[0] / sum(counts), 4)


def render_table(
    rows: Sequence[LeaderboardRow], judged: Mapping[str, JudgeSummary] | None = None
) -> Table:
    """The leaderboard as a rich table; provisional models are marked. With ``judged``,
    the judge's mean score, legacy score and graded answers follow in their own columns."""
    table = Table("Rank (UB)", "Model", "Score", "95% CI", "Votes", "Win", "Both bad", "👍 rate")
    if judged is not None:
        for column in ("Judge score", "Judge legacy", "Graded"):
            table.add_column(column, style="cyan")

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    for r in rows:
        name = escape(r.model) + (" [dim](provisional)[/]" if r.provisional else "")
        table.add_row(
            "–" if r.rank_ub is None else str(r.rank_ub),
            name,
            "–" if r.score is None else f"{r.score:.0f}",
            "–" if r.ci_low is None else f"{r.ci_low:.0f} – {r.ci_high:.0f}",
            str(r.votes),
            pct(r.win_rate),
            pct(r.both_bad_rate),
            pct(r.thumbs_up_rate),
            *([] if judged is None else _judge_cells(judged.get(r.model))),
        )
    return table


def _judge_cells(summary: JudgeSummary | None) -> list[str]:
    if summary is None:
        return ["–", "–", "0"]
    score, legacy = summary.score, summary.legacy_score
    return [
        "–" if score is None else f"{score:.0f}",
        "–" if legacy is None else f"{legacy:.0f}",
        str(summary.graded),
    ]


def write_chart(rows: Sequence[LeaderboardRow], path: Path | BinaryIO) -> None:
    """Scores with their 95% intervals, best at the top, as a PNG (to a file or a buffer)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in rows if r.score is not None][::-1]
    fig, ax = plt.subplots(figsize=(8, max(2.0, 0.4 * len(scored) + 1)))
    if scored:
        y = np.arange(len(scored))
        scores = np.array([r.score for r in scored])
        # a percentile interval may, rarely, not contain the full-data score
        errors = np.array([[r.score - r.ci_low, r.ci_high - r.score] for r in scored]).T
        errors = np.maximum(errors, 0.0)
        ax.errorbar(scores, y, xerr=errors, fmt="o", capsize=4)
        ax.set_yticks(y, [r.model + (" *" if r.provisional else "") for r in scored])
    else:
        ax.text(0.5, 0.5, "no votes yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("score (Bradley-Terry, Elo scale) with 95% interval; * provisional")
    ax.set_title("Parley leaderboard")
    fig.tight_layout()
    fig.savefig(path, dpi=120, format="png")
    plt.close(fig)
