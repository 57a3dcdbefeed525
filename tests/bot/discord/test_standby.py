"""Two ``parley discord`` with one token, each its own process (as on two machines, or
twice on one): one holds the gateway, the other stands by and takes over within 30 s
when the first is killed; over PostgreSQL (a session advisory lock) and over one data
folder (a file lock)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from bot.discord.gateway import POLL
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.net import LocalCA, spawn_parley, wait_until

from . import test_startup as startup

GATEWAY, TOKEN = startup.GATEWAY, startup.TOKEN
ca, rest = startup.ca, startup.rest  # the local CA and Discord's REST API, reused

STANDING_BY = "standing by: another instance holds the gateway"
CONNECTED = "connected to Discord as Parley"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The two instances' shared store: one data folder, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return {}
    return {"PARLEY_DATABASE_URL": request.getfixturevalue("pg_url")}


async def test_a_second_instance_stands_by_and_takes_over_when_the_first_dies(
    tmp_path: Path, ca: LocalCA, rest: FakeDiscord, engine_env: dict[str, str]
) -> None:
    gateway = await FakeGateway().start(tls=ca.server_context(GATEWAY))
    hosts = {"discord.com": rest.server.port, GATEWAY: gateway.port}
    env = {**TOKEN, **engine_env}
    args = ["-v", "discord"]
    first = await spawn_parley(args, folder=tmp_path, ca=ca, hosts=hosts, env=env)
    second = None
    try:
        await first.line(CONNECTED)
        second = await spawn_parley(args, folder=tmp_path, ca=ca, hosts=hosts, env=env)
        await second.line(STANDING_BY)
        await asyncio.sleep(POLL + 1)  # past its next try
        assert gateway.sessions == 1  # the standby never connected

        first.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await first.process.wait()
        await second.line(CONNECTED, timeout=30)
        assert time.monotonic() - killed < 30
        await wait_until(lambda: gateway.sessions == 2, 5, "the standby's session")

        second.signal(signal.SIGTERM)
        assert await second.finish() == 0, second.stderr
    finally:
        await gateway.stop()
        for parley in (first, second):
            if parley is not None and parley.process.returncode is None:
                parley.process.kill()
                await parley.process.wait()
    assert not any("Traceback" in line for line in second.lines()), second.stderr


async def test_a_standby_stopped_before_it_took_over_exits_cleanly(
    tmp_path: Path, ca: LocalCA, rest: FakeDiscord
) -> None:
    gateway = await FakeGateway().start(tls=ca.server_context(GATEWAY))
    hosts = {"discord.com": rest.server.port, GATEWAY: gateway.port}
    first = await spawn_parley(["discord"], folder=tmp_path, ca=ca, hosts=hosts, env=TOKEN)
    try:
        await first.line(CONNECTED)
        second = await spawn_parley(["discord"], folder=tmp_path, ca=ca, hosts=hosts, env=TOKEN)
        await second.line(STANDING_BY)
        second.signal(signal.SIGTERM)
        assert await second.finish() == 0
        assert gateway.sessions == 1
        first.signal(signal.SIGTERM)
        assert await first.finish() == 0
    finally:
        await gateway.stop()
