"""Scheduled audits post to the admin channel: a summary, then the details in its thread,
checked against a fake Slack Web API and a fake Discord REST API on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from arena.store import Store
from bot.audit_report import report_lines
from bot.audits import AuditScheduler
from bot.config import Settings
from bot.discord.run import AUDIT_THREAD_NAME, audit_scheduler, discord_poster
from bot.errors import BotError
from bot.service import Ask
from bot.slack.app import SlackBot
from bot.slack.run import audit_scheduler as slack_audits
from bot.slack.web_api import audit_poster
from tests.bot.discord import conftest as discord_fixtures
from tests.fakes.discord_api import API, CHANNEL_ID, FakeDiscord
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes

discord_api = discord_fixtures.discord_api  # the fake Discord REST API, reused


@pytest.fixture
async def service(real_embedder):
    store = await Store.open(":memory:")
    svc = service_over_fakes(
        store, roster(fake("alpha", *["Run shipit rollback to roll back [1]."] * 2))
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
    scheduler = AuditScheduler(service, 0.001, audit_poster(slack(fake_api), "C0ADMIN"))
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
            # something new for the next run to grade (an audit with nothing new posts nothing)
            await service.ask(Ask("How do I roll back?", "cy", "eng", None, "slack"))
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


async def test_an_audit_with_nothing_new_to_grade_posts_nothing(service) -> None:
    posted = []

    async def post(summary: str, details: list[str]) -> None:
        posted.append(summary)

    scheduler = AuditScheduler(service, 60, post)
    await scheduler.run_once()
    assert len(posted) == 1
    again = await scheduler.run_once()
    assert again is not None and again["answers"] == 0 and len(posted) == 1
    await service.ask(Ask("How do I roll back?", "cy", "eng", None, "slack"))
    await scheduler.run_once()
    assert len(posted) == 2


async def test_an_audit_never_runs_twice_at_once(service) -> None:
    posted = []

    async def post(summary: str, details: list[str]) -> None:
        await asyncio.sleep(0.05)
        posted.append(summary)

    scheduler = AuditScheduler(service, 60, post)
    first, second = await asyncio.gather(scheduler.run_once(), scheduler.run_once())
    assert (first is None) != (second is None) and len(posted) == 1


async def test_the_discord_poster_puts_the_details_in_a_thread(
    service, discord_api: FakeDiscord
) -> None:
    bot = await discord_fixtures.start(discord_api, service)
    try:
        scheduler = AuditScheduler(service, 60, discord_poster(bot.client, CHANNEL_ID))
        report = await scheduler.run_once()
    finally:
        await bot.client.close()
    (summary,) = discord_api.posted(CHANNEL_ID)
    assert summary["content"].startswith("Audit by offline: 2 answers graded")
    (opened,) = [r for r in discord_api.server.requests if r.path.endswith("/threads")]
    assert opened.path.startswith(f"{API}/channels/{CHANNEL_ID}/messages/")
    assert opened.body["name"] == AUDIT_THREAD_NAME
    thread_id = int(opened.path.split("/")[-2])  # a thread started from the summary
    details = discord_api.posted(thread_id)
    assert details and "alpha: score" in details[0]["content"]
    assert all(len(d["content"]) <= 2000 for d in details)
    assert report is not None and report["answers"] == 2


async def test_the_discord_runner_schedules_audits_only_when_configured(
    service, discord_api: FakeDiscord
) -> None:
    bot = await discord_fixtures.start(discord_api, service)
    try:
        assert audit_scheduler(bot.client, Settings(admin_channel=str(CHANNEL_ID))) is None
        every = Settings(audit_interval_minutes=5, admin_channel=str(CHANNEL_ID))
        assert isinstance(audit_scheduler(bot.client, every), AuditScheduler)
        with pytest.raises(BotError, match="not a Discord channel id"):
            audit_scheduler(bot.client, every.model_copy(update={"admin_channel": "#admins"}))
    finally:
        await bot.client.close()


async def test_the_slack_runner_posts_audits_until_the_bot_stops(service, fake_api) -> None:
    slack(fake_api)  # the fake's chat.postMessage
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=fake_api.url + "/api/")
    bot = SlackBot(service, settings)
    try:
        assert slack_audits(bot, settings) is None  # no interval, no admin channel
        every = {"audit_interval_minutes": 0.001, "admin_channel": "C0ADMIN"}
        scheduler = slack_audits(bot, settings.model_copy(update=every))
        assert scheduler is not None
        stop = asyncio.Event()
        running = scheduler.start()
        watcher = asyncio.create_task(scheduler.stop_when(stop))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if len(fake_api.seen("/api/chat.postMessage")) >= 2:
                break
        stop.set()  # what SIGTERM does
        await asyncio.wait_for(watcher, 5)
        assert running.done()
    finally:
        await bot.close()
    first = fake_api.seen("/api/chat.postMessage")[0]
    assert first.body["channel"] == "C0ADMIN" and first.body["text"].startswith("Audit by")


def report(judge: str = "judge-model", **support) -> dict:
    """A stored audit report's shape, as ``run_audit`` returns it."""
    return {
        "judge": judge,
        "answers": 4,
        "unmeasured": 0,
        "wall_s": 1.25,
        "cost_usd": 0.002,
        "models": {
            "alpha": {
                "answers": 4,
                "score": 80.0,
                "legacy_score": 84.0,
                "criteria": {"faithfulness": 4.0, "clarity": None},
                "support": {
                    "flagged_share": 0.25,
                    "compared": 4,
                    "disagree": 1,
                    "disagreement": 0.25,
                    **support,
                },
            }
        },
        "worst": [],
        "canaries": None,
        "thumbs": {
            "up": {"answers": 0, "score": None},
            "down": {"answers": 0, "score": None},
            "agreement": {"thumbs": 0, "ratio": None, "kappa": None},
        },
        "agreement": None,
        "latency_ms": {"p50": 900.0, "max": 1500.0},
    }


def test_report_text_shows_the_support_check_beside_the_judge() -> None:
    summary, details = report_lines(report())
    assert summary == (
        "Audit by judge-model: 4 answers graded (0 unmeasured); the judge no canaries;"
        " 1.2 s, $0.0020."
    )
    assert details[0] == "alpha: score 80 (legacy 84) over 4 answers; faithfulness 4.0"
    assert details[1] == (
        "  support check: 25% of sentences flagged; disagrees with judge-model on"
        " faithfulness for 1 of 4 answers (25%)"
    )
    # the offline judge is the support check: no disagreement to show
    _, offline = report_lines(report("offline"))
    assert offline[1] == "  support check: 25% of sentences flagged"
    # grades from before the check ran have no flagged share: no line
    _, older = report_lines(report(flagged_share=None))
    assert not any("support check" in line for line in older)


def test_an_audit_with_nothing_new_says_so() -> None:
    empty = {**report(), "answers": 0, "models": {}}
    summary, details = report_lines(empty)
    assert "nothing new to grade" in summary and details == []
