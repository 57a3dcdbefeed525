"""The leaderboard through the service: rows and the chart, and nothing for a board
without counted votes (what Slack and Discord post, or keep private, follows from it)."""

from __future__ import annotations

import pytest

from arena.store import Store
from bot.service import Ask
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes

pytestmark = pytest.mark.both_engines

PNG = b"\x89PNG\r\n\x1a\n"


def ask(user: str, channel: str) -> Ask:
    return Ask("How do I roll back?", user, channel, None, "slack")


async def test_a_channel_with_thumbs_but_no_votes_has_no_rows_and_no_chart(store: Store) -> None:
    battles = service_over_fakes(store, roster(fake("alpha"), fake("beta")), battle_share=1)
    reply = await battles.ask(ask("ana", "eng"))
    await battles.vote(reply.battle_id, "ana", "a", platform="slack", channel="eng")
    singles = service_over_fakes(store, roster(fake("alpha"), fake("beta")), battle_share=0)
    for user in ("bo", "cy"):  # single answers in #quiet, thumbed, never a vote
        single = await singles.ask(ask(user, "quiet"))
        await singles.thumb(single.answers[0].answer_id, user, 1)

    quiet = await singles.leaderboard("quiet", chart=True)
    assert quiet.rows == [] and quiet.chart_png is None
    assert {r.model for r in quiet.leaderboard.unrated} <= {"alpha", "beta"}
    assert all(r.thumbs_up_rate == 1.0 for r in quiet.leaderboard.unrated)
    eng = await singles.leaderboard("eng", chart=True)
    assert [r.votes for r in eng.rows] == [1, 1]
    assert eng.chart_png is not None and eng.chart_png.startswith(PNG)


async def test_the_chart_is_drawn_only_when_asked_for(store: Store) -> None:
    svc = service_over_fakes(store, roster(fake("alpha"), fake("beta")), battle_share=1)
    for user in ("ana", "bo", "cy"):
        reply = await svc.ask(ask(user, "eng"))
        winner = "a" if reply.answers[0].answer.model == "alpha" else "b"
        await svc.vote(reply.battle_id, user, winner, platform="slack", channel="eng")
    board = await svc.leaderboard(chart=True)
    assert [r.model for r in board.rows] == ["alpha", "beta"]
    assert board.chart_png is not None and board.chart_png.startswith(PNG)
    assert len(board.chart_png) > 2000
    assert (await svc.leaderboard()).chart_png is None
    assert board.leaderboard.intervals == "sandwich"  # the default
    assert (await svc.leaderboard(intervals="bootstrap")).leaderboard.intervals == "bootstrap"
