"""Hostile Slack payloads through the real signed HTTP endpoint: malformed bodies, missing
fields, huge text, unknown action ids, forged and foreign battle ids. Each is refused
cleanly: no vote or thumb stored, nothing sent that shows a stack trace, and the app keeps
answering afterwards."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import messages
from bot.slack import blocks
from tests.bot.slack.conftest import Harness, block_action, mention, start_app
from tests.fakes.providers import fake, roster
from tests.fakes.slack_api import TEAM, FakeSlack

from .conftest import HUGE, JSON, assert_no_traceback, mangled

FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
HOME = "C1"  # the battle is shown here; every fuzzed click comes from elsewhere
ACTION_IDS = [
    *(f"{blocks.ACTION_VOTE}_{c}" for c in messages.CHOICE_LABELS),
    f"{blocks.ACTION_VOTE}_c",
    f"{blocks.ACTION_VOTE}_",
    blocks.ACTION_THUMB_UP,
    blocks.ACTION_THUMB_DOWN,
    "parley_unknown",
    "",
]
FORGED_ANSWER = st.integers(min_value=1000) | st.integers(max_value=0)


@pytest.fixture
def live(loop_thread, fake_api):
    """The arena app (every question a battle) with one battle shown in ``HOME``."""
    slack = FakeSlack(fake_api)
    started = start_app(slack, roster(fake("alpha"), fake("beta")), battle_share=1)
    harness: Harness = loop_thread.run(anext(started))
    loop_thread.run(_ask(harness, "How do I roll back?"))
    (posted,) = slack.calls("chat.postMessage")
    yield harness, posted
    loop_thread.run(started.aclose())


async def _ask(harness: Harness, text: str, ts: str = "100.1") -> None:
    status, _ = await harness.event(mention(text, ts=ts, channel=HOME))
    assert status == 200
    await harness.settle()


async def _nothing_rated(harness: Harness) -> None:
    assert await harness.store.pair_counts() == []
    assert await harness.store.thumb_counts() == {}
    assert await harness.store.battle_votes([1]) == []


def _check(loop_thread, harness: Harness, answer: tuple[int, str]) -> None:
    """A payload bolt cannot parse at all gets its 500 (Slack's to see, not a user's):
    without a stack trace either way."""
    assert "Traceback" not in answer[1]
    loop_thread.run(harness.settle())
    loop_thread.run(_nothing_rated(harness))
    assert_no_traceback(harness.slack.server)


def _still_answers(loop_thread, harness: Harness) -> None:
    before = len(harness.slack.calls("chat.postMessage"))
    loop_thread.run(_ask(harness, "And how do I deploy?", ts="999.9"))
    assert len(harness.slack.calls("chat.postMessage")) == before + 1


def _action_value(battle: int) -> st.SearchStrategy[str]:
    thumb = st.fixed_dictionaries({"answer": FORGED_ANSWER, "model": st.text(max_size=10)})
    return st.one_of(
        st.just(str(battle)),  # the real battle, clicked from the wrong channel
        st.integers().map(str),
        st.text(max_size=30),
        thumb.map(json.dumps),
        JSON.map(json.dumps),
        st.just(HUGE),
    )


@FUZZ
@given(data=st.data())
def test_forged_clicks_are_refused_and_store_nothing(live, loop_thread, data) -> None:
    harness, posted = live
    message = {"ts": "1700000000.000001", "text": "", "blocks": posted["blocks"]}
    action_id = data.draw(st.sampled_from(ACTION_IDS))
    value = data.draw(_action_value(1))
    channel = data.draw(st.sampled_from(["C2", "D9", "G7", f"{HOME} ", ""]))
    payload = block_action(action_id, value, message, channel=channel, user="UEVE")
    payload = data.draw(mangled(payload)) if data.draw(st.booleans()) else payload
    _check(loop_thread, harness, loop_thread.run(harness.action(payload)))


@FUZZ
@given(
    payload=mangled(
        {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": "UEVE", "team_id": TEAM},
            "view": {
                "callback_id": blocks.REASON_MODAL,
                "private_metadata": json.dumps({"answer": 5000, "model": "x", "channel": "C1"}),
                "state": {"values": {}},
            },
        }
    ),
    metadata=JSON.map(json.dumps) | st.text(max_size=40),
)
def test_forged_modal_submissions_store_nothing(live, loop_thread, payload, metadata) -> None:
    harness, _ = live
    if isinstance(payload.get("view"), dict):
        payload["view"] = {**payload["view"], "private_metadata": metadata}
    _check(loop_thread, harness, loop_thread.run(harness.action(payload)))


@FUZZ
@given(
    event=mangled(
        {
            "type": "app_mention",
            "user": "UEVE",
            "text": "<@UPARLEY> hello",
            "ts": "200.1",
            "channel": "C2",
            "event_ts": "200.1",
        }
    ),
    text=st.text(max_size=200) | st.just(HUGE),
    kind=st.sampled_from(["app_mention", "message", "reaction_added", "bogus"]),
)
def test_malformed_events_are_answered_or_dropped(live, loop_thread, event, text, kind) -> None:
    harness, _ = live
    event = {**event, "type": kind}
    if isinstance(event.get("text"), str):
        event["text"] += text
    _check(loop_thread, harness, loop_thread.run(harness.event(event)))


@FUZZ
@given(
    name=st.sampled_from(["/ask", "/leaderboard", "/reindex", "/unknown"]),
    fields=mangled({"channel_id": "C2", "user_id": "UEVE", "text": "x", "trigger_id": "t"}),
    text=st.text(max_size=100) | st.just(HUGE),
)
def test_malformed_commands_are_refused_cleanly(live, loop_thread, name, fields, text) -> None:
    harness, _ = live
    form = {
        "token": "unused",
        "team_id": TEAM,
        "command": name,
        "api_app_id": "A1",
        "response_url": harness.slack.response_url("fuzz"),
        **{k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()},
    }
    if "text" in form:
        form["text"] += text
    answer = loop_thread.run(harness.post(urlencode(form), "application/x-www-form-urlencoded"))
    _check(loop_thread, harness, answer)


@FUZZ
@given(
    body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    kind=st.sampled_from(["application/json", "application/x-www-form-urlencoded"]),
)
def test_malformed_bodies_are_refused(live, loop_thread, body, kind) -> None:
    harness, _ = live
    text = body.decode("utf-8", "replace")
    _check(loop_thread, harness, loop_thread.run(harness.post(text, kind)))


def test_the_app_keeps_answering_after_the_fuzzing(live, loop_thread) -> None:
    """One of each kind of junk, then a real question still gets its answer."""
    harness, posted = live
    message = {"ts": "1700000000.000001", "text": "", "blocks": posted["blocks"]}
    junk = [
        harness.action(block_action(f"{blocks.ACTION_VOTE}_a", "1", message, channel="C2")),
        harness.action(block_action(blocks.ACTION_THUMB_UP, "{", message)),
        harness.post("{not json", "application/json"),
        harness.event({"type": "app_mention"}),
    ]
    for request in junk:
        _check(loop_thread, harness, loop_thread.run(request))
    _still_answers(loop_thread, harness)


def test_a_vote_from_another_channel_is_refused_and_a_home_vote_counts(live, loop_thread) -> None:
    harness, posted = live
    message = {"ts": "1700000000.000001", "text": "", "blocks": posted["blocks"]}
    vote = f"{blocks.ACTION_VOTE}_a"
    loop_thread.run(harness.action(block_action(vote, "1", message, channel="C2")))
    _check(loop_thread, harness, (200, ""))
    (refusal,) = harness.slack.calls("chat.postEphemeral")
    assert refusal["text"] == messages.foreign_battle() and refusal["channel"] == "C2"
    loop_thread.run(harness.action(block_action(vote, "1", message, channel=HOME)))
    loop_thread.run(harness.settle())
    assert len(loop_thread.run(harness.store.battle_votes([1]))) == 1
    (reveal,) = harness.slack.calls("chat.update")  # a payload without the posted text
    assert reveal["text"].startswith("Model A: ") and "Model B: " in reveal["text"]


def test_an_unsigned_or_badly_signed_request_is_rejected(live, loop_thread) -> None:
    harness, posted = live
    message = {"ts": "1700000000.000001", "text": "", "blocks": posted["blocks"]}
    form = urlencode({"payload": json.dumps(block_action("parley_vote_a", "1", message))})
    kind = "application/x-www-form-urlencoded"
    forged = loop_thread.run(harness.post(form, kind, secret="forged"))
    assert forged[0] == 401
    replayed = loop_thread.run(harness.post(form, kind, timestamp=1))
    assert replayed[0] == 401
    _check(loop_thread, harness, replayed)
