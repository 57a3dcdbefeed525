"""/leaderboard with its chart uploaded the new way, and /reindex for admins only."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from bot import messages
from bot.service import Ask
from knowledge.indexer import IndexReport
from tests.bot.slack.conftest import Harness, start_app
from tests.bot.slack.test_questions import texts
from tests.fakes.providers import fake, roster
from tests.fakes.slack_api import FakeSlack


async def vote_some(app: Harness, channel: str = "C1", votes: int = 3) -> None:
    for n in range(votes):
        reply = await app.service.ask(Ask("How do I roll back?", f"U{n}", channel, None, "slack"))
        await app.service.vote(reply.battle_id, f"U{n}", "a", platform="slack", channel=channel)


async def test_leaderboard_posts_the_table_and_uploads_the_chart(arena_app: Harness) -> None:
    await vote_some(arena_app)
    status, _ = await arena_app.command("/leaderboard", "")
    assert status == 200
    await arena_app.settle()
    (posted,) = arena_app.slack.calls("chat.postMessage")
    table = texts(posted["blocks"])
    assert "Rank" in table and "95% CI" in table and "Votes" in table
    assert "alpha *" in table and "beta *" in table  # provisional: 3 votes < 5
    rows = [line.split() for line in table.splitlines() if " *" in line]
    # rank, model, *, score, interval, votes: a provisional row has no rank or interval
    assert len(rows) == 2 and all(r[0] == "–" and r[4] == "–" and r[5] == "3" for r in rows)
    assert messages.PROVISIONAL_NOTE in table  # the words every surface uses
    assert posted["text"].startswith("Leaderboard")
    (step1,) = arena_app.slack.calls("files.getUploadURLExternal")
    assert step1["filename"] == "leaderboard.png" and int(step1["length"]) > 1000
    (uploaded,) = arena_app.slack.uploads()
    assert uploaded.startswith(b"\x89PNG")
    (step3,) = arena_app.slack.calls("files.completeUploadExternal")
    assert step3["channel_id"] == "C1" and step3["thread_ts"] == "1700000000.000001"
    assert arena_app.slack.server.seen("/api/files.upload") == []  # the closed old method


async def test_leaderboard_for_one_channel(arena_app: Harness) -> None:
    await vote_some(arena_app, channel="CSUP", votes=2)
    await vote_some(arena_app, channel="C1", votes=1)
    await arena_app.command("/leaderboard", "<#CSUP|support>")
    await arena_app.settle()
    (posted,) = arena_app.slack.calls("chat.postMessage")
    assert "Leaderboard for #support" in posted["text"]
    rows = [line for line in posted["text"].splitlines() if "alpha" in line]
    assert rows and rows[0].split()[-1] == "2"  # two votes in #support, not three


async def test_leaderboard_links_to_the_dashboard_when_it_has_an_address(slack: FakeSlack) -> None:
    contestants = roster(fake("alpha"), fake("beta"))
    web_url = "https://parley.example.com/"
    async for app in start_app(slack, contestants, battle_share=1, web_url=web_url):
        await vote_some(app, channel="CSUP", votes=2)
        await app.command("/leaderboard", "<#CSUP|support>")
        await app.settle()
        (posted,) = app.slack.calls("chat.postMessage")
        assert "https://parley.example.com/?channel=CSUP" in texts(posted["blocks"])


async def test_leaderboard_without_a_dashboard_has_no_link(arena_app: Harness) -> None:
    await vote_some(arena_app)
    await arena_app.command("/leaderboard", "")
    await arena_app.settle()
    (posted,) = arena_app.slack.calls("chat.postMessage")
    assert "http" not in texts(posted["blocks"])


async def test_leaderboard_without_votes_says_so_privately(arena_app: Harness) -> None:
    await arena_app.command("/leaderboard", "")
    await arena_app.settle()
    (reply,) = arena_app.slack.responses()
    assert reply["response_type"] == "ephemeral" and "No votes yet" in reply["text"]
    assert arena_app.slack.calls("chat.postMessage") == []


async def test_leaderboard_with_a_bad_channel_name_asks_for_a_real_one(app: Harness) -> None:
    await app.command("/leaderboard", "support")
    await app.settle()
    (reply,) = app.slack.responses()
    assert "#" in reply["text"] and app.slack.calls("chat.postMessage") == []


class SlowIndex:
    """An index function that reports progress and waits until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, paths, progress, passages) -> IndexReport:
        self.calls += 1
        self.started.set()
        progress("/docs/a.md", 1, 3)
        self.release.wait(5)
        progress("/docs/c.md", 3, 3)
        return IndexReport(added=2, unchanged=1, passages=9, skipped=[("/docs/b.pdf", "encrypted")])


async def reindex_app(slack: FakeSlack, index: SlowIndex):
    return start_app(
        slack,
        roster(fake("alpha")),
        admins=("slack:UADMIN",),
        index=index,
        sources=[Path("/docs")],
    )


async def test_reindex_is_refused_to_non_admins_and_nothing_runs(slack: FakeSlack) -> None:
    index = SlowIndex()
    async for app in await reindex_app(slack, index):
        status, _ = await app.command("/reindex", "", user="UANA")
        assert status == 200
        await app.settle()
    (reply,) = slack.responses()
    assert reply["response_type"] == "ephemeral" and "Only Parley's admins" in reply["text"]
    assert index.calls == 0 and slack.calls("chat.postMessage") == []


async def test_reindex_updates_one_message_and_a_second_request_is_told(slack: FakeSlack) -> None:
    index = SlowIndex()
    async for app in await reindex_app(slack, index):
        await app.command("/reindex", "", user="UADMIN")
        assert await asyncio.to_thread(index.started.wait, 5)
        await app.command("/reindex", "", user="UADMIN")
        for _ in range(100):  # the busy reply, while the first still runs
            if slack.responses():
                break
            await asyncio.sleep(0.02)
        index.release.set()
        await app.settle()
    (busy,) = slack.responses()
    assert "already running" in busy["text"] and "slack:UADMIN" in busy["text"]
    (started,) = slack.calls("chat.postMessage")
    assert started["text"] == "Re-indexing: starting"
    updates = slack.calls("chat.update")
    assert {u["ts"] for u in updates} == {"1700000000.000001"}  # always the same message
    assert any("1 of 3 files (a.md)" in u["text"] for u in updates)
    final = updates[-1]["text"]
    assert "2 added" in final and "1 skipped" in final
    assert "Skipped /docs/b.pdf: encrypted" in final
    assert index.calls == 1
