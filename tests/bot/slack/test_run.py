"""Starting up in the process: Socket Mode against a local WebSocket that pushes
envelopes and checks each is acknowledged, a WebSocket that never opens, and the
``parley slack`` command's refusal without tokens (test_startup.py starts the process)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from arena.store import Store
from bot.cli import cli
from bot.config import Settings
from bot.errors import BotError
from bot.slack.app import MESSAGE_SCOPE, SlackBot, message_key
from bot.slack.run import run_socket_mode
from bot.slack.web_api import BOT_SCOPES, check_bot_token
from tests.bot.slack.conftest import HITS, mention
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes
from tests.fakes.slack_api import BOT_USER, TEAM, FakeSlack, FakeSocketMode, listening_socket


def envelope(envelope_id: str, kind: str, payload: dict) -> dict:
    return {
        "envelope_id": envelope_id,
        "type": kind,
        "accepts_response_payload": kind != "events_api",
        "retry_attempt": 0,
        "retry_reason": "",
        "payload": payload,
    }


async def test_socket_mode_acknowledges_every_envelope_and_answers(slack: FakeSlack) -> None:
    socket = await FakeSocketMode().start()
    slack.socket_url = socket.url
    store = await Store.open(":memory:")
    service = service_over_fakes(store, roster(fake("alpha")), seed=1, hits=HITS)
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
    bot = SlackBot(service, settings, http=False)
    stop = asyncio.Event()
    running = asyncio.create_task(run_socket_mode(bot, "xapp-test", stop=stop))
    try:
        await asyncio.wait_for(socket.connected.wait(), 5)
        (opened,) = slack.server.seen("/api/apps.connections.open")
        assert opened.headers["authorization"] == "Bearer xapp-test"

        event = {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": "EvSock1",
            "event": mention("How do I roll back?", ts="300.1"),
        }
        started = time.perf_counter()
        await socket.push(envelope("env-1", "events_api", event))
        assert (await socket.acked("env-1"))["envelope_id"] == "env-1"
        assert time.perf_counter() - started < 1.0
        await socket.push(envelope("env-2", "events_api", {**event}))  # a retry, same event
        await socket.acked("env-2")

        command = {
            "command": "/ask",
            "text": "",
            "user_id": "UANA",
            "channel_id": "C1",
            "team_id": TEAM,
            "response_url": slack.response_url("ask"),
            "trigger_id": "t",
        }
        await socket.push(envelope("env-3", "slash_commands", command))
        await socket.acked("env-3")
        await bot.drain()
        (answer,) = slack.calls("chat.postMessage")
        assert answer["thread_ts"] == "300.1" and "Run shipit rollback" in answer["text"]
        (hint,) = slack.responses()
        assert "Ask me a question" in hint["text"]
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
        await socket.stop()
        await store.close()


async def test_socket_mode_answers_at_start_what_a_dead_instance_acknowledged(
    slack: FakeSlack,
) -> None:
    """The question an instance acknowledged before it was killed: no retry comes, and
    the instance starting next answers it (``bot.slack.rescue``) without any event."""
    lease = 0.5
    socket = await FakeSocketMode().start()
    slack.socket_url = socket.url
    store = await Store.open(":memory:")
    event = mention("How do I roll back?", ts="400.1")
    payload = {"team": TEAM, "event": event, "bot_user": BOT_USER}
    await store.claim(MESSAGE_SCOPE, message_key(TEAM, event), "killed:1:x", lease, payload)
    await asyncio.sleep(lease + 0.1)  # its holder never renewed it
    service = service_over_fakes(store, roster(fake("alpha")), hits=HITS)
    service.claims.lease = lease
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
    bot = SlackBot(service, settings, http=False)
    stop = asyncio.Event()
    running = asyncio.create_task(run_socket_mode(bot, "xapp-test", stop=stop))
    try:
        for _ in range(100):
            if slack.calls("chat.postMessage"):
                break
            await asyncio.sleep(0.05)
        await bot.drain()
        (answer,) = slack.calls("chat.postMessage")
        assert answer["thread_ts"] == "400.1" and "Run shipit rollback" in answer["text"]
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
        await socket.stop()
        await store.close()


async def test_a_socket_that_never_opens_is_one_line_not_a_retry_loop(
    slack: FakeSlack, monkeypatch, caplog
) -> None:
    """apps.connections.open answers, but the WebSocket it names refuses connections:
    slack_sdk would retry every 10 s forever, logging a traceback each time. Parley
    gives up after START_TIMEOUT with one line, and the retries it logged have none."""
    monkeypatch.setattr("bot.slack.run.START_TIMEOUT", 1.0)
    closed, port = listening_socket()  # bound, never listening: connection refused
    slack.socket_url = f"ws://127.0.0.1:{port}/link/"
    store = await Store.open(":memory:")
    service = service_over_fakes(store, roster(fake("alpha")), hits=HITS)
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
    bot = SlackBot(service, settings, http=False)
    try:
        with pytest.raises(BotError, match="did not open within 1 s"):
            await asyncio.wait_for(run_socket_mode(bot, "xapp-test", stop=asyncio.Event()), 10)
    finally:
        closed.close()
        await store.close()
    assert not [r for r in caplog.records if r.exc_info]


def test_the_slack_command_names_the_missing_tokens(monkeypatch, tmp_path) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "slack", "--http"])
    assert result.exit_code == 1
    assert "SLACK_SIGNING_SECRET" in result.output and "xoxb" not in result.output
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "slack"])
    assert "SLACK_APP_TOKEN" in result.output and "SLACK_BOT_TOKEN" not in result.output


def test_tokens_never_show_in_the_settings_repr() -> None:
    settings = Settings(slack_bot_token="xoxb-secret-1", slack_signing_secret="shh-2")
    assert "xoxb-secret-1" not in repr(settings) and "shh-2" not in repr(settings)


async def test_the_token_check_names_the_scopes_the_token_lacks(slack: FakeSlack) -> None:
    """auth.test reports the granted scopes in x-oauth-scopes, as Slack does."""
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=slack.api_url)
    identity = await check_bot_token(settings)
    assert (identity.user, identity.team, identity.missing_scopes) == ("parley", "Parley Test", [])
    fewer = ",".join(sorted(BOT_SCOPES - {"reactions:write", "files:write"}))
    slack.fail("auth.test", Scripted(200, slack.auth_answer(), headers={"x-oauth-scopes": fewer}))
    identity = await check_bot_token(settings)
    assert identity.missing_scopes == ["files:write", "reactions:write"]


def test_the_scopes_parley_checks_are_the_manifests() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parents[3] / "manifest.yml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
