"""What a leaderboard says around its rows, on every surface: no votes yet, why votes were
left out, and the way to the dashboard."""

from __future__ import annotations

from urllib.parse import quote

__all__ = [
    "LEFT_OUT_LABELS",
    "dashboard_link",
    "no_votes_yet",
]


# why votes were kept but not counted (``Leaderboard.left_out``'s reasons)
LEFT_OUT_LABELS: dict[str, str] = {
    "daily_cap": "past a user's daily cap",
    "names_model": "an answer named its model",
}


def no_votes_yet() -> str:
    return (
        "No votes yet. Vote on A/B answers in `parley chat`,"
        " or load votes with `parley import battles`."
    )


def dashboard_link(web_url: str, channel: str | None = None) -> str:
    """The line under a chat leaderboard that points at the web dashboard (the channel's
    own board when the chat one was for a channel)."""
    url = web_url.rstrip("/") + "/" + (f"?channel={quote(channel, safe='')}" if channel else "")
    return f"Charts, heatmaps and every model's page: {url}"
