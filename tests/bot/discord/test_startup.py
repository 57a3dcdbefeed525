"""``parley discord`` started as a user starts it: its own process, a user's settings,
Discord's real default URLs (``https://discord.com/api/v10`` for REST,
``wss://gateway.discord.gg`` for the gateway). Only name resolution and the trusted CA
differ (``tests.fakes.net``): both hosts are local fakes behind TLS, every other name
fails as on a machine without a network.

A rejected token (at login or at the gateway) or an unreachable Discord is one line and
a non-zero exit within 30 s; SIGTERM stops a connected bot cleanly (exit 0); discord.py's
log lines are printed once, and its warnings about voice libraries not at all.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.discord_api import API, FakeDiscord, slash_data
from tests.fakes.discord_gateway import AUTHENTICATION_FAILED, DISALLOWED_INTENTS, FakeGateway
from tests.fakes.http_server import FakeServer, Scripted
from tests.fakes.net import LocalCA, Parley, spawn_parley, wait_until

GATEWAY = "gateway.discord.gg"
TOKEN = {"DISCORD_TOKEN": "fake.token.x"}


@pytest.fixture
def ca(tmp_path: Path) -> LocalCA:
    return LocalCA(tmp_path)


@pytest.fixture
def rest(ca: LocalCA) -> Iterator[FakeDiscord]:
    """Discord's REST API at https://discord.com/api/v10 (on a local port)."""
    with FakeServer(tls=ca.server_context("discord.com")) as server:
        yield FakeDiscord(server)


def assert_one_error_line(parley: Parley, *fragments: str) -> None:
    (line,) = parley.lines()
    assert line.startswith("Error: "), parley.stderr
    for fragment in fragments:
        assert fragment in line, line
    assert parley.seconds < 30


async def test_it_connects_on_the_default_urls_answers_and_stops_on_sigterm(
    tmp_path: Path, ca: LocalCA, rest: FakeDiscord
) -> None:
    gateway = await FakeGateway().start(tls=ca.server_context(GATEWAY))
    hosts = {"discord.com": rest.server.port, GATEWAY: gateway.port}
    try:
        args = ["-v", "discord"]  # libraries' info and warnings shown too
        parley = await spawn_parley(args, folder=tmp_path, ca=ca, hosts=hosts, env=TOKEN)
        await parley.line("connected to Discord as Parley")
        (login,) = rest.server.seen(f"{API}/users/@me", "GET")
        assert login.headers["authorization"] == "Bot fake.token.x"
        assert gateway.identify["token"] == "fake.token.x"

        ask = rest.interaction(
            2, slash_data(1, "ask", {"question": "How do I roll back?"}), user_id=111
        )
        await gateway.dispatch("INTERACTION_CREATE", ask)
        await wait_until(
            lambda: rest.shown(ask["token"]) and not rest.shown(ask["token"])[0]["flags"] & 128,
            60,
            "the answer",
        )
        assert rest.callbacks(int(ask["id"])) == [{"type": 5}]

        parley.signal(signal.SIGTERM)
        assert await parley.finish() == 0
    finally:
        await gateway.stop()
    lines = parley.lines()
    assert not any("Traceback" in line for line in lines), parley.stderr
    assert not any("voice" in line for line in lines), parley.stderr
    said = parley.messages()
    assert len(said) == len(set(said)), parley.stderr  # nothing printed twice
    assert sum("connected to Discord" in line for line in lines) == 1
    assert sum("Parley has left Discord" in line for line in lines) == 1


async def test_a_rejected_token_is_one_line(tmp_path: Path, ca: LocalCA, rest: FakeDiscord) -> None:
    unauthorized = Scripted(401, {"message": "401: Unauthorized", "code": 0})
    rest.server.then("GET", f"{API}/users/@me", unauthorized)
    hosts = {"discord.com": rest.server.port}
    parley = await spawn_parley(["discord"], folder=tmp_path, ca=ca, hosts=hosts, env=TOKEN)
    assert await parley.finish() == 1
    assert_one_error_line(parley, "Discord refused the token in DISCORD_TOKEN", "Reset Token")


@pytest.mark.parametrize(
    ("code", "said"),
    [
        (AUTHENTICATION_FAILED, "Discord refused the token in DISCORD_TOKEN"),
        (DISALLOWED_INTENTS, "Discord refused the message-content intent"),
    ],
    ids=["token", "intent"],
)
async def test_what_the_gateway_refuses_is_one_line(
    tmp_path: Path, ca: LocalCA, rest: FakeDiscord, code: int, said: str
) -> None:
    gateway = await FakeGateway(refuse=code).start(tls=ca.server_context(GATEWAY))
    hosts = {"discord.com": rest.server.port, GATEWAY: gateway.port}
    try:
        parley = await spawn_parley(["discord"], folder=tmp_path, ca=ca, hosts=hosts, env=TOKEN)
        assert await parley.finish() == 1
    finally:
        await gateway.stop()
    assert_one_error_line(parley, said)


async def test_without_a_network_it_says_discord_cannot_be_reached(
    tmp_path: Path, ca: LocalCA
) -> None:
    """The lead's check on a machine with no network: no name resolves."""
    parley = await spawn_parley(["discord"], folder=tmp_path, ca=ca, hosts={}, env=TOKEN)
    assert await parley.finish() == 1
    assert_one_error_line(
        parley,
        "Cannot reach Discord at https://discord.com/api/v10 (Name or service not known)",
    )
