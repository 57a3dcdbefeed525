"""/leaderboard for a channel whose answers were thumbed but never voted on: nothing is
posted in the channel, only a private "no votes yet"."""

from __future__ import annotations

from bot.service import Ask
from tests.bot.slack.conftest import Harness


async def test_a_channel_without_votes_gets_a_private_no_votes_yet(app: Harness) -> None:
    for user in ("UANA", "UBO"):  # single answers in #quiet (one model), thumbed up
        reply = await app.service.ask(Ask("How do I roll back?", user, "CQUIET", None, "slack"))
        await app.service.thumb(reply.answers[0].answer_id, user, 1)
    await app.command("/leaderboard", "<#CQUIET|quiet>")
    await app.settle()
    (reply,) = app.slack.responses()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith("No votes in <#CQUIET> yet.")
    assert app.slack.calls("chat.postMessage") == []
    assert app.slack.uploads() == []
