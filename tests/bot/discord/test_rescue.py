"""An ``/ask`` deferred by an instance that died before answering, answered by the
instance serving after it (two clients over one store, as the holder of the gateway and
the standby that took it over): through the interaction's token, into the "thinking…"
message the dead one left, once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from arena.store import Store
from bot.discord.commands import ASK_SCOPE
from bot.discord.rescue import Rescue
from tests.fakes.discord_api import FakeDiscord, slash_data
from tests.fakes.net import wait_until
from tests.fakes.providers import fake, roster

from .conftest import USER_ID, Discord, make_service, start

pytestmark = pytest.mark.both_engines

LEASE = 1.0  # seconds: short, so the dead instance's claim runs out within the test
HANGS = 3600.0  # a model that does not reply within a test: its instance is as dead
DEFERRED = 5


@pytest.fixture
async def pair(
    discord_api: FakeDiscord, durable_target: str
) -> AsyncIterator[tuple[Discord, Discord, Store]]:
    """The instance that dies (its model hangs, its claims are never renewed) and the one
    serving after it, over one database (and that database)."""
    stores = [await Store.open(durable_target) for _ in range(2)]
    dead = await start(discord_api, make_service(stores[0], roster(fake("alpha", delay=HANGS))))
    alive = await start(discord_api, make_service(stores[1]))
    dead.client.service.claims.lease = HANGS  # renewed every twenty minutes
    alive.client.service.claims.lease = LEASE
    try:
        yield dead, alive, stores[1]
    finally:
        for bot in (dead, alive):
            await bot.client.close()
        for store in stores:
            await store.close()


def ask(bot: Discord, api: FakeDiscord, question: str) -> dict:
    """Feed ``bot`` an ``/ask`` as the gateway would (not waiting for every task to end:
    a PostgreSQL pool's never do); its INTERACTION_CREATE payload."""
    data = slash_data(api.next_id(), "ask", {"question": question})
    payload = api.interaction(2, data, user_id=USER_ID)
    bot.state.parsers["INTERACTION_CREATE"](payload)
    return payload


async def deferred_then_dead(dead: Discord, api: FakeDiscord, store: Store, question: str) -> str:
    """``dead`` defers an ``/ask`` and starts answering it, and never finishes; the
    interaction's token."""
    payload = ask(dead, api, question)
    deferred = [{"type": DEFERRED}]
    await wait_until(lambda: api.callbacks(int(payload["id"])) == deferred, 5, "the defer")
    for _ in range(100):
        if await store.orphaned_claims(ASK_SCOPE, 0.0, since=0):  # claimed, not renewed
            return payload["token"]
        await asyncio.sleep(0.02)
    raise AssertionError("the /ask was never claimed")


async def test_an_ask_whose_instance_died_is_answered_into_its_thinking_message(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    dead, alive, store = pair
    hanging = asyncio.all_tasks()
    token = await deferred_then_dead(dead, discord_api, store, "How do I roll back?")
    hanging = asyncio.all_tasks() - hanging
    await asyncio.sleep(LEASE + 0.1)
    rescue = Rescue(alive.client, alive.client.service)
    try:
        assert await rescue.sweep() == 1
        await wait_until(lambda: discord_api.edits(token), 10, "the rescued answer")
        assert await rescue.sweep() == 0  # held by this instance now, then done
    finally:
        await rescue.stop()
        for task in hanging:  # the dead instance's answer, as its process's end would
            task.cancel()
        await asyncio.gather(*hanging, return_exceptions=True)
    (answer,) = discord_api.shown(token)
    assert answer["flags"] == 0  # the "thinking…" message, public, no longer loading
    (embed,) = answer["embeds"]
    assert embed["description"] == "Run shipit rollback [1]."
    assert [c["custom_id"] for row in answer["components"] for c in row["components"]] == [
        "parley:thumb:1:up",
        "parley:thumb:1:down",
    ]
    assert len(discord_api.edits(token)) == 1 and discord_api.followups(token) == []
    record = await store.answer_record(1)
    assert record is not None and record.question == "How do I roll back?"


async def test_an_ask_answered_by_its_own_instance_is_never_answered_again(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    _, alive, _ = pair
    token = ask(alive, discord_api, "How do I roll back?")["token"]
    await wait_until(lambda: discord_api.edits(token), 10, "the answer")
    await asyncio.sleep(LEASE + 0.1)
    rescue = Rescue(alive.client, alive.client.service)
    try:
        assert await rescue.sweep() == 0
    finally:
        await rescue.stop()
    assert len(discord_api.edits(token)) == 1
