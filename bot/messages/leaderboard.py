"""What a leaderboard says around its rows, on every surface: no votes yet, the notes under
its table (provisional rows, votes left out, columns cut for width or given way to the
style columns), its chart file, and the way to the dashboard. Column headings stay with
each surface's table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

__all__ = [
    "LEFT_OUT_LABELS",
    "LEFT_OUT_MARK_NOTE",
    "PROVISIONAL_NOTE",
    "chart_not_written",
    "chart_write_failed",
    "chart_written",
    "columns_given_way_to_style",
    "columns_not_shown",
    "dashboard_link",
    "dashboard_too_few_votes",
    "dashboard_votes_left_out",
    "leaderboard_title",
    "no_votes_yet",
    "rounds_need_bootstrap",
    "style_coefficients_note",
    "too_few_votes_to_rank",
    "votes_in",
    "votes_left_out",
]


# why votes were kept but not counted (``Leaderboard.left_out``'s reasons)
LEFT_OUT_LABELS: dict[str, str] = {
    "daily_cap": "past a user's daily cap",
    "names_model": "an answer named its model",
}


# under the rows on every surface (terminal, Slack, Discord, dashboard) that marks a
# provisional model with *: one sentence, so no surface explains the mark its own way
PROVISIONAL_NOTE = "* provisional: too few votes for an interval narrow enough to rank by."


def no_votes_yet(channel: str | None = None) -> str:
    """``channel``: the one channel the leaderboard was asked for, as the surface shows
    it (other channels may have votes)."""
    if channel:
        return (
            f"No votes in {channel} yet. Without a channel, the leaderboard counts"
            " the votes of every channel."
        )
    return (
        "No votes yet. Vote on A/B answers in `parley chat`,"
        " or load votes with `parley import battles`."
    )


def dashboard_link(web_url: str, channel: str | None = None) -> str:
    """The line under a chat leaderboard that points at the web dashboard (the channel's
    own board when the chat one was for a channel)."""
    url = web_url.rstrip("/") + "/" + (f"?channel={quote(channel, safe='')}" if channel else "")
    return f"Charts, heatmaps and every model's page: {url}"


# the notes under the terminal's table (``parley leaderboard``)
LEFT_OUT_MARK_NOTE = "(+n): votes kept but left out of the ratings"


def too_few_votes_to_rank() -> str:
    return (
        "Too few votes to rank: every model is provisional, so the intervals are too"
        " wide to say which is better. Keep voting."
    )


def votes_left_out(left_out: Mapping[str, int]) -> str:
    """How many votes were kept but not counted, and why (``Leaderboard.left_out``)."""
    parts = [
        f"{n} ({LEFT_OUT_LABELS.get(reason, reason)})" for reason, n in sorted(left_out.items())
    ]
    return f"Votes left out of the ratings: {', '.join(parts)}."


def style_coefficients_note(coefficients: Mapping[str, float]) -> str:
    parts = [f"{name} {value:+.3f}" for name, value in coefficients.items()]
    return f"Style coefficients (logit per standard deviation): {', '.join(parts)}."


def columns_not_shown(hidden: Sequence[str]) -> str:
    return f"Not shown at this width: {', '.join(hidden)} (widen the terminal, or see --json)."


def columns_given_way_to_style(given_way: Sequence[str]) -> str:
    return f"Not shown with --style: {', '.join(given_way)} (leave out --style, or see --json)."


def chart_written(file: Path) -> str:
    return f"Chart written to {file}"


def chart_not_written(file: Path) -> str:
    return f"No chart written to {file}: nothing is rated yet."


def chart_write_failed(file: Path, reason: str) -> str:
    return f"Could not write the chart to {file}: {reason}."


def rounds_need_bootstrap() -> str:
    return (
        "--rounds sets the bootstrap's rounds, and sandwich intervals have none: use it with"
        " --intervals bootstrap, or leave --intervals out."
    )


def leaderboard_title(channel_name: str | None = None) -> str:
    return f"Leaderboard for #{channel_name}" if channel_name else "Leaderboard"


def votes_in(channel: str) -> str:
    """Over a chat leaderboard of one channel's votes (``channel`` as the platform links it)."""
    return f"Votes in {channel}"


# the notes under the dashboard's table
def dashboard_too_few_votes() -> str:
    return (
        "Too few votes to rank: every model is provisional, so the intervals are too wide"
        " to say which is better."
    )


def dashboard_votes_left_out(left_out: Mapping[str, int]) -> str:
    parts = [f"{n} ({LEFT_OUT_LABELS.get(k, k)})" for k, n in sorted(left_out.items())]
    return f"(+n): votes kept but left out of the ratings: {', '.join(parts)}."
