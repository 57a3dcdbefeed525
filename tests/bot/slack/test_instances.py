"""Two instances of the Slack app over one store (one SQLite file, or one PostgreSQL
schema), as two ``parley slack --http`` behind a load balancer: a message that reaches
both is answered once, and a claim left by a crashed instance is taken over by the
instance that acknowledges the retry."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot import claims as claims_module
from bot.slack.app import MESSAGE_SCOPE, message_key
from tests.bot.slack.conftest import Harness, mention, message, start_app
from tests.fakes.providers import fake, roster
from tests.fakes.slack_api import TEAM, FakeSlack

pytestmark = pytest.mark.both_engines

RETRY = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
LEASE = 1.0  # seconds: short, so a crashed instance's claim runs out within the test


@contextlib.asynccontextmanager
async def instances(slack: FakeSlack, target: str, delay: float = 0.0) -> AsyncIterator[list]:
    """Two apps over one store, answering through the same fake Slack."""
    async with contextlib.AsyncExitStack() as stack:
        apps: list[Harness] = []
        for _ in range(2):
            runs = start_app(slack, roster(fake("alpha", delay=delay)), store_target=target)
            apps.append(await runs.__anext__())
            stack.push_async_callback(_finish, runs)
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
    async with instances(slack, durable_target, delay=0.3) as (one, two):
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
