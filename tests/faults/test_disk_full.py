"""The disk fills up while a vote is written: the voter is told it was not recorded, and
the votes and pair counts are exactly as before (the batch was rolled back whole). A
thumb that cannot be written is told the same, never thanked."""

from __future__ import annotations

import json

from arena.errors import StoreError
from arena.store import Store
from bot import messages
from tests.bot.discord.conftest import make_service, start
from tests.bot.slack.conftest import Harness, block_action
from tests.bot.slack.test_feedback import button, posted_answer
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord

from .conftest import FILLER_USERS, fill_the_disk, set_page_limit, vote_rows

EPHEMERAL = 64


async def fill_with_thumbs(arena: Store, answer_id: int) -> int:
    """``fill_the_disk`` for the thumbs table: filler thumbs until SQLite answers
    SQLITE_FULL, so the next thumb (a user id of the same length) needs a page more."""
    await set_page_limit(arena, None)
    for n in range(FILLER_USERS):
        try:
            await arena.record_thumb(answer_id, f"UF{n:05d}", 1)
        except StoreError as exc:
            assert "full" in str(exc), exc
            return n
    raise AssertionError("the database never filled up")


async def test_slack_voter_hears_the_vote_was_not_recorded(arena_app: Harness) -> None:
    message = await posted_answer(arena_app)
    value = button(message, "parley_vote_a")["value"]
    assert await fill_the_disk(arena_app.store, int(value)) > 0
    before = await vote_rows(arena_app.store)

    await arena_app.action(block_action("parley_vote_a", value, message, user="UV00001"))
    await arena_app.settle()

    (told,) = arena_app.slack.calls("chat.postEphemeral")
    assert told["user"] == "UV00001" and told["text"] == messages.vote_not_recorded()
    assert arena_app.slack.calls("chat.update") == []  # nothing revealed for an unsaved vote
    assert await vote_rows(arena_app.store) == before

    await set_page_limit(arena_app.store, 1_000_000)  # space again
    await arena_app.action(block_action("parley_vote_a", value, message, user="UV00001"))
    await arena_app.settle()
    assert arena_app.slack.calls("chat.postEphemeral")[-1]["text"].startswith("Vote recorded")
    votes, _ = await vote_rows(arena_app.store)
    assert len(votes) == len(before[0]) + 1


async def test_slack_thumb_that_cannot_be_stored_is_not_thanked(app: Harness) -> None:
    message = await posted_answer(app)
    value = button(message, "parley_thumb_up")["value"]
    answer_id = json.loads(value)["answer"]
    assert await fill_with_thumbs(app.store, answer_id) > 0

    await app.action(block_action("parley_thumb_up", value, message, user="UV00001"))
    await app.settle()

    (told,) = app.slack.calls("chat.postEphemeral")
    assert told["user"] == "UV00001" and told["text"] == messages.vote_not_recorded()
    assert "UV00001" not in {user for user, _, _ in await app.store.thumb_reasons(answer_id)}


async def test_discord_voter_hears_the_vote_was_not_recorded(
    discord_api: FakeDiscord, store: Store
) -> None:
    bot = await start(discord_api, make_service(store, battle_share=1.0))
    try:
        _, token = await bot.slash("ask", question="How do I roll back?")
        (post,) = discord_api.shown(token)
        await fill_the_disk(store, 1)
        before = await vote_rows(store)

        clicked, _ = await bot.click("parley:vote:1:b", discord_api.message(CHANNEL_ID, post))
    finally:
        await bot.client.close()
    (told,) = discord_api.callbacks(clicked)
    assert told["data"]["flags"] == EPHEMERAL
    assert told["data"]["content"] == messages.vote_not_recorded()
    assert await vote_rows(store) == before
