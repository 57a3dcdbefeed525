"""The disk fills up while a vote is written: the voter is told it was not recorded, and
the votes and pair counts are exactly as before (the batch was rolled back whole)."""

from __future__ import annotations

from arena.store import Store
from bot import messages
from tests.bot.discord.conftest import make_service, start
from tests.bot.slack.conftest import Harness, block_action
from tests.bot.slack.test_feedback import button, posted_answer
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord

from .conftest import fill_the_disk, set_page_limit, vote_rows

EPHEMERAL = 64


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
