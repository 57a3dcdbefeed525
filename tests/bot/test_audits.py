"""Scheduled audits post to the admin channel: a summary, then the details in its thread,
checked against a fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from arena.store import Store
from bot.audits import AuditScheduler, slack_poster
from bot.service import Ask, Service
from knowledge.types import Hit, Passage
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, roster

HITS = [Hit(Passage("p1", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.9)]


@pytest.fixture
async def service(real_embedder):
    store = await Store.open(":memory:")
    svc = Service(
        search=lambda text, k: HITS[:k],
        roster=roster(fake("alpha", *["Run shipit rollback to roll back [1]."] * 2)),
        store=store,
        top_k=5,
        battle_share=0.0,
        rng=random.Random(3),
    )
    for user in ("ana", "bo"):
        await svc.ask(Ask("How do I roll back?", user, "eng", None, "slack"))
    yield svc
    await store.close()


def slack(fake_api) -> AsyncWebClient:
    fake_api.route(
        "POST",
        "/api/chat.postMessage",
        lambda seen: Scripted(
            body={"ok": True, "channel": "C0ADMIN", "ts": f"17.{len(fake_api.requests)}"}
        ),
    )
    return AsyncWebClient(token="xoxb-test", base_url=fake_api.url + "/api/")


async def test_scheduled_audit_posts_summary_then_thread(service, fake_api) -> None:
    scheduler = AuditScheduler(service, 0.001, slack_poster(slack(fake_api), "C0ADMIN"))
    scheduler.start()
    for _ in range(200):  # the first run is due after 60 ms
        await asyncio.sleep(0.05)
        if len(fake_api.seen("/api/chat.postMessage")) >= 2:
            break
    await scheduler.stop()
    first, second = fake_api.seen("/api/chat.postMessage")[:2]
    assert first.body["channel"] == "C0ADMIN" and "thread_ts" not in first.body
    assert first.body["text"].startswith("Audit by offline: 2 answers graded")
    assert second.body["thread_ts"] == "17.1"
    assert "alpha: score" in second.body["text"]
    assert first.headers["authorization"] == "Bearer xoxb-test"
    assert (await service.latest_audit())["answers"] == 2


async def test_a_failing_post_does_not_stop_the_schedule(service, fake_api) -> None:
    calls = []

    async def flaky(summary: str, details: list[str]) -> None:
        calls.append(summary)
        if len(calls) == 1:
            raise RuntimeError("Slack is down")

    scheduler = AuditScheduler(service, 0.001, flaky)
    scheduler.start()
    for _ in range(200):
        await asyncio.sleep(0.05)
        if len(calls) >= 2:
            break
    await scheduler.stop()
    assert len(calls) >= 2  # the second run came after the failed post
    with pytest.raises(ValueError):
        AuditScheduler(service, 0, flaky)


async def test_an_audit_never_runs_twice_at_once(service) -> None:
    posted = []

    async def post(summary: str, details: list[str]) -> None:
        await asyncio.sleep(0.05)
        posted.append(summary)

    scheduler = AuditScheduler(service, 60, post)
    first, second = await asyncio.gather(scheduler.run_once(), scheduler.run_once())
    assert (first is None) != (second is None) and len(posted) == 1
