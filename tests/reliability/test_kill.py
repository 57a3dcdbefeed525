"""kill -9 in the middle of a vote storm: after a restart every vote whose confirmation
reached the user is stored, none twice, and pair counts and ratings equal a recount.

``parley slack --http`` runs in its own process over a database seeded with battles;
signed vote clicks arrive in bursts; the bot gets SIGKILL once a third of them are
confirmed. After the restart the ledger is checked, every unconfirmed click is sent
again, and the ledger must then hold each vote exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

import aiohttp

from arena.store import Store
from bot.service import Ask
from tests.fakes.http_server import FakeServer
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes
from tests.fakes.slack_api import FakeSlack
from tests.reliability.clicks import Click, Posted, confirmations, plan_clicks, vote_body
from tests.reliability.ledger import check_votes
from tests.reliability.slack_process import (
    free_port,
    harmless_event,
    signed_headers,
    spawn_slack,
)

CHANNEL = "CKILL"
FORM = "application/x-www-form-urlencoded"


async def seed_battles(data: Path, count: int, api: str) -> dict[int, Posted]:
    """Battle id -> its message: asked through the service as the bot would, each battle
    posted to the fake Slack in the question's thread (so a vote's reveal finds it)."""
    data.mkdir(parents=True)
    store = await Store.open(data / "parley.db")
    service = service_over_fakes(store, roster(fake("alpha"), fake("beta")), battle_share=1, seed=9)
    battles = {}
    async with aiohttp.ClientSession() as session:
        for n in range(count):
            thread = f"500.{n}"
            reply = await service.ask(Ask(f"Question {n}?", "ana", CHANNEL, thread, "slack"))
            assert reply.battle_id is not None
            message = {"channel": CHANNEL, "thread_ts": thread, "text": f"battle {n}"}
            headers = {"authorization": "Bearer xoxb-test"}
            async with session.post(f"{api}chat.postMessage", json=message, headers=headers) as r:
                posted = await r.json()
            battles[reply.battle_id] = Posted(thread, posted["ts"], message["text"])
    await store.close()
    return battles


async def until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


async def listening(session: aiohttp.ClientSession, url: str) -> None:
    async def up() -> bool:
        body = harmless_event()
        try:
            async with session.post(url, data=body, headers=signed_headers(body)) as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    deadline = time.monotonic() + 60
    while not await up():
        assert time.monotonic() < deadline, "the bot did not come up"
        await asyncio.sleep(0.1)


async def storm(session: aiohttp.ClientSession, url: str, clicks: list[Click]) -> None:
    """Clicks in bursts of 25; the ones sent while the bot is dead fail, unseen."""

    async def click(c: Click) -> None:
        body = vote_body(c, CHANNEL)
        with contextlib.suppress(aiohttp.ClientError):
            async with session.post(url, data=body, headers=signed_headers(body, FORM)):
                pass

    for start in range(0, len(clicks), 25):
        await asyncio.gather(*(click(c) for c in clicks[start : start + 25]))


async def test_kill_9_mid_storm_loses_no_confirmed_vote(tmp_path: Path) -> None:
    data = tmp_path / "data"
    database = data / "parley.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    with FakeServer() as server:
        slack = FakeSlack(server)
        api = slack.api_url
        battles = await seed_battles(data, 8, api)
        clicks = plan_clicks(battles, 450, 60, seed=3)
        wanted = {(b, u): choice for b, u, choice, _ in clicks}
        bot = spawn_slack(data, api, port)
        try:
            async with aiohttp.ClientSession() as session:
                await listening(session, url)
                storming = asyncio.create_task(storm(session, url, clicks))
                await until(lambda: len(confirmations(server, battles)) >= 120, 30, "votes")
                bot.send_signal(signal.SIGKILL)
                bot.wait()
                await storming
                before = confirmations(server, battles)
                assert 120 <= len(before) < len(wanted)  # killed mid-storm

                bot = spawn_slack(data, api, port)
                await listening(session, url)
                ledger = check_votes(database, {key: wanted[key] for key in before})
                assert ledger.ok, ledger.problems
                assert ledger.votes >= len(before)  # committed, maybe not yet confirmed

                unconfirmed = [c for c in dict.fromkeys(clicks) if c[:2] not in before]
                await storm(session, url, unconfirmed)
                await until(lambda: len(confirmations(server, battles)) == len(wanted), 30, "all")
                # each vote's reveal edited the battle's own message, which Slack still has
                revealed = {c["ts"] for c in slack.calls("chat.update")}
                assert revealed == {message.ts for message in battles.values()}
                assert all(m.get("edited") for m in slack.messages(CHANNEL))
            bot.send_signal(signal.SIGTERM)
            assert bot.wait(20) == 0
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
    ledger = check_votes(database, wanted)
    assert ledger.ok, ledger.problems
    assert ledger.votes == len(wanted)
