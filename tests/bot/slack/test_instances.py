"""Instances of the Slack app over one store (one SQLite file, or one PostgreSQL
schema), as ``parley slack --http`` processes behind a load balancer: a message that
reaches two is answered once; a claim left by a crashed instance is taken over by the
instance that acknowledges the retry, and, when no retry comes (Slack had its
acknowledgement), by another instance's rescue."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest

from arena.store import Store
from bot import claims as claims_module
from bot.config import Settings
from bot.slack.app import MESSAGE_SCOPE, SlackBot, message_key
from bot.slack.rescue import Rescue
from bot.slack.run import run_http
from tests.bot.slack.conftest import HITS, SECRET, Harness, mention, message, start_app
from tests.bot.slack.payloads import file_share
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes
from tests.fakes.slack_api import BOT_USER, TEAM, FakeSlack, listening_socket

pytestmark = pytest.mark.both_engines

RETRY = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
LEASE = 1.0  # seconds: short, so a crashed instance's claim runs out within the test
HANGS = 3600.0  # a model that does not reply within a test: its instance is as dead


@contextlib.asynccontextmanager
async def instances(slack: FakeSlack, target: str, *delays: float) -> AsyncIterator[list]:
    """Apps over one store, answering through the same fake Slack: two, or one per
    ``delays`` (how long each one's model takes to reply)."""
    async with contextlib.AsyncExitStack() as stack:
        apps: list[Harness] = []
        for delay in delays or (0.0, 0.0):
            runs = start_app(slack, roster(fake("alpha", delay=delay)), store_target=target)
            apps.append(await runs.__anext__())
            stack.push_async_callback(_finish, runs)
            if delay >= HANGS:
                stack.callback(killed, apps[-1])
        for app in apps:
            app.service.claims.lease = LEASE
        yield apps


async def _finish(runs: AsyncIterator[Harness]) -> None:
    with contextlib.suppress(StopAsyncIteration):
        await runs.__anext__()


def answers_in(slack: FakeSlack, thread: str) -> list[dict]:
    return [c for c in slack.calls("chat.postMessage") if c.get("thread_ts") == thread]


async def test_a_retry_that_reaches_the_other_instance_is_answered_once(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, 0.3, 0.3) as (one, two):
        event = mention("How do I roll back?", ts="200.1")
        first = await one.event(event, event_id="EvOnce")
        await asyncio.sleep(0.05)  # the retry arrives while the first is being answered
        retried = await two.event(event, event_id="EvOnce", headers=RETRY)
        assert first[0] == retried[0] == 200
        await asyncio.gather(one.settle(), two.settle())
        assert len(answers_in(slack, "200.1")) == 1
        assert len(slack.calls("reactions.add")) == 1


async def test_one_dm_delivered_to_both_instances_is_answered_once(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target) as (one, two):
        dm = message("How do I roll back?", ts="300.1", channel="D1", kind="im")
        await asyncio.gather(one.event(dm, event_id="EvA"), two.event(dm, event_id="EvB"))
        await asyncio.gather(one.settle(), two.settle())
        assert len(answers_in(slack, "300.1")) == 1


async def test_many_messages_spread_over_two_instances_each_answered_once(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target) as (one, two):
        sends = []
        for n in range(10):
            event = mention(f"Question {n}?", ts=f"400.{n}")
            sends += [one.event(event, event_id=f"Ev{n}"), two.event(event, event_id=f"Ev{n}")]
        await asyncio.gather(*sends)
        await asyncio.gather(one.settle(), two.settle())
        assert sorted(c["thread_ts"] for c in slack.calls("chat.postMessage")) == [
            f"400.{n}" for n in range(10)
        ]


async def test_a_crashed_instances_claim_is_taken_over_by_the_retry(
    slack: FakeSlack, durable_target: str, monkeypatch
) -> None:
    monkeypatch.setattr(claims_module, "MAX_WAIT", 5 * LEASE)
    async with instances(slack, durable_target) as (_, two):
        event = mention("How do I roll back?", ts="500.1")
        key = message_key(TEAM, event)
        # the first instance claimed the message, then died before answering
        assert (await two.store.claim(MESSAGE_SCOPE, key, "crashed:1:dead", LEASE)).won
        status, _ = await two.event(event, event_id="EvCrash", headers=RETRY)
        assert status == 200
        await two.settle()
        assert len(answers_in(slack, "500.1")) == 1
        done = await two.store.claim(MESSAGE_SCOPE, key, "late", LEASE)
        assert (done.status, done.owner) == ("done", two.service.claims.owner)


async def test_a_message_answered_elsewhere_is_not_answered_again(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target) as (one, two):
        event = mention("How do I roll back?", ts="600.1")
        key = message_key(TEAM, event)
        await one.store.claim(MESSAGE_SCOPE, key, "elsewhere", LEASE)
        await one.store.finish_claim(MESSAGE_SCOPE, key, "elsewhere")
        await asyncio.gather(one.event(event), two.event(event, headers=RETRY))
        await asyncio.gather(one.settle(), two.settle())
        assert answers_in(slack, "600.1") == []


# --- a message whose instance died after acknowledging it: no retry comes ------------


async def acknowledged_then_dead(dead: Harness, event: dict) -> None:
    """``dead`` acknowledges ``event``, claims it and starts answering, then dies: its
    claim is never renewed again (a lease of an hour renews every twenty minutes)."""
    dead.service.claims.lease = HANGS
    status, _ = await dead.event(event)
    assert status == 200  # Slack has its acknowledgement: it will not send the event again
    for _ in range(200):  # the reaction follows the claim
        if any(c["timestamp"] == event["ts"] for c in dead.slack.calls("reactions.add")):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the instance never started answering")


def killed(dead: Harness) -> None:
    """End a dead instance's work as its process's end would, before it posts anything
    (once the others have taken its claims over: a cancelled answer gives its claim up)."""
    for task in list(dead.bot.work.tasks):
        task.cancel()


@contextlib.asynccontextmanager
async def rescuing(app: Harness, **kw) -> AsyncIterator[Rescue]:
    rescue = Rescue(app.bot, **kw)
    try:
        yield rescue
    finally:
        await rescue.stop()


async def answered(slack: FakeSlack, thread: str, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not answers_in(slack, thread):
        assert asyncio.get_running_loop().time() < deadline, f"{thread} was not answered"
        await asyncio.sleep(0.05)


async def test_a_mention_whose_instance_died_is_answered_by_the_others_rescue(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, HANGS, 0.0) as (dead, alive):
        event = mention("How do I roll back?", ts="700.1", thread="699.1")
        await acknowledged_then_dead(dead, event)
        async with rescuing(alive) as rescue:
            rescue.start()  # looks every half lease: the claim runs out after one
            await answered(slack, "699.1")
            await alive.settle()
        (reply,) = answers_in(slack, "699.1")
        assert reply["channel"] == "C1" and "shipit rollback" in reply["text"]
        assert answers_in(slack, "700.1") == []
        # the stored event was answered as the live one is: Parley's mention taken out
        turns = await alive.store.thread_history("slack", "C1", "699.1")
        assert turns[0].text == "How do I roll back?"
        claim = await alive.store.claim(MESSAGE_SCOPE, message_key(TEAM, event), "late", LEASE)
        assert (claim.status, claim.owner) == ("done", alive.service.claims.owner)


async def test_a_dm_with_a_file_whose_instance_died_is_answered_from_the_file(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, HANGS, 0.0) as (dead, alive):
        files = [slack.add_file("contract.md", b"# Contract\n\nIt renews on 1 March.\n")]
        event = file_share("When does the contract renew?", ts="710.1", files=files)
        await acknowledged_then_dead(dead, event)
        for _ in range(200):  # the dead one read the file before its model hung
            if slack.downloads():
                break
            await asyncio.sleep(0.02)
        async with rescuing(alive) as rescue:
            rescue.start()
            await answered(slack, "710.1")
            await alive.settle()
        (reply,) = answers_in(slack, "710.1")
        assert "[1] contract.md" in json.dumps(reply["blocks"])
        assert len(slack.downloads()) == 2  # the claim kept the file: read again


def slow_claims(app: Harness, delay: float) -> None:
    """Make ``app``'s store take ``delay`` seconds to write a claim (a busy database)."""
    claim = app.store.claim

    async def slowly(*args, **kw):
        await asyncio.sleep(delay)
        return await claim(*args, **kw)

    app.store.claim = slowly  # type: ignore[method-assign]


async def test_a_message_whose_instance_died_right_after_acknowledging_is_answered(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, HANGS, 0.0) as (dead, alive):
        dies_at_the_acknowledgement(dead)
        event = mention("How do I roll back?", ts="750.1", thread="749.1")
        status, _ = await dead.event(event)
        assert status == 200  # acknowledged: Slack will not send it again
        await asyncio.sleep(LEASE + 0.1)
        async with rescuing(alive) as rescue:
            assert await rescue.sweep() == 1  # it was claimed before the acknowledgement
            await alive.settle()
        assert len(answers_in(slack, "749.1")) == 1


def dies_at_the_acknowledgement(dead: Harness) -> None:
    """``dead`` writes its claims slowly (0.3 s, which its acknowledgements wait for) and
    is SIGKILLed the moment it acknowledges: nothing it was to do after that runs."""
    dead.service.claims.lease = HANGS
    slow_claims(dead, 0.3)

    async def never(_key, _payload, work, _first) -> None:
        work.close()

    dead.bot._once = never  # type: ignore[method-assign]


async def test_a_slow_store_does_not_hold_the_acknowledgement_back(
    slack: FakeSlack, durable_target: str, monkeypatch
) -> None:
    monkeypatch.setattr("bot.slack.app.CLAIM_WAIT", 0.2)
    async with instances(slack, durable_target, 0.0) as (app,):
        slow_claims(app, 0.8)
        event = mention("How do I roll back?", ts="760.1", thread="759.1")
        started = asyncio.get_running_loop().time()
        status, _ = await app.event(event)
        assert status == 200
        assert asyncio.get_running_loop().time() - started < 0.6  # not the claim's 0.8 s
        await app.settle()  # the claim follows; the message is answered once
        assert len(answers_in(slack, "759.1")) == 1


def questions_posted(slack: FakeSlack, text: str) -> list[dict]:
    """The root messages ``/ask`` posted for ``text`` (with their ``ts``)."""
    return [m for m in slack.messages("C1") if text in m["text"] and not m.get("thread_ts")]


async def test_an_ask_whose_instance_died_right_after_acknowledging_is_asked_and_answered(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, HANGS, 0.0) as (dead, alive):
        dies_at_the_acknowledgement(dead)
        status, _ = await dead.command("/ask", "How do I roll back?", trigger="trig-dies")
        assert status == 200  # Slack never sends a command again
        assert questions_posted(slack, "How do I roll back?") == []
        await asyncio.sleep(LEASE + 0.1)
        async with rescuing(alive) as rescue:
            (orphan,) = await rescue.orphans()  # claimed before the acknowledgement
            assert "token" not in orphan.payload["command"]  # only what answering takes
            assert await rescue.hand_over([orphan]) == 1
            await alive.settle()
        (question,) = questions_posted(slack, "How do I roll back?")
        (reply,) = answers_in(slack, question["ts"])
        assert "shipit rollback" in reply["text"]


async def test_an_ask_whose_instance_died_after_posting_the_question_is_answered_there(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, HANGS, 0.0) as (dead, alive):
        dead.service.claims.lease = HANGS
        status, _ = await dead.command("/ask", "How do I roll back?", trigger="trig-posted")
        assert status == 200
        for _ in range(200):  # the question is posted, then the model hangs
            if questions_posted(slack, "How do I roll back?"):
                break
            await asyncio.sleep(0.02)
        (question,) = questions_posted(slack, "How do I roll back?")
        await asyncio.sleep(LEASE + 0.1)
        async with rescuing(alive) as rescue:
            assert await rescue.sweep() == 1
            await alive.settle()
        # the rescuer read the question's ts from the claim: not asked a second time
        assert questions_posted(slack, "How do I roll back?") == [question]
        (reply,) = answers_in(slack, question["ts"])
        assert "shipit rollback" in reply["text"]


async def test_two_instances_rescuing_at_once_answer_once(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, HANGS, 0.0, 0.0) as (dead, one, two):
        dm = message("How do I roll back?", ts="800.1", channel="D1", kind="im")
        await acknowledged_then_dead(dead, dm)
        await asyncio.sleep(LEASE + 0.1)
        async with rescuing(one) as first, rescuing(two) as second:
            found = await asyncio.gather(first.orphans(), second.orphans())
            assert [len(orphans) for orphans in found] == [1, 1]
            # both hand it over at once: each starts answering, the claim lets one through
            assert await first.hand_over(found[0]) == await second.hand_over(found[1]) == 1
            await asyncio.gather(one.settle(), two.settle())
        assert len(answers_in(slack, "800.1")) == 1


async def test_a_question_older_than_the_window_is_not_answered_out_of_the_blue(
    slack: FakeSlack, durable_target: str, caplog
) -> None:
    async with instances(slack, durable_target, HANGS, 0.0) as (dead, alive):
        old, recent = mention("Old?", ts="900.1"), mention("Recent?", ts="900.2")
        await acknowledged_then_dead(dead, old)
        await asyncio.sleep(0.6)
        await acknowledged_then_dead(dead, recent)
        await asyncio.sleep(LEASE + 0.1)  # old: 1.7 s ago, recent: 1.1 s ago
        with caplog.at_level("WARNING", logger="bot.claims"):
            async with rescuing(alive, window=LEASE + 0.4) as rescue:
                assert await rescue.sweep() == 1
                await alive.settle()
                assert await rescue.sweep() == 0  # and the old one is not tried again
        assert answers_in(slack, "900.1") == []
        assert len(answers_in(slack, "900.2")) == 1
        skipped = [r.getMessage() for r in caplog.records if "not redoing" in r.getMessage()]
        assert len(skipped) == 1 and message_key(TEAM, old) in skipped[0]


async def test_finished_and_released_claims_are_never_rescued(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, HANGS, 0.0) as (dead, alive):
        answered_live = mention("Answered?", ts="950.1")
        given_up = mention("Failed?", ts="950.2")
        orphan = mention("Orphan?", ts="950.3")
        await alive.event(answered_live)
        await alive.settle()
        key = message_key(TEAM, given_up)
        payload = {"team": TEAM, "event": given_up, "bot_user": BOT_USER}
        assert (await alive.store.claim(MESSAGE_SCOPE, key, "failed", LEASE, payload)).won
        assert await alive.store.release_claim(MESSAGE_SCOPE, key, "failed")
        await acknowledged_then_dead(dead, orphan)
        await asyncio.sleep(LEASE + 0.1)
        async with rescuing(alive) as rescue:
            assert await rescue.sweep() == 1  # the orphan alone
            await alive.settle()
        assert len(answers_in(slack, "950.1")) == 1  # not a second time
        assert answers_in(slack, "950.2") == []
        assert len(answers_in(slack, "950.3")) == 1


async def test_a_claim_this_version_cannot_read_is_given_up_once(
    slack: FakeSlack, durable_target: str, caplog
) -> None:
    async with instances(slack, durable_target, 0.0) as (alive,):
        key = message_key(TEAM, mention("Left by an older version?", ts="960.1"))
        assert (await alive.store.claim(MESSAGE_SCOPE, key, "older", LEASE, {"team": TEAM})).won
        await asyncio.sleep(LEASE + 0.1)
        async with rescuing(alive) as rescue:
            assert await rescue.sweep() == 0
            await asyncio.sleep(LEASE + 0.1)
            assert await rescue.sweep() == 0  # ended, not looked at again
        warned = [r for r in caplog.records if "holds no event" in r.getMessage()]
        assert len(warned) == 1 and key in warned[0].getMessage()
        assert (await alive.store.claim(MESSAGE_SCOPE, key, "late", LEASE)).status == "done"


async def test_an_instance_serving_again_answers_what_was_acknowledged_before(
    slack: FakeSlack, durable_target: str
) -> None:
    async with instances(slack, durable_target, HANGS) as (dead,):
        event = mention("How do I roll back?", ts="990.1")
        await acknowledged_then_dead(dead, event)
        await asyncio.sleep(LEASE + 0.1)
        store = await Store.open(durable_target)
        service = service_over_fakes(store, roster(fake("alpha")), hits=HITS)
        settings = Settings(
            slack_bot_token="xoxb-test", slack_signing_secret=SECRET, slack_api_url=slack.api_url
        )
        service.claims.lease = LEASE
        bot = SlackBot(service, settings)
        sock, _ = listening_socket()
        stop = asyncio.Event()
        serving = asyncio.create_task(run_http(bot, sock, stop=stop))
        try:
            await answered(slack, "990.1")  # at start, with no event sent to it
        finally:
            stop.set()
            await asyncio.wait_for(serving, 10)
            sock.close()
            await store.close()
        assert len(answers_in(slack, "990.1")) == 1
        left = [t for t in asyncio.all_tasks() if "Periodic._loop" in repr(t.get_coro())]
        assert left == []  # the rescue stopped with the bot


async def test_a_failed_look_is_logged_and_the_next_one_still_comes(app: Harness, caplog) -> None:
    app.service.claims.lease = 0.2
    looks = 0

    async def failing() -> list:
        nonlocal looks
        looks += 1
        raise ValueError("a payload that is not JSON")

    rescue = Rescue(app.bot)
    rescue.orphans = failing  # type: ignore[method-assign]
    rescue.start()
    await asyncio.sleep(0.35)
    await rescue.stop()  # clean, though every look failed
    assert looks >= 2
    assert "dead instances failed" in caplog.text
