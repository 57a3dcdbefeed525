"""Two ``parley discord`` with one token, each its own process (as on two machines, or
twice on one): one holds the gateway, the other stands by and takes over within 30 s
when the first is killed, answering the ``/ask`` the first had left "thinking…"; over
PostgreSQL (a session advisory lock) and over one data folder (a file lock). The
mention the first was answering is answered too."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.discord.gateway import POLL
from tests.fakes.discord_api import (
    API,
    BOT,
    BOT_ID,
    CHANNEL_ID,
    USER_ID,
    FakeDiscord,
    slash_data,
)
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.http_server import FakeServer
from tests.fakes.net import LocalCA, Parley, spawn_parley, wait_until
from tests.fakes.providers import openai_stream

from . import test_startup as startup

GATEWAY, TOKEN = startup.GATEWAY, startup.TOKEN
ca, rest = startup.ca, startup.rest  # the local CA and Discord's REST API, reused

STANDING_BY = "standing by: another instance holds the gateway"
CONNECTED = "connected to Discord as Parley"


async def end_running(*instances: Parley | None) -> None:
    """End the instances a failed test left running."""
    for parley in instances:
        if parley is not None and parley.process.returncode is None:
            parley.process.kill()
            await parley.process.wait()


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
        await end_running(first, second)
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


def answered(rest: FakeDiscord, token: str) -> bool:
    """Whether the interaction's messages hold an answer (its embed), not only its text
    as it streams."""
    return any(message.get("embeds") for message in rest.shown(token))


def answers_in(rest: FakeDiscord, thread_id: int) -> list[dict]:
    """The edits that turned a message in the thread into an answer (its embed): a
    hosted model's answer streams in as text first."""
    edits = rest.server.seen(f"{API}/channels/{thread_id}/messages/*", "PATCH")
    return [edit.body for edit in edits if edit.body.get("embeds")]


def hosted(server: FakeServer, path: str, delay: float) -> dict[str, str]:
    """An instance's one model: OpenAI-compatible at ``path`` on ``server``, replying
    after ``delay`` seconds."""
    reply = replace(openai_stream(["Run shipit rollback [1]."]), delay=delay)
    server.route("POST", f"/{path}/v1/chat/completions", reply)
    model = {
        "name": "hosted",
        "provider": "openai",
        "model": "gpt-test",
        "base_url": f"{server.url}/{path}/v1",
        "max_retries": 0,
    }
    return {"PARLEY_MODELS": json.dumps([model])}


@contextlib.asynccontextmanager
async def killed_mid_answer(
    tmp_path: Path, ca: LocalCA, rest: FakeDiscord, fake_api: FakeServer, event: str, data: dict
) -> AsyncIterator[Parley]:
    """Two instances with one token, the first holding the gateway and its model hanging:
    the gateway delivers ``event`` (``data``) to it, it calls its model, and is killed;
    the second, whose model answers, has taken the gateway over. Ends it on the way out."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deploys.md").write_text("# Deploys\n\nRun shipit rollback to roll back.\n")
    gateway = await FakeGateway().start(tls=ca.server_context(GATEWAY))
    hosts = {"discord.com": rest.server.port, GATEWAY: gateway.port}
    index = await spawn_parley(["index", str(docs)], folder=tmp_path, ca=ca, hosts={}, env={})
    assert await index.finish() == 0, index.stderr
    hangs = {**TOKEN, **hosted(fake_api, "hangs", 600.0)}
    answers = {**TOKEN, **hosted(fake_api, "answers", 0.0)}
    first = await spawn_parley(["discord"], folder=tmp_path, ca=ca, hosts=hosts, env=hangs)
    second = None
    try:
        await first.line(CONNECTED)
        second = await spawn_parley(["discord"], folder=tmp_path, ca=ca, hosts=hosts, env=answers)
        await second.line(STANDING_BY)
        await gateway.dispatch(event, data)
        await wait_until(lambda: fake_api.seen("/hangs/v1/chat/completions"), 30, "the model call")
        first.process.send_signal(signal.SIGKILL)  # the answer never comes from it
        await first.process.wait()
        await second.line(CONNECTED, timeout=30)
        yield second
        assert fake_api.seen("/answers/v1/chat/completions")
        second.signal(signal.SIGTERM)
        assert await second.finish() == 0, second.stderr
    finally:
        await gateway.stop()
        await end_running(first, second)


# the claim runs out 30 s after its last renewal; the new holder looks every 15 s
RESCUED_WITHIN = 75


async def test_an_ask_the_dead_instance_deferred_is_answered_by_the_one_taking_over(
    tmp_path: Path, ca: LocalCA, rest: FakeDiscord, fake_api: FakeServer
) -> None:
    data = slash_data(1, "ask", {"question": "How do I roll back?"})
    ask = rest.interaction(2, data, user_id=USER_ID)
    deferred = killed_mid_answer(tmp_path, ca, rest, fake_api, "INTERACTION_CREATE", ask)
    async with deferred as second:
        assert rest.callbacks(int(ask["id"])) == [{"type": 5}]  # "thinking…" for everyone
        await wait_until(lambda: answered(rest, ask["token"]), RESCUED_WITHIN, "the answer")
        (answer,) = rest.shown(ask["token"])  # the "thinking…" message became the answer
        assert answer["flags"] == 0 and "shipit rollback" in answer["embeds"][0]["description"]
    assert "answering /ask" in second.stderr


async def test_a_mention_the_dead_instance_took_is_answered_by_the_one_taking_over(
    tmp_path: Path, ca: LocalCA, rest: FakeDiscord, fake_api: FakeServer
) -> None:
    mention = rest.user_message(f"<@{BOT_ID}> How do I roll back?", mentions=[BOT])
    asked = int(mention["id"])
    async with killed_mid_answer(tmp_path, ca, rest, fake_api, "MESSAGE_CREATE", mention) as second:
        assert rest.posted(asked) == []  # nothing shown before the kill: no thread yet
        await wait_until(lambda: answers_in(rest, asked), RESCUED_WITHIN, "the answer")
        assert len(rest.posted(asked)) == 1  # in a thread started from the message, once
        assert "shipit rollback" in answers_in(rest, asked)[-1]["embeds"][0]["description"]
        assert len(rest.server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads")) == 1
    assert "answering message" in second.stderr
