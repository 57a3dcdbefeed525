"""SIGTERM stops a bot gently: no new work is taken, the work in flight finishes, exit 0.

Slack: ``parley slack --http`` in its own process, a question whose model (on the fake
server) takes 2 s, SIGTERM as soon as the work has started. Discord: the client's
gateway parsers fed directly, as in tests/bot/discord.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner
from slack_sdk.signature import SignatureVerifier

from arena.store import Store
from bot.cli import cli
from bot.discord.run import finish_in_flight
from tests.bot.discord.conftest import make_service, start
from tests.bot.slack.conftest import mention
from tests.fakes.discord_api import BOT, BOT_ID, CHANNEL_ID, GUILD_ID, FakeDiscord, user
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, openai_reply, roster
from tests.fakes.slack_api import TEAM, FakeSlack, listening_socket

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sigterm-signing-secret"
MODEL_SECONDS = 2.0


def post_event(url: str, event: dict, event_id: str) -> int:
    body = json.dumps(
        {"type": "event_callback", "team_id": TEAM, "event_id": event_id, "event": event}
    )
    ts = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }
    request = urllib.request.Request(url, body.encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def refused(url: str) -> bool:
    try:
        post_event(url, {"type": "message", "bot_id": "B0", "channel": "C1", "ts": "1.1"}, "Ev0")
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


def test_sigterm_finishes_the_answer_in_flight_then_exits_0(fake_api, tmp_path: Path) -> None:
    docs, data = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    (docs / "deploys.md").write_text("# Deploys\n\nRun shipit rollback to roll back.\n")
    assert CliRunner().invoke(cli, ["--data-dir", str(data), "index", str(docs)]).exit_code == 0
    slack = FakeSlack(fake_api)
    reply = Scripted(200, openai_reply("Run shipit rollback [1]."), delay=MODEL_SECONDS)
    fake_api.route("POST", "/v1/chat/completions", reply)
    model = {
        "name": "slow",
        "provider": "openai",
        "model": "gpt-test",
        "base_url": f"{fake_api.url}/v1",
        "max_retries": 0,
    }
    sock, port = listening_socket()
    sock.close()  # a free port for the bot
    env = {
        **os.environ,
        "PARLEY_CONFIG": str(tmp_path / "absent.toml"),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "PARLEY_SLACK_API_URL": slack.api_url,
        "PARLEY_MODELS": json.dumps([model]),
        "PARLEY_BATTLE_SHARE": "0",
        "PARLEY_SHUTDOWN_TIMEOUT": "20",
    }
    command = [sys.executable, "-c", "from bot.cli import main; main()", "--data-dir", str(data)]
    command += ["slack", "--http", "--host", "127.0.0.1", "--port", str(port)]
    bot = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        wait_for(lambda: not refused(url) or bot.poll() is not None, 60, "the bot to listen")
        assert post_event(url, mention("How do I roll back?", ts="100.1"), "EvQ") == 200
        wait_for(lambda: fake_api.seen("/v1/chat/completions"), 10, "the model call")
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
