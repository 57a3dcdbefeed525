"""``parley slack`` started as a user starts it: its own process, a user's settings,
Slack's real default URLs (``https://slack.com/api/``, the ``wss://`` URL that
apps.connections.open hands out). Only name resolution and the trusted CA differ
(``tests.fakes.net``): slack.com and wss-primary.slack.com are local fakes behind TLS,
every other name fails as on a machine without a network.

Each start-up failure (a rejected token, Slack unreachable, the port in use) must be
one line and a non-zero exit within 30 s; SIGTERM and SIGINT stop it cleanly (exit 0)
whether it is starting or serving; no line is printed twice and none is a traceback.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier

from tests.bot.slack.conftest import mention, message
from tests.fakes.http_server import FakeServer, Scripted
from tests.fakes.net import LocalCA, Parley, spawn_parley, wait_until
from tests.fakes.slack_api import TEAM, FakeSlack, FakeSocketMode, listening_socket

SOCKET_HOST = "wss-primary.slack.com"
SECRET = "startup-signing-secret"
TOKENS = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-test"}
HTTP_TOKENS = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET}
REFUSED = Scripted(200, {"ok": False, "error": "invalid_auth"})


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path)


@pytest.fixture
def slack(ca: LocalCA) -> Iterator[FakeSlack]:
    """Slack's Web API at https://slack.com (on a local port)."""
    with FakeServer(tls=ca.server_context("slack.com")) as server:
        yield FakeSlack(server)


@pytest.fixture
async def socket_mode(ca: LocalCA, slack: FakeSlack):
    """Slack's Socket Mode endpoint at wss://wss-primary.slack.com/link/."""
    endpoint = await FakeSocketMode().start(tls=ca.server_context(SOCKET_HOST))
    slack.socket_url = f"wss://{SOCKET_HOST}/link/?ticket=t-1&app_id=A1"
    yield endpoint
    await endpoint.stop()


def assert_said_once_and_cleanly(parley: Parley, *texts: str) -> None:
    """No traceback, no line printed twice, each of ``texts`` on exactly one line."""
    lines = parley.lines()
    assert not any("Traceback" in line for line in lines), parley.stderr
    said = parley.messages()
    assert len(said) == len(set(said)), parley.stderr
    for text in texts:
        assert sum(text in line for line in lines) == 1, (text, parley.stderr)


def assert_one_error_line(parley: Parley, *fragments: str) -> None:
    """The process said exactly one thing: an error line naming the cause and the fix."""
    (line,) = parley.lines()
    assert line.startswith("Error: "), parley.stderr
    for fragment in fragments:
        assert fragment in line, line
    assert parley.seconds < 30


async def signed_post(url: str, body: str) -> int:
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(
            timestamp=stamp, body=body
        ),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status


def event(payload: dict, event_id: str) -> str:
    body = {"type": "event_callback", "team_id": TEAM, "event_id": event_id, "event": payload}
    return json.dumps(body)


async def test_socket_mode_starts_on_the_default_urls_answers_and_stops_on_ctrl_c(
    tmp_path: Path, ca: LocalCA, slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    hosts = {"slack.com": slack.server.port, SOCKET_HOST: socket_mode.port}
    parley = await spawn_parley(["slack"], folder=tmp_path, ca=ca, hosts=hosts, env=TOKENS)
    await parley.line("connected to Slack as @parley in Parley Test (Socket Mode)")
    (checked,) = slack.server.seen("/api/auth.test")
    assert checked.headers["authorization"] == "Bearer xoxb-test"
    (opened,) = slack.server.seen("/api/apps.connections.open")
    assert opened.headers["authorization"] == "Bearer xapp-test"

    envelope = {
        "envelope_id": "env-1",
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
        "payload": json.loads(
            event(message("How do I roll back?", ts="5.1", channel="D1", kind="im"), "Ev1")
        ),
    }
    await socket_mode.push(envelope)
    await socket_mode.acked("env-1")
    await wait_until(lambda: slack.calls("chat.postMessage"), 60, "the answer")
    (answer,) = slack.calls("chat.postMessage")
    assert answer["channel"] == "D1" and answer["thread_ts"] == "5.1"

    parley.signal(signal.SIGINT)
    assert await parley.finish() == 0
    assert_said_once_and_cleanly(parley, "connected to Slack", "Parley has left Slack")


async def test_http_mode_starts_on_the_default_url_answers_and_stops_on_sigterm(
    tmp_path: Path, ca: LocalCA, slack: FakeSlack
) -> None:
    sock, port = listening_socket()
    sock.close()
    args = ["slack", "--http", "--host", "127.0.0.1", "--port", str(port)]
    hosts = {"slack.com": slack.server.port}
    parley = await spawn_parley(args, folder=tmp_path, ca=ca, hosts=hosts, env=HTTP_TOKENS)
    await parley.line(f"(HTTP at 127.0.0.1:{port}/slack/events)")
    question = mention("How do I roll back?", ts="7.1")
    assert await signed_post(f"http://127.0.0.1:{port}/slack/events", event(question, "Ev2")) == 200
    await wait_until(lambda: slack.calls("chat.postMessage"), 60, "the answer")
    assert slack.calls("chat.postMessage")[0]["thread_ts"] == "7.1"

    parley.signal(signal.SIGTERM)
    assert await parley.finish() == 0
    assert_said_once_and_cleanly(parley, "connected to Slack", "Parley has left Slack")
    assert slack.server.seen("/api/auth.test")[0].headers["authorization"] == "Bearer xoxb-test"


async def test_a_rejected_bot_token_is_one_line(
    tmp_path: Path, ca: LocalCA, slack: FakeSlack
) -> None:
    slack.fail("auth.test", REFUSED)
    hosts = {"slack.com": slack.server.port}
    parley = await spawn_parley(["slack"], folder=tmp_path, ca=ca, hosts=hosts, env=TOKENS)
    assert await parley.finish() == 1
    assert_one_error_line(parley, "Slack refused SLACK_BOT_TOKEN (invalid_auth)", "Install App")
    assert slack.server.seen("/api/apps.connections.open") == []


async def test_a_rejected_app_token_is_one_line(
    tmp_path: Path, ca: LocalCA, slack: FakeSlack
) -> None:
    slack.fail("apps.connections.open", REFUSED)
    hosts = {"slack.com": slack.server.port}
    parley = await spawn_parley(["slack"], folder=tmp_path, ca=ca, hosts=hosts, env=TOKENS)
    assert await parley.finish() == 1
    assert_one_error_line(
        parley, "Slack refused SLACK_APP_TOKEN (invalid_auth)", "connections:write"
    )


async def test_without_a_network_it_says_slack_cannot_be_reached(
    tmp_path: Path, ca: LocalCA
) -> None:
    """The lead's check on a machine with no network (no name resolves), in HTTP mode:
    the token check comes before either mode's own start."""
    sock, port = listening_socket()
    sock.close()
    args = ["slack", "--http", "--port", str(port)]
    parley = await spawn_parley(args, folder=tmp_path, ca=ca, hosts={}, env=HTTP_TOKENS)
    assert await parley.finish() == 1
    assert_one_error_line(
        parley, "Cannot reach Slack at https://slack.com/api/ (Name or service not known)"
    )


async def test_a_port_in_use_is_one_line(tmp_path: Path, ca: LocalCA, slack: FakeSlack) -> None:
    taken, port = listening_socket()
    taken.listen()
    try:
        args = ["slack", "--http", "--host", "127.0.0.1", "--port", str(port)]
        hosts = {"slack.com": slack.server.port}
        parley = await spawn_parley(args, folder=tmp_path, ca=ca, hosts=hosts, env=HTTP_TOKENS)
        assert await parley.finish() == 1
    finally:
        taken.close()
    assert_one_error_line(parley, f"Port {port} on 127.0.0.1 is already in use", "--port")
    assert slack.server.seen("/api/auth.test") == []  # the port is claimed first


async def test_sigterm_while_starting_stops_it_at_once(
    tmp_path: Path, ca: LocalCA, slack: FakeSlack
) -> None:
    """Slack takes its time to answer auth.test: SIGTERM does not wait for it."""
    slack.fail("auth.test", Scripted(200, {"ok": True}, delay=15))
    hosts = {"slack.com": slack.server.port}
    parley = await spawn_parley(["slack"], folder=tmp_path, ca=ca, hosts=hosts, env=TOKENS)
    await wait_until(lambda: slack.server.seen("/api/auth.test"), 30, "the token check")
    parley.signal(signal.SIGTERM)
    stopped = time.monotonic()
    assert await parley.finish() == 0
    assert time.monotonic() - stopped < 5
    assert_said_once_and_cleanly(parley, "Parley has left Slack")
    assert slack.server.seen("/api/apps.connections.open") == []
