"""Questions at the wire: mentions, DMs, thread follow-ups, /ask, retries and signatures."""

from __future__ import annotations

import asyncio
import json
import time
from itertools import pairwise

import pytest

from arena.errors import ProviderUnavailable
from bot.messages import ASSISTANT_GREETING as GREETING
from bot.messages import ASSISTANT_PROMPTS as SUGGESTED_PROMPTS
from bot.messages import ASSISTANT_STATUS as STATUS
from tests.bot.slack.conftest import Harness, mention, message, start_app
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, hosted, openai_stream, roster
from tests.fakes.slack_api import BOT_ID, BOT_USER, FakeSlack


def texts(blocks: list[dict]) -> str:
    """Every text in a message's blocks, joined, to assert on what a reader sees."""
    out = []
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            out.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), dict):
                out.append(element["text"]["text"])
            elif isinstance(element.get("text"), str):
                out.append(element["text"])
    return "\n".join(out)


async def test_a_mention_gets_eyes_then_a_threaded_answer_with_sources_and_thumbs(
    app: Harness,
) -> None:
    status, _ = await app.event(mention("How do I roll back?", ts="100.1"))
    assert status == 200
    await app.settle()
    (reaction,) = app.slack.calls("reactions.add")
    assert reaction == {"channel": "C1", "timestamp": "100.1", "name": "eyes"}
    (posted,) = app.slack.calls("chat.postMessage")
    assert posted["channel"] == "C1" and posted["thread_ts"] == "100.1"
    assert "Run shipit rollback" in posted["text"]  # the plain fallback
    shown = texts(posted["blocks"])
    assert "Run shipit rollback [1]" in shown
    assert "[1] Deploys" in shown and "Sources" in shown
    actions = next(b for b in posted["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "parley_thumb_up",
        "parley_thumb_down",
    ]
    # the question was stored with the thread, and the bot's mention was stripped
    (turn, *_) = await app.store.thread_history("slack", "C1", "100.1")
    assert turn.text == "How do I roll back?"


async def test_the_working_sign_comes_before_the_answer_and_goes_after(app: Harness) -> None:
    await app.event(mention("How do I roll back?", ts="100.1"))
    await app.settle()
    reaction = app.slack.server.seen("/api/reactions.add")[0]
    answer = app.slack.server.seen("/api/chat.postMessage")[0]
    removed = app.slack.server.seen("/api/reactions.remove")[0]
    assert reaction.at <= answer.at <= removed.at
    assert app.slack.calls("reactions.remove") == [
        {"channel": "C1", "timestamp": "100.1", "name": "eyes"}
    ]


async def test_a_source_with_a_url_is_linked(slack: FakeSlack) -> None:
    reply = "The rota is in the wiki [2]."
    async for app in start_app(slack, roster(fake("alpha", reply))):
        await app.event(mention("Who is on call?"))
        await app.settle()
    (posted,) = slack.calls("chat.postMessage")
    assert "<https://wiki.example/oncall|On-call>" in texts(posted["blocks"])


async def test_a_dm_is_answered_without_a_mention(app: Harness) -> None:
    await app.event(message("How do I roll back?", ts="200.1", channel="D1", kind="im"))
    await app.settle()
    (posted,) = app.slack.calls("chat.postMessage")
    assert posted["channel"] == "D1" and posted["thread_ts"] == "200.1"


async def test_a_plain_channel_message_is_ignored(app: Harness) -> None:
    await app.event(message("How do I roll back?", ts="300.1"))
    await app.settle()
    assert app.slack.calls("chat.postMessage") == []


async def test_a_follow_up_in_an_answered_thread_needs_no_mention(app: Harness) -> None:
    await app.event(mention("How do I roll back?", ts="100.1"))
    await app.settle()
    await app.event(message("and in staging?", ts="100.5", thread="100.1"))
    await app.settle()
    second = app.slack.calls("chat.postMessage")[1]
    assert second["thread_ts"] == "100.1"
    history = await app.store.thread_history("slack", "C1", "100.1")
    assert [t.text for t in history if t.role == "user"] == [
        "How do I roll back?",
        "and in staging?",
    ]


async def test_a_reply_in_someone_elses_thread_is_ignored(app: Harness) -> None:
    await app.event(message("and in staging?", ts="400.5", thread="400.1"))
    await app.settle()
    assert app.slack.calls("chat.postMessage") == []


async def test_a_mention_inside_a_thread_is_answered_once(app: Harness) -> None:
    await app.event(mention("How do I roll back?", ts="100.1"))
    await app.settle()
    # Slack sends both an app_mention and a message event for a mention in a thread
    await app.event(mention("and in staging?", ts="100.7", thread="100.1"))
    await app.event(message(f"<@{BOT_USER}> and in staging?", ts="100.7", thread="100.1"))
    await app.settle()
    assert len(app.slack.calls("chat.postMessage")) == 2


async def test_bots_and_parley_itself_are_ignored(app: Harness) -> None:
    await app.event(message("hello", ts="500.1", channel="D1", kind="im", bot_id="BOTHER"))
    await app.event(message("hello", ts="500.2", channel="D1", kind="im", subtype="bot_message"))
    own = message("my own answer", ts="500.3", channel="D1", kind="im", bot_id=BOT_ID)
    own["user"] = BOT_USER
    await app.event(own)
    await app.settle()
    assert app.slack.calls("chat.postMessage") == []


async def test_a_retried_event_is_answered_once(slack: FakeSlack) -> None:
    async for app in start_app(slack, roster(fake("alpha", delay=0.3))):
        event = mention("How do I roll back?")
        first = asyncio.create_task(app.event(event, event_id="EvSame"))
        await asyncio.sleep(0.05)  # the retry arrives while the first is being answered
        retried = await app.event(
            event,
            event_id="EvSame",
            headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"},
        )
        assert (await first)[0] == 200 and retried[0] == 200
        await app.settle()
        assert len(slack.calls("chat.postMessage")) == 1
        assert len(slack.calls("reactions.add")) == 1


async def test_the_acknowledgement_does_not_wait_for_the_model(slack: FakeSlack) -> None:
    async for app in start_app(slack, roster(fake("alpha", delay=1.0))):
        started = time.perf_counter()
        status, _ = await app.event(mention("How do I roll back?"))
        assert status == 200 and time.perf_counter() - started < 0.5
        assert slack.calls("chat.postMessage") == []  # still working
        await app.settle()
        assert len(slack.calls("chat.postMessage")) == 1


async def test_a_bad_signature_gets_401_and_does_nothing(app: Harness) -> None:
    status, _ = await app.event(mention("How do I roll back?"), secret="wrong")
    assert status == 401
    await app.settle()
    assert app.slack.calls("reactions.add") == [] and app.slack.calls("chat.postMessage") == []
    assert await app.store.thread_history("slack", "C1", "100.1") == []


async def test_a_stale_timestamp_gets_401(app: Harness) -> None:
    status, _ = await app.event(mention("How do I roll back?"), timestamp=int(time.time()) - 400)
    assert status == 401
    await app.settle()
    assert app.slack.calls("chat.postMessage") == []


async def test_ask_posts_the_question_and_answers_in_its_thread(app: Harness) -> None:
    status, _ = await app.command("/ask", "How do I roll back?")
    assert status == 200
    await app.settle()
    root, answer = app.slack.calls("chat.postMessage")
    assert "thread_ts" not in root and "<@UANA> asked: How do I roll back?" in root["text"]
    assert answer["thread_ts"] == "1700000000.000001"  # the root's ts, as the fake gave it
    assert "Run shipit rollback" in answer["text"]


@pytest.mark.parametrize("text", ["   ", "x", "?"])
async def test_ask_with_no_question_is_told_how_privately_and_nothing_is_posted(
    app: Harness, text: str
) -> None:
    await app.command("/ask", text)
    await app.settle()
    (reply,) = app.slack.responses()
    assert reply["response_type"] == "ephemeral" and "Ask me a question" in reply["text"]
    assert app.slack.calls("chat.postMessage") == []  # no root, no hint in its thread
    assert await app.store._rows("SELECT id FROM questions") == []


async def test_ask_in_a_channel_without_parley_says_invite_me(app: Harness) -> None:
    app.slack.fail("chat.postMessage", Scripted(200, {"ok": False, "error": "not_in_channel"}))
    await app.command("/ask", "How do I roll back?")
    await app.settle()
    (reply,) = app.slack.responses()
    assert "/invite @Parley" in reply["text"]


async def test_channel_modes_from_the_configuration(slack: FakeSlack) -> None:
    modes = {"CASK": "ask_only", "COFF": "off"}
    async for app in start_app(slack, roster(fake("alpha")), slack_channel_modes=modes):
        await app.event(mention("How do I roll back?", channel="CASK"))
        await app.event(mention("How do I roll back?", channel="COFF"))
        await app.command("/ask", "How do I roll back?", channel="COFF")
        await app.settle()
        (hint,) = slack.calls("chat.postEphemeral")
        assert hint["channel"] == "CASK" and "/ask" in hint["text"]
        assert slack.calls("chat.postMessage") == []
        assert "switched off" in slack.responses()[0]["text"]
        await app.command("/ask", "How do I roll back?", channel="CASK")
        await app.settle()
        assert len(slack.calls("chat.postMessage")) == 2


async def test_a_failed_model_gets_a_clear_reply_in_the_thread(slack: FakeSlack) -> None:
    down = ProviderUnavailable("alpha", "HTTP 503")
    async for app in start_app(slack, roster(fake("alpha", down))):
        await app.event(mention("How do I roll back?", ts="100.1"))
        await app.settle()
    (posted,) = slack.calls("chat.postMessage")
    assert posted["thread_ts"] == "100.1"
    assert "No model could answer right now" in posted["text"]
    assert "unavailable" in texts(posted["blocks"])


async def test_a_failed_side_of_a_battle_shows_the_other_alone(slack: FakeSlack) -> None:
    down = ProviderUnavailable("alpha", "HTTP 503")
    contestants = roster(fake("alpha", down), fake("beta"))
    async for app in start_app(slack, contestants, battle_share=1):
        await app.event(mention("How do I roll back?"))
        await app.settle()
    (posted,) = slack.calls("chat.postMessage")
    shown = texts(posted["blocks"])
    assert "Answered by beta" in shown and "alpha is unavailable" in shown
    assert "parley_vote_a" not in str(posted["blocks"])


async def test_a_429_is_retried_after_retry_after(app: Harness) -> None:
    app.slack.fail(
        "chat.postMessage",
        Scripted(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "0"}),
    )
    await app.event(mention("How do I roll back?"))
    await app.settle()
    first, retried = app.slack.calls("chat.postMessage")  # the 429, then the post
    assert first == retried and "Run shipit rollback" in retried["text"]


async def test_the_assistant_panel_greets_with_suggested_prompts(app: Harness) -> None:
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "UANA",
            "context": {"channel_id": "C1", "team_id": "T0001"},
            "channel_id": "D1",
            "thread_ts": "600.1",
        },
        "event_ts": "600.2",
    }
    status, _ = await app.event(started)
    assert status == 200
    await app.settle()
    (greeting,) = app.slack.calls("chat.postMessage")
    assert greeting["channel"] == "D1" and greeting["thread_ts"] == "600.1"
    assert greeting["text"] == GREETING
    (prompts,) = app.slack.calls("assistant.threads.setSuggestedPrompts")
    assert prompts["channel_id"] == "D1" and len(prompts["prompts"]) == len(SUGGESTED_PROMPTS)


async def test_the_assistant_suggests_questions_about_the_biggest_documents(
    slack: FakeSlack,
) -> None:
    asked: list[int] = []

    def titles(limit: int) -> list[str]:
        asked.append(limit)
        return ["Deploys and rollbacks", "On-call"][:limit]

    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": "UANA", "channel_id": "D1", "thread_ts": "600.1"},
        "event_ts": "600.2",
    }
    async for app in start_app(slack, roster(fake("alpha")), titles=titles):
        await app.event(started)
        await app.settle()
    (prompts,) = slack.calls("assistant.threads.setSuggestedPrompts")
    assert prompts["prompts"] == [
        {
            "title": "About Deploys and rollbacks",
            "message": "What should I know about Deploys and rollbacks?",
        },
        {"title": "About On-call", "message": "What should I know about On-call?"},
    ]
    assert asked == [3]


async def test_the_assistant_shows_a_status_then_answers_in_its_thread(app: Harness) -> None:
    await app.event(
        message("How do I roll back?", ts="600.3", thread="600.1", channel="D1", kind="im")
    )
    await app.settle()
    (status,) = app.slack.calls("assistant.threads.setStatus")
    assert (status["channel_id"], status["thread_ts"], status["status"]) == ("D1", "600.1", STATUS)
    (answer,) = app.slack.calls("chat.postMessage")
    assert answer["thread_ts"] == "600.1" and "Run shipit rollback" in answer["text"]
    assert app.slack.calls("reactions.add") == []
    assert app.slack.server.seen("/api/assistant.threads.setStatus")[0].at <= (
        app.slack.server.seen("/api/chat.postMessage")[0].at
    )


async def test_a_plain_dm_thread_falls_back_to_the_reaction(app: Harness) -> None:
    app.slack.fail(
        "assistant.threads.setStatus", Scripted(200, {"ok": False, "error": "invalid_thread"})
    )
    await app.event(message("And staging?", ts="700.3", thread="700.1", channel="D1", kind="im"))
    await app.settle()
    (reaction,) = app.slack.calls("reactions.add")
    assert reaction["timestamp"] == "700.3"
    assert app.slack.calls("chat.postMessage")[0]["thread_ts"] == "700.1"


async def test_the_url_verification_challenge_is_answered(app: Harness) -> None:
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c-123"})
    status, text = await app.post(body, "application/json")
    assert status == 200 and "c-123" in text


async def test_only_parleys_own_mention_is_taken_out_of_the_question(app: Harness) -> None:
    await app.event(mention("what does <@UBEN> own?", ts="800.1"))
    await app.settle()
    (turn, *_) = await app.store.thread_history("slack", "C1", "800.1")
    assert turn.text == "what does <@UBEN> own?"


async def test_a_hosted_answer_streams_into_one_message_then_becomes_the_final_one(
    slack: FakeSlack, monkeypatch
) -> None:
    """Posted when text starts, chat.update at most once an interval, then the Block
    Kit answer replaces it in the same message."""
    monkeypatch.setattr("bot.slack.questions.EDIT_INTERVAL", 0.2)
    words = ["@here "] + [f"word{i} " for i in range(20)] + ["done [1]."]
    slack.server.route("POST", "/v1/chat/completions", openai_stream(words, pace=0.05))
    async for app in start_app(slack, hosted("gpt", slack.server.url)):
        await app.event(mention("How do I roll back?", ts="100.1"))
        await app.settle()
    (posted,) = app.slack.calls("chat.postMessage")
    assert posted["thread_ts"] == "100.1" and posted["text"].startswith("@\u200bhere")
    assert "Writing" in texts(posted["blocks"])
    updates = app.slack.calls("chat.update")
    assert len(updates) >= 3  # at least two partial edits and the final message
    assert len({u["ts"] for u in updates}) == 1  # all of them the one posted message
    edited_at = [seen.at for seen in app.slack.server.seen("/api/chat.*")][:-1]
    assert all(b - a >= 0.15 for a, b in pairwise(edited_at))
    shown = texts(updates[-1]["blocks"])
    whole = "".join(words).replace("@", "@\u200b").strip()
    assert whole.replace("[1].", "[1] [?].") in shown  # word0, word1...: numbers in no source
    assert "Writing" not in shown and "Sources" in shown
    partials = [posted, *updates[:-1]]
    assert "@here" not in "".join(p["text"] for p in partials)  # pings no one mid-way


async def test_a_stream_that_fails_midway_is_replaced_by_the_failure(
    slack: FakeSlack, monkeypatch
) -> None:
    monkeypatch.setattr("bot.slack.questions.EDIT_INTERVAL", 0.1)
    words = [f"word{i} " for i in range(6)]
    slack.server.route("POST", "/v1/chat/completions", openai_stream(words, error=True, pace=0.05))
    async for app in start_app(slack, hosted("gpt", slack.server.url)):
        await app.event(mention("How do I roll back?", ts="100.1"))
        await app.settle()
    (posted,) = app.slack.calls("chat.postMessage")
    assert posted["text"].startswith("word0")
    final = app.slack.calls("chat.update")[-1]
    assert "word0" not in texts(final["blocks"]) and "unavailable" in texts(final["blocks"])
