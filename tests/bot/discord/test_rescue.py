"""An ``/ask`` deferred, or a message taken, by an instance that died before answering,
answered by the instance serving after it (two clients over one store, as the holder of
the gateway and the standby that took it over), once: an ``/ask`` through the
interaction's token into the "thinking…" message the dead one left; a mention in the
thread the dead one started, its partial answer become the whole one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from unittest.mock import AsyncMock

import pytest

from arena.models.base import Completion, OnDelta, Prompt
from arena.store import Store
from arena.types import ModelSpec
from bot.discord.commands import ASK_SCOPE
from bot.discord.mentions import MENTION_SCOPE
from bot.discord.rescue import Rescue
from tests.fakes.discord_api import API, BOT, BOT_ID, CHANNEL_ID, FakeDiscord, slash_data
from tests.fakes.net import wait_until
from tests.fakes.providers import FakeProvider, fake, roster

from .conftest import USER_ID, Discord, make_service, start

pytestmark = pytest.mark.both_engines

LEASE = 1.0  # seconds: short, so the dead instance's claim runs out within the test
HANGS = 3600.0  # a model that does not reply within a test: its instance is as dead
DEFERRED = 5
MENTION = f"<@{BOT_ID}> How do I roll back?"  # a question asked in the channel
CONTRACT = b"# Vendor contract\n\nThis agreement renews automatically on 1 March 2027.\n"


class StartsThenHangs(FakeProvider):
    """A streaming model that shows its first word and never sends the rest."""

    async def stream(self, prompt: Prompt, on_delta: OnDelta) -> Completion:
        self.prompts.append(prompt)
        await on_delta("Run ")
        await asyncio.sleep(HANGS)
        raise AssertionError("a hung model replied")


@pytest.fixture
async def pair(
    discord_api: FakeDiscord, durable_target: str
) -> AsyncIterator[tuple[Discord, Discord, Store]]:
    """The instance that dies (its model hangs, its claims are never renewed) and the one
    serving after it, over one database (and that database)."""
    async with instances(discord_api, durable_target, fake("alpha", delay=HANGS)) as bots:
        yield bots


@pytest.fixture
async def streaming_pair(
    discord_api: FakeDiscord, durable_target: str
) -> AsyncIterator[tuple[Discord, Discord, Store]]:
    """As ``pair``, the dying instance's model showing its first word before it hangs."""
    dying = StartsThenHangs(ModelSpec(name="alpha", provider="fake"), [])
    async with instances(discord_api, durable_target, dying) as bots:
        yield bots


@contextlib.asynccontextmanager
async def instances(
    discord_api: FakeDiscord, durable_target: str, dying: FakeProvider
) -> AsyncIterator[tuple[Discord, Discord, Store]]:
    """The instance whose one model is ``dying`` and the one serving after it."""
    stores = [await Store.open(durable_target) for _ in range(2)]
    dead = await start(discord_api, make_service(stores[0], roster(dying)))
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


async def taken_then_dead(dead: Discord, store: Store, content: str, **where) -> int:
    """``dead`` takes a message (``where``: as ``Discord.post``) and starts answering
    it, and never finishes; the message's id."""
    message = dead.post(content, **where)
    for _ in range(100):
        if await store.orphaned_claims(MENTION_SCOPE, 0.0, since=0):  # claimed, not renewed
            return int(message["id"])
        await asyncio.sleep(0.02)
    raise AssertionError("the message was never claimed")


async def rescued(alive: Discord, answered) -> None:
    """Run one look for orphans on ``alive`` after the dead one's lease ran out, and wait
    for ``answered()``; a second look finds nothing."""
    await asyncio.sleep(LEASE + 0.1)
    rescue = Rescue(alive.client, alive.client.service)
    try:
        assert await rescue.sweep() == 1
        await wait_until(answered, 10, "the rescued answer")
        assert await rescue.sweep() == 0  # held by this instance now, then done
    finally:
        await rescue.stop()


@contextlib.asynccontextmanager
async def ending_when_done() -> AsyncIterator[None]:
    """Cancel the tasks started inside (the dead instance's hung answer), as its
    process's end would."""
    before = asyncio.all_tasks()
    try:
        yield
    finally:
        hanging = asyncio.all_tasks() - before
        for task in hanging:
            task.cancel()
        await asyncio.gather(*hanging, return_exceptions=True)


async def test_an_ask_whose_instance_died_is_answered_into_its_thinking_message(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    dead, alive, store = pair
    async with ending_when_done():
        token = await deferred_then_dead(dead, discord_api, store, "How do I roll back?")
        await rescued(alive, lambda: discord_api.edits(token))
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


async def test_a_mention_whose_instance_died_before_showing_anything_is_answered_in_a_thread(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    dead, alive, store = pair
    async with ending_when_done():
        asked = await taken_then_dead(dead, store, MENTION, mentions=[BOT])
        await rescued(alive, lambda: discord_api.posted(asked))
    (started,) = discord_api.server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads")
    assert started.body["name"] == "How do I roll back?"
    assert not discord_api.server.seen(f"{API}/channels/{CHANNEL_ID}", "GET")  # from its cache
    (answer,) = discord_api.posted(asked)  # in the thread started from the message
    assert answer["embeds"][0]["description"] == "Run shipit rollback [1]."
    rows = await store._rows("SELECT channel, thread, text FROM questions")
    assert (str(CHANNEL_ID), str(asked), "How do I roll back?") in [tuple(r) for r in rows]


async def test_a_mention_whose_instance_died_mid_answer_is_finished_in_the_same_message(
    streaming_pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    dead, alive, store = streaming_pair
    async with ending_when_done():
        asked = await taken_then_dead(dead, store, MENTION, mentions=[BOT])
        await wait_until(lambda: discord_api.posted(asked), 5, "the partial answer")
        edits = f"{API}/channels/{asked}/messages/*"
        await rescued(alive, lambda: discord_api.server.seen(edits, "PATCH"))
    threads = discord_api.server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads")
    assert len(threads) == 1  # the dead instance's thread, not a second one
    (partial,) = discord_api.created(asked)
    assert partial["content"] == "Run …"
    (edit,) = discord_api.server.seen(f"{API}/channels/{asked}/messages/*", "PATCH")
    assert edit.path.endswith(f"/messages/{partial['id']}")
    assert edit.body["content"] is None  # the partial text gone, the answer in its place
    assert edit.body["embeds"][0]["description"] == "Run shipit rollback [1]."


async def test_a_thread_started_by_an_instance_that_died_before_noting_it_is_reused(
    streaming_pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    dead, alive, store = streaming_pair
    async with ending_when_done():
        dead.client.service.claims.note = AsyncMock()  # it dies before the note is written
        asked = await taken_then_dead(dead, store, MENTION, mentions=[BOT])
        await wait_until(lambda: discord_api.posted(asked), 5, "the partial answer")
        await rescued(alive, lambda: len(discord_api.posted(asked)) == 2)
    started = discord_api.server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads")
    assert len(started) == 2  # the second refused: Discord starts one thread per message
    partial, answer = discord_api.posted(asked)  # both in the dead instance's thread
    assert partial["content"] == "Run …"
    assert answer["embeds"][0]["description"] == "Run shipit rollback [1]."


async def test_a_direct_message_whose_instance_died_is_answered_in_the_dm(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    dead, alive, store = pair
    async with ending_when_done():  # the standby never saw this DM: its channel is fetched
        await taken_then_dead(dead, store, "How do I roll back?", channel_id=8888, guild=False)
        await rescued(alive, lambda: discord_api.posted(8888))
    (answer,) = discord_api.posted(8888)
    assert answer["embeds"][0]["description"] == "Run shipit rollback [1]."
    assert discord_api.server.seen(f"{API}/channels/8888", "GET")
    assert not [r for r in discord_api.server.requests if r.path.endswith("/threads")]


async def test_a_direct_message_with_a_file_whose_instance_died_is_answered_from_the_file(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    dead, alive, store = pair
    files = [discord_api.attachment("contract.md", CONTRACT, "text/markdown", channel_id=8888)]
    async with ending_when_done():
        asked = "When does the contract renew?"
        await taken_then_dead(dead, store, asked, channel_id=8888, guild=False, attachments=files)
        await wait_until(lambda: discord_api.cdn_requests(), 5, "the dead instance's download")
        await rescued(alive, lambda: discord_api.posted(8888))
    (answer,) = discord_api.posted(8888)
    assert "[1] contract.md" in json.dumps(answer["embeds"])  # the claim kept the file
    assert len(discord_api.cdn_requests()) == 2  # read by the dead instance, then again


async def test_a_message_whose_channel_is_gone_is_given_up_once(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord, caplog
) -> None:
    dead, alive, store = pair
    async with ending_when_done():
        await taken_then_dead(dead, store, "How do I roll back?", channel_id=8888, guild=False)
        discord_api.forget_channel(8888)  # the user closed the DM
        await asyncio.sleep(LEASE + 0.1)
        rescue = Rescue(alive.client, alive.client.service)
        try:
            assert await rescue.sweep() == 1
            await wait_until(lambda: "is gone" in caplog.text, 10, "the rescue's end")
            await asyncio.sleep(LEASE + 0.1)
            assert await rescue.sweep() == 0  # nobody tries it again
        finally:
            await rescue.stop()
    assert discord_api.posted(8888) == []
    assert "answering a rescued" not in caplog.text  # a warning, not a failure


async def test_work_a_dead_instance_took_longer_ago_than_the_window_is_left(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord, caplog
) -> None:
    dead, alive, store = pair
    async with ending_when_done():
        token = await deferred_then_dead(dead, discord_api, store, "How do I roll back?")
        asked = await taken_then_dead(dead, store, MENTION, mentions=[BOT])
        await asyncio.sleep(LEASE + 0.1)
        rescue = Rescue(alive.client, alive.client.service, window=LEASE / 2)
        try:
            assert await rescue.sweep() == 0  # an answer this late would come out of the blue
        finally:
            await rescue.stop()
    assert discord_api.edits(token) == [] and discord_api.posted(asked) == []
    assert caplog.text.count("not redoing") == 2


async def test_work_answered_by_its_own_instance_is_never_answered_again(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord
) -> None:
    _, alive, _ = pair
    token = ask(alive, discord_api, "How do I roll back?")["token"]
    asked = int(alive.post(MENTION, mentions=[BOT])["id"])
    await wait_until(lambda: discord_api.edits(token), 10, "the /ask's answer")
    await wait_until(lambda: discord_api.posted(asked), 10, "the mention's answer")
    await asyncio.sleep(LEASE + 0.1)
    rescue = Rescue(alive.client, alive.client.service)
    try:
        assert await rescue.sweep() == 0
    finally:
        await rescue.stop()
    assert len(discord_api.edits(token)) == 1 and len(discord_api.posted(asked)) == 1


async def test_a_message_the_gateway_delivers_again_is_answered_once(
    pair: tuple[Discord, Discord, Store], discord_api: FakeDiscord, caplog
) -> None:
    _, alive, _ = pair
    caplog.set_level(logging.DEBUG, logger="bot.discord.mentions")
    message = discord_api.user_message(MENTION, mentions=[BOT])
    asked = int(message["id"])
    alive.state.parsers["MESSAGE_CREATE"](message)
    await wait_until(lambda: discord_api.posted(asked), 10, "the answer")
    alive.state.parsers["MESSAGE_CREATE"](message)  # a resumed session replays what it sent
    await wait_until(lambda: f"message {asked} again" in caplog.text, 10, "the replay's end")
    assert len(discord_api.posted(asked)) == 1
    assert (
        len(discord_api.server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads")) == 1
    )


async def test_claims_this_version_cannot_read_are_given_up_once(
    pair: tuple[Discord, Discord, Store], caplog
) -> None:
    _, alive, store = pair
    for scope in (ASK_SCOPE, MENTION_SCOPE):  # left by an older version, say
        assert (await store.claim(scope, "1234", "older", LEASE, {"question": "?"})).won
    await asyncio.sleep(LEASE + 0.1)
    rescue = Rescue(alive.client, alive.client.service)
    try:
        assert await rescue.sweep() == 0
        for _ in range(200):
            rows = await store._rows("SELECT status FROM claims WHERE key = '1234'")
            if [tuple(r) for r in rows] == [("done",), ("done",)]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the claims were never ended")
        await asyncio.sleep(LEASE + 0.1)
        assert await rescue.sweep() == 0  # not looked at again
    finally:
        await rescue.stop()
    warned = [r.getMessage() for r in caplog.records if "its claim holds no" in r.getMessage()]
    assert len(warned) == 2
