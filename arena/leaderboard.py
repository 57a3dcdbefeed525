"""The leaderboard: Bradley-Terry scores with 95% intervals, rates, and a chart.

Computed from the pair counts and thumb counts only, so it costs O(models²) whatever
the number of votes. Models with thumbs but no battles are listed after the rated
ones, without a score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from arena.ratings import PairTable, bootstrap_scores, fit_bradley_terry, rank_upper_bounds
from arena.store import PairCount, Store

__all__ = ["LeaderboardRow", "build_leaderboard", "leaderboard_rows", "render_table", "write_chart"]


@dataclass(frozen=True)
class LeaderboardRow:
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
        return asdict(self)


async def build_leaderboard(
    store: Store,
    *,
    channel: str | None = None,
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
) -> list[LeaderboardRow]:
    counts = await store.pair_counts(channel)
    thumbs = await store.thumb_counts(channel)
    return leaderboard_rows(counts, thumbs, rounds, provisional_votes, seed)


def leaderboard_rows(
    counts: list[PairCount],
    thumbs: dict[str, tuple[int, int]],
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
) -> list[LeaderboardRow]:
    rows: list[LeaderboardRow] = []
    rated: set[str] = set()
    if counts:
        table = PairTable.from_counts(counts)
        fit = fit_bradley_terry(table)
        samples = bootstrap_scores(table, fit, rounds, np.random.default_rng(seed))
        low, high = np.percentile(samples, [2.5, 97.5], axis=0)
        ranks = rank_upper_bounds(low, high)
        n = len(table.models)
        votes, wins, both_bad = np.zeros(n), np.zeros(n), np.zeros(n)
        for c in counts:
            a, b = table.models.index(c.model_a), table.models.index(c.model_b)
            votes[[a, b]] += c.total
            wins[a] += c.a_wins
            wins[b] += c.b_wins
            both_bad[[a, b]] += c.both_bad
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
        rated = set(table.models)
        rows.sort(key=lambda r: -(r.score or 0))
    for model in sorted(set(thumbs) - rated):
        rows.append(
            LeaderboardRow(
                None, model, None, None, None, 0, None, None, thumbs_up_rate(thumbs[model]), True
            )
        )
    return rows


def thumbs_up_rate(counts: tuple[int, int] | None) -> float | None:
    if not counts or sum(counts) == 0:
        return None
    return round(counts[0] / sum(counts), 4)


def render_table(rows: list[LeaderboardRow]) -> Table:
    table = Table("Rank (UB)", "Model", "Score", "95% CI", "Votes", "Win", "Both bad", "👍 rate")

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.0%}"

    for r in rows:
        name = f"{r.model} [dim](provisional)[/]" if r.provisional else r.model
        table.add_row(
            "–" if r.rank_ub is None else str(r.rank_ub),
            name,
            "–" if r.score is None else f"{r.score:.0f}",
            "–" if r.ci_low is None else f"{r.ci_low:.0f} – {r.ci_high:.0f}",
            str(r.votes),
            pct(r.win_rate),
            pct(r.both_bad_rate),
            pct(r.thumbs_up_rate),
        )
    return table


def write_chart(rows: list[LeaderboardRow], path: Path) -> None:
    """Scores with their 95% intervals, best at the top, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in rows if r.score is not None][::-1]
    fig, ax = plt.subplots(figsize=(8, max(2.0, 0.4 * len(scored) + 1)))
    if scored:
        y = np.arange(len(scored))
        scores = np.array([r.score for r in scored])
        errors = np.array([[r.score - r.ci_low, r.ci_high - r.score] for r in scored]).T
        ax.errorbar(scores, y, xerr=errors, fmt="o", capsize=4)
        ax.set_yticks(y, [r.model + (" *" if r.provisional else "") for r in scored])
    else:
        ax.text(0.5, 0.5, "no votes yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("score (Bradley-Terry, Elo scale) with 95% interval; * provisional")
    ax.set_title("Parley leaderboard")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
