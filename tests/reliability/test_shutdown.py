"""SIGTERM stops a bot gently: no new work is taken, the work in flight finishes, exit 0.

Slack: ``parley slack --http`` in its own process, a question whose model (on the fake
server) takes 2 s, SIGTERM as soon as the work has started. Discord: the client's
gateway parsers fed directly, as in tests/bot/discord.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from arena.store import Store
from bot.cli import cli
from bot.discord.run import finish_in_flight
from tests.bot.discord.conftest import make_service, start
from tests.bot.slack.conftest import mention
from tests.fakes.discord_api import BOT, BOT_ID, CHANNEL_ID, GUILD_ID, FakeDiscord, user
from tests.fakes.providers import fake, openai_stream, roster
from tests.fakes.slack_api import TEAM, FakeSlack
from tests.reliability.slack_process import (
    free_port,
    harmless_event,
    signed_headers,
    spawn_slack,
)

MODEL_SECONDS = 2.0


def post(url: str, body: str) -> int:
    request = urllib.request.Request(url, body.encode(), signed_headers(body), method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def refused(url: str) -> bool:
    try:
        post(url, harmless_event())
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


def test_sigterm_finishes_the_answer_in_flight_then_exits_0(fake_api, tmp_path: Path) -> None:
    docs, data = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    (docs / "deploys.md").write_text("# Deploys\n\nRun shipit rollback to roll back.\n")
    assert CliRunner().invoke(cli, ["--data-dir", str(data), "index", str(docs)]).exit_code == 0
    slack = FakeSlack(fake_api)
    reply = replace(openai_stream(["Run shipit rollback [1]."]), delay=MODEL_SECONDS)
    fake_api.route("POST", "/v1/chat/completions", reply)
    model = {
        "name": "slow",
        "provider": "openai",
        "model": "gpt-test",
        "base_url": f"{fake_api.url}/v1",
        "max_retries": 0,
    }
    port = free_port()
    bot = spawn_slack(
        data,
        slack.api_url,
        port,
        PARLEY_MODELS=json.dumps([model]),
        PARLEY_BATTLE_SHARE="0",
        PARLEY_SHUTDOWN_TIMEOUT="20",
    )
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        wait_for(lambda: not refused(url) or bot.poll() is not None, 60, "the bot to listen")
        event = mention("How do I roll back?", ts="100.1")
        body = {"type": "event_callback", "team_id": TEAM, "event_id": "EvQ", "event": event}
        assert post(url, json.dumps(body)) == 200
        # the first question loads the embedder: seconds on a busy machine
        wait_for(lambda: fake_api.seen("/v1/chat/completions"), 30, "the model call")
        bot.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        wait_for(lambda: refused(url), 5, "the port to close")  # no new work
        assert not [c for c in slack.calls("chat.postMessage") if c["thread_ts"] == "100.1"]
        _, errors = bot.communicate(timeout=30)
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait()
    assert bot.returncode == 0, errors
    answers = [c for c in slack.calls("chat.postMessage") if c.get("thread_ts") == "100.1"]
    assert len(answers) == 1 and "Run shipit rollback" in answers[0]["text"]
    assert answers[0]["channel"] == "C1"
    assert time.monotonic() - stopped_at < 20
    assert "Traceback" not in errors
    with sqlite3.connect(data / "parley.db") as db:
        asked = db.execute("SELECT COUNT(*) FROM questions WHERE thread = '100.1'").fetchone()
    assert asked == (1,)


async def test_a_stopping_discord_bot_finishes_its_answers_and_takes_no_new_ones(
    discord_api: FakeDiscord, store: Store
) -> None:
    alpha = fake("alpha", "Run shipit rollback [1].", "Too late.", delay=0.5)
    bot = await start(discord_api, make_service(store, roster(alpha)))

    def said(text: str) -> dict:
        message = discord_api.message(
            CHANNEL_ID, {"content": f"<@{BOT_ID}> {text}"}, author=user(111), mentions=[BOT]
        )
        message["guild_id"] = str(GUILD_ID)
        bot.state.parsers["MESSAGE_CREATE"](message)
        return message

    first = said("How do I roll back?")
    await asyncio.sleep(0.05)  # its handler is running, waiting on the model
    asyncio.get_running_loop().call_later(0.1, said, "And now?")  # while stopping
    assert await finish_in_flight(bot.client, 10) is True
    (answer,) = discord_api.posted(int(first["id"]))
    assert answer["embeds"][0]["description"] == "Run shipit rollback [1]."
    threads = [r for r in discord_api.server.requests if r.path.endswith("/threads")]
    assert len(threads) == 1  # the late question started none
    assert len(alpha.prompts) == 1
    await bot.client.close()


async def test_work_that_outlasts_the_timeout_is_cut_off(
    discord_api: FakeDiscord, store: Store
) -> None:
    bot = await start(discord_api, make_service(store, roster(fake("alpha", delay=30))))
    message = discord_api.message(
        CHANNEL_ID, {"content": f"<@{BOT_ID}> slow?"}, author=user(111), mentions=[BOT]
    )
    message["guild_id"] = str(GUILD_ID)
    bot.state.parsers["MESSAGE_CREATE"](message)
    await asyncio.sleep(0.05)
    started = time.monotonic()
    assert await finish_in_flight(bot.client, 0.3) is False
    assert time.monotonic() - started < 2
    await bot.client.close()
