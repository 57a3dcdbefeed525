"""The leaderboard chart as PNG bytes: a rendering, drawn at the edge from the rows
``arena.leaderboard`` computes. The service draws it for the surfaces that attach it
(Slack, Discord, ``parley leaderboard --png``), in a worker thread: matplotlib is slow
to import and to draw, so it is imported only here and only when a chart is asked for.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from arena.leaderboard import LeaderboardRow

__all__ = ["leaderboard_png"]


def leaderboard_png(rows: Sequence[LeaderboardRow]) -> bytes:
    """Scores with their 95% intervals and the online Elo, best at the top. Provisional
    models get a hollow marker and no interval (too wide to rank by). Rows without a
    score are left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = [r for r in rows if r.score is not None][::-1]
    fig, ax = plt.subplots(figsize=(8, max(2.0, 0.4 * len(scored) + 1)))
    y = list(range(len(scored)))
    firm = [k for k, r in enumerate(scored) if not r.provisional]
    if firm:
        ax.errorbar(
            [scored[k].score for k in firm],
            firm,
            # a percentile interval may, rarely, not contain the full-data score
            xerr=[
                [max(scored[k].score - scored[k].ci_low, 0.0) for k in firm],
                [max(scored[k].ci_high - scored[k].score, 0.0) for k in firm],
            ],
            fmt="o",
            capsize=4,
            label="Bradley-Terry, 95% interval",
        )
    provisional = [k for k, r in enumerate(scored) if r.provisional]
    if provisional:
        ax.plot(
            [scored[k].score for k in provisional],
            provisional,
            "o",
            mfc="none",
            color="C0",
            label="provisional (too few votes to rank)",
        )
    elo = [(r.elo, k) for k, r in enumerate(scored) if r.elo is not None]
    if elo:
        ax.plot([e for e, _ in elo], [k for _, k in elo], "x", color="C1", label="online Elo")
    ax.set_yticks(y, [r.model for r in scored])
    if scored:
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel("score (Elo scale)")
    ax.set_title("Parley leaderboard")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=120, format="png")
    plt.close(fig)
    return buffer.getvalue()
