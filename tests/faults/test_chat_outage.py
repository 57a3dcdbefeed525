"""Slack or Discord answering 5xx or timing out for a while: a post is retried with
backoff and delivered once the API is back; a longer outage is logged with the question's
id, and the question and its answer stay in the store either way."""

from __future__ import annotations

import logging

import pytest

from arena.store import Store
from bot.discord import commands as discord_commands
from bot.slack import app as slack_app
from bot.slack.web_api import OUTAGE_RETRIES, retry_handlers
from tests.bot.discord.conftest import make_service, start
from tests.bot.slack.conftest import Harness, block_action, mention, start_app
from tests.bot.slack.test_feedback import button, posted_answer
from tests.fakes.discord_api import API, FakeDiscord
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, roster
from tests.fakes.slack_api import FakeSlack

UNAVAILABLE = Scripted(503, {"ok": False, "error": "service_unavailable"})


def fast_retries(app: Harness) -> None:
    """The app's own retry handlers with millisecond waits, so the test takes no time."""
    app.bot.client.retry_handlers = retry_handlers(backoff=0.005)


async def stored(store: Store) -> list[tuple[int, str, str]]:
    """(question id, question, answering model) for everything asked so far."""
    return await store._rows(
        "SELECT q.id, q.text, a.model FROM questions q JOIN answers a ON a.question_id = q.id"
    )


@pytest.fixture
async def impatient_app(slack: FakeSlack, monkeypatch):
    """The app with a 0.5 s Web API timeout, so a hung call is given up on quickly."""
    monkeypatch.setattr(slack_app, "WEB_API_TIMEOUT", 0.5)
    async for harness in start_app(slack, roster(fake("alpha"))):
        yield harness


async def test_slack_posts_ride_out_503s_and_a_timeout(impatient_app: Harness) -> None:
    app = impatient_app
    fast_retries(app)
    hung = Scripted(200, {"ok": True, "ts": "1.1"}, delay=1.0)  # answers after the timeout
    app.slack.fail("chat.postMessage", UNAVAILABLE, hung, UNAVAILABLE)
    await app.event(mention("How do I roll back?", ts="100.1"))
    await app.settle()
    attempts = app.slack.calls("chat.postMessage")
    assert len(attempts) == 4
    assert attempts[-1]["thread_ts"] == "100.1" and "shipit rollback" in str(attempts[-1])
    assert app.slack.calls("reactions.remove")  # finished normally after delivering
    assert await stored(app.store) == [(1, "How do I roll back?", "alpha")]


async def test_a_long_slack_outage_is_logged_with_the_question_id(app: Harness, caplog) -> None:
    fast_retries(app)
    app.slack.fail("chat.postMessage", *[UNAVAILABLE] * (OUTAGE_RETRIES + 1))
    with caplog.at_level(logging.ERROR, logger="bot.slack.app"):
        await app.event(mention("How do I roll back?", ts="100.1"))
        await app.settle()
    assert len(app.slack.calls("chat.postMessage")) == OUTAGE_RETRIES + 1
    (logged,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged.getMessage() == (
        "could not deliver the answer to question 1 in C1: service_unavailable"
    )
    assert await stored(app.store) == [(1, "How do I roll back?", "alpha")]

    await app.event(mention("And after the outage?", ts="200.1"))  # back: answered again
    await app.settle()
    assert app.slack.calls("chat.postMessage")[-1]["thread_ts"] == "200.1"


async def test_a_vote_slack_cannot_show_is_still_counted_and_logged(
    arena_app: Harness, caplog
) -> None:
    fast_retries(arena_app)
    message = await posted_answer(arena_app)
    value = button(message, "parley_vote_a")["value"]
    arena_app.slack.fail("chat.update", *[UNAVAILABLE] * (OUTAGE_RETRIES + 1))
    with caplog.at_level(logging.ERROR, logger="bot.slack.app"):
        await arena_app.action(block_action("parley_vote_a", value, message))
        await arena_app.settle()
    (logged,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged.getMessage().startswith(f"the vote on battle {value} by UANA is recorded")
    (counts,) = await arena_app.store.pair_counts()
    assert counts.total == 1


# --- Discord ---------------------------------------------------------------------------

TYPING = Scripted(204, "", content_type="text/plain")  # the typing sign, sent before asking
DISCORD_DOWN = Scripted(503, {"message": "upstream unavailable", "code": 0})
DM = 8888


@pytest.fixture
def quick_discord_retries(monkeypatch) -> None:
    monkeypatch.setattr(discord_commands, "RETRY_DELAYS", (0.01,) * 4)


async def test_discord_posts_ride_out_503s(
    quick_discord_retries, discord_api: FakeDiscord, store: Store
) -> None:
    # discord.py gives up on a 503 at once; Parley's retry delivers after two
    discord_api.server.then("POST", f"{API}/channels/*", TYPING, DISCORD_DOWN, DISCORD_DOWN)
    bot = await start(discord_api, make_service(store))
    await bot.say("How do I roll back?", channel_id=DM, guild=False)
    await bot.client.close()
    attempts = discord_api.posted(DM)  # two answered 503, the third the standing 200
    assert len(attempts) == 3 and attempts[-1]["embeds"][0]["title"] == "alpha"
    assert await stored(store) == [(1, "How do I roll back?", "alpha")]


async def test_a_long_discord_outage_is_logged_with_the_question_id(
    quick_discord_retries, discord_api: FakeDiscord, store: Store, caplog
) -> None:
    tries = len(discord_commands.RETRY_DELAYS) + 1
    discord_api.server.then("POST", f"{API}/channels/*", TYPING, *[DISCORD_DOWN] * tries)
    bot = await start(discord_api, make_service(store))
    with caplog.at_level(logging.WARNING, logger="bot.discord"):
        await bot.say("How do I roll back?", channel_id=DM, guild=False)
    await bot.client.close()
    assert len(discord_api.posted(DM)) == tries  # every one answered 503
    (logged,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged.getMessage().startswith("could not deliver the answer to question 1: 503")
    assert await stored(store) == [(1, "How do I roll back?", "alpha")]
