"""Messages with the subtypes real channels produce: the ones that still carry a
person's question are answered, the rest are left alone with a debug line saying why.
Nothing raises (``Slack work failed`` would be logged)."""

from __future__ import annotations

import json
import logging

import pytest

from tests.bot.slack.conftest import Harness, mention
from tests.bot.slack.payloads import (
    bot_message,
    channel_join,
    file_share,
    message_changed,
    thread_broadcast,
)


@pytest.fixture(autouse=True)
def debug_log(caplog):
    caplog.set_level(logging.DEBUG, logger="bot.slack")
    return caplog


def failures(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def answered_thread(app: Harness) -> None:
    await app.event(mention("How do I roll back?", ts="100.1"))
    await app.settle()


async def test_a_thread_reply_also_sent_to_the_channel_is_a_follow_up(app: Harness, caplog) -> None:
    await answered_thread(app)
    await app.event(thread_broadcast("and in staging?", ts="100.5", thread="100.1"))
    await app.settle()
    _, second = app.slack.calls("chat.postMessage")
    assert second["thread_ts"] == "100.1" and "Run shipit rollback" in second["text"]
    history = await app.store.thread_history("slack", "C1", "100.1")
    assert [t.text for t in history if t.role == "user"] == [
        "How do I roll back?",
        "and in staging?",
    ]
    assert failures(caplog) == []


async def test_a_broadcast_reply_in_someone_elses_thread_is_left_alone(
    app: Harness, caplog
) -> None:
    await app.event(thread_broadcast("and in staging?", ts="400.5", thread="400.1"))
    await app.settle()
    assert app.slack.calls("chat.postMessage") == []
    assert "Parley has not answered in that thread" in caplog.text


def photo(app: Harness) -> list[dict]:
    """A file Parley does not read: its text question is answered all the same."""
    return [app.slack.add_file("screen.png", b"\x89PNG\r\n", "image/png")]


async def test_a_dm_with_a_file_attached_answers_its_text(app: Harness, caplog) -> None:
    await app.event(file_share("How do I roll back?", ts="200.1", files=photo(app)))
    await app.settle()
    (posted,) = app.slack.calls("chat.postMessage")
    assert posted["channel"] == "D1" and posted["thread_ts"] == "200.1"
    assert "Run shipit rollback" in posted["text"]
    assert "I can't read screen.png" in json.dumps(posted["blocks"])
    assert app.slack.calls("reactions.add")[0]["timestamp"] == "200.1"
    assert failures(caplog) == []


async def test_the_assistant_panel_answers_a_message_with_a_file(app: Harness) -> None:
    files = photo(app)
    await app.event(file_share("How do I roll back?", ts="600.3", thread="600.1", files=files))
    await app.settle()
    (status,) = app.slack.calls("assistant.threads.setStatus")
    assert status["thread_ts"] == "600.1"
    (answer,) = app.slack.calls("chat.postMessage")
    assert answer["thread_ts"] == "600.1" and "Run shipit rollback" in answer["text"]


@pytest.mark.parametrize(
    ("event", "why"),
    [
        (message_changed("edited words", ts="300.2", edited="300.1"), "a message_changed message"),
        (bot_message("I am another app", ts="300.3", channel="D1", kind="im"), "a bot's message"),
        (bot_message("replying", ts="100.7", thread="100.1"), "a bot's message"),
        (channel_join(ts="300.4"), "a channel_join message"),
    ],
    ids=["edit", "other-app-dm", "other-app-in-thread", "join"],
)
async def test_edits_other_apps_and_joins_are_left_alone_and_say_why(
    app: Harness, caplog, event: dict, why: str
) -> None:
    await answered_thread(app)
    before = len(app.slack.calls("chat.postMessage"))
    status, _ = await app.event(event)
    assert status == 200
    await app.settle()
    assert len(app.slack.calls("chat.postMessage")) == before
    assert app.slack.calls("chat.postEphemeral") == []
    ignored = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ignoring")]
    assert any(why in line for line in ignored), ignored
    assert failures(caplog) == []


async def test_parleys_own_messages_echoed_back_are_left_alone(app: Harness) -> None:
    """Slack sends the bot its own posts as message events (bot_id, the bot's user)."""
    await answered_thread(app)
    own = {**app.slack.messages("C1")[-1], "channel": "C1", "channel_type": "channel"}
    await app.event({**own, "event_ts": own["ts"]})
    await app.settle()
    assert len(app.slack.calls("chat.postMessage")) == 1
