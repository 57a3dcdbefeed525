"""Buttons and the reason form at the wire: votes under a battle (the reveal names
exactly the model whose answer was shown on each side), thumbs, and the reason form in
both of the forms Discord submits it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from arena.store import Store
from arena.types import CHOICES
from bot import messages
from bot.discord.views import location
from tests.fakes.discord_api import CHANNEL_ID, EPHEMERAL, FakeDiscord, text_channel
from tests.fakes.providers import fake, roster

from .conftest import USER_ID, Discord, make_service, start

UPDATE, MODAL, MESSAGE = 7, 9, 4
SAYS = {name: f"{name.title()} says: run shipit rollback [1]." for name in ("alpha", "beta")}


def buttons(message: dict) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


def speakers() -> list:
    """Two models whose every answer names its author, so a test knows who is A."""
    return [fake(name, *[text] * 10) for name, text in SAYS.items()]


def sides(post: dict) -> dict[str, str]:
    """Which model's answer the message shows under each title."""
    author = {text: name for name, text in SAYS.items()}
    return {e["title"]: author[e["description"]] for e in post["embeds"]}


async def battle(bot: Discord, api: FakeDiscord) -> dict:
    _, token = await bot.slash("ask", question="How do I roll back?")
    (post,) = api.shown(token)
    return post


async def test_a_vote_reveals_exactly_who_answered_as_a_and_as_b(
    discord_api: FakeDiscord, store: Store
) -> None:
    """Swapping the names in the reveal, the confirmation or the stored vote fails here:
    each is checked against the answer the voter saw under "Model A"."""
    service = make_service(store, roster(*speakers()), battle_share=1.0)
    bot = await start(discord_api, service)
    orders: list[tuple[str, str]] = []
    for battle_id in range(1, 5):
        post = await battle(bot, discord_api)
        shown = sides(post)
        a, b = shown["Model A"], shown["Model B"]
        orders.append((a, b))
        clicked, token = await bot.click(f"parley:vote:{battle_id}:a", post)
        (update,) = discord_api.callbacks(clicked)
        assert update["type"] == UPDATE
        assert [e["title"] for e in update["data"]["embeds"]] == [
            f"Model A: {a}",
            f"Model B: {b}",
        ]
        assert sides({"embeds": update["data"]["embeds"]}) == {
            f"Model A: {a}": a,
            f"Model B: {b}": b,
        }
        (confirmation,) = discord_api.shown(token)
        assert confirmation["flags"] == EPHEMERAL
        assert confirmation["content"] == messages.vote_recorded(a, b, "a", False)
    await bot.client.close()
    assert set(orders) == {("alpha", "beta"), ("beta", "alpha")}  # both orders were tried
    stored = [(r.model_a, r.model_b, r.choice) async for r in store.iter_battles()]
    assert stored == [(a, b, "a") for a, b in orders]  # "A is better" won for the one shown as A


async def test_each_vote_button_says_which_choice_it_casts(
    discord_api: FakeDiscord, store: Store
) -> None:
    """The voter reads the label, the bot reads the custom id: they must agree."""
    bot = await start(discord_api, make_service(store, battle_share=1.0))
    try:
        post = await battle(bot, discord_api)
    finally:
        await bot.client.close()
    votes = [
        (c["label"], c["custom_id"])
        for row in post["components"]
        for c in row["components"]
        if c["custom_id"].startswith("parley:vote:")
    ]
    assert votes == [(messages.CHOICE_LABELS[c], f"parley:vote:1:{c}") for c in CHOICES]


async def test_a_vote_from_another_channel_is_refused_and_nothing_is_stored(
    discord_api: FakeDiscord, store: Store
) -> None:
    bot = await start(discord_api, make_service(store, battle_share=1.0))
    post = await battle(bot, discord_api)
    clicked, _ = await bot.click("parley:vote:1:a", post, channel=text_channel(601))
    await bot.client.close()
    (refusal,) = discord_api.callbacks(clicked)
    assert refusal["type"] == MESSAGE and refusal["data"]["flags"] == EPHEMERAL
    assert refusal["data"]["content"] == messages.foreign_battle()
    assert await store.pair_counts() == [] and await store.battle_votes([1]) == []


async def test_a_second_click_changes_the_vote_and_reveals_nothing_twice(
    discord_api: FakeDiscord, store: Store
) -> None:
    bot = await start(discord_api, make_service(store, battle_share=1.0))
    post = await battle(bot, discord_api)
    assert [e["title"] for e in post["embeds"]] == ["Model A", "Model B"]
    assert buttons(post) == [
        "parley:vote:1:a",
        "parley:vote:1:b",
        "parley:vote:1:tie",
        "parley:vote:1:both_bad",
    ]
    first, token = await bot.click("parley:vote:1:a", post)
    (update,) = discord_api.callbacks(first)
    titles = [e["title"] for e in update["data"]["embeds"]]
    (confirmation,) = discord_api.shown(token)
    assert confirmation["content"].startswith("Vote recorded: A is better.")
    assert update["data"]["allowed_mentions"] == {"parse": []}

    revealed = discord_api.message(CHANNEL_ID, {**post, "embeds": update["data"]["embeds"]})
    second, token = await bot.click("parley:vote:1:both_bad", revealed)
    (update,) = discord_api.callbacks(second)
    assert [e["title"] for e in update["data"]["embeds"]] == titles  # revealed once
    (confirmation,) = discord_api.shown(token)
    assert confirmation["content"].startswith("Vote changed to Both are bad.")
    await bot.click("parley:vote:1:b", revealed, user_id=222)
    await bot.client.close()
    (counts,) = await store.pair_counts()
    assert (counts.total, counts.both_bad) == (2, 1)  # each voter once, the latest choice


async def test_a_click_without_a_channel_object_still_counts(
    discord_api: FakeDiscord, store: Store
) -> None:
    """Interactions may name their channel by ``channel_id`` alone: the vote is still in
    the battle's channel, so it counts."""
    bot = await start(discord_api, make_service(store, battle_share=1.0))
    post = await battle(bot, discord_api)
    clicked, _ = await bot.click("parley:vote:1:tie", post, channel_object=False)
    await bot.client.close()
    assert discord_api.callbacks(clicked)[0]["type"] == UPDATE
    (counts,) = await store.pair_counts()
    assert counts.ties == 1


async def test_buttons_posted_before_a_restart_keep_working(
    discord_api: FakeDiscord, tmp_path: Path
) -> None:
    path = tmp_path / "parley.db"
    store = await Store.open(path)
    bot = await start(discord_api, make_service(store, battle_share=1.0))
    message = await battle(bot, discord_api)
    await bot.client.close()
    await store.close()

    store = await Store.open(path)  # a new process: new client, new service, same database
    bot = await start(discord_api, make_service(store, battle_share=1.0))
    clicked, token = await bot.click("parley:vote:1:tie", message)
    await bot.client.close()
    assert discord_api.callbacks(clicked)[0]["type"] == UPDATE
    assert discord_api.shown(token)[0]["content"].startswith("Vote recorded: Tie.")
    (counts,) = await store.pair_counts()
    await store.close()
    assert counts.ties == 1


async def test_a_vote_on_an_unknown_battle_is_refused_privately(
    bot: Discord, discord_api: FakeDiscord
) -> None:
    row = [{"type": 2, "style": 1, "custom_id": "parley:vote:77:a"}]
    message = discord_api.message(CHANNEL_ID, {"components": [{"type": 1, "components": row}]})
    clicked, _ = await bot.click("parley:vote:77:a", message)
    (refusal,) = discord_api.callbacks(clicked)
    assert refusal["type"] == MESSAGE and refusal["data"]["flags"] == EPHEMERAL
    assert "77" in refusal["data"]["content"]


@pytest.mark.parametrize("value", ["up", "down"])
async def test_a_thumb_on_an_unknown_answer_is_only_refused(
    bot: Discord, discord_api: FakeDiscord, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The refusal is the one response: no confirmation or reason form is tried after
    it (a second response to one interaction fails, and would be logged as an error)."""
    custom_id = f"parley:thumb:88:{value}"
    row = [{"type": 2, "style": 2, "custom_id": custom_id}]
    message = discord_api.message(CHANNEL_ID, {"components": [{"type": 1, "components": row}]})
    with caplog.at_level(logging.ERROR):
        clicked, _ = await bot.click(custom_id, message)
        await asyncio.sleep(0.2)  # anything tried after the refusal has run by now
    (refusal,) = discord_api.callbacks(clicked)
    assert refusal["type"] == MESSAGE and refusal["data"]["flags"] == EPHEMERAL
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_an_interaction_from_no_channel_asks_from_the_empty_channel_and_no_thread() -> None:
    assert location(None) == ("", None)


async def test_thumbs_up_is_stored_and_confirmed_privately(
    bot: Discord, discord_api: FakeDiscord, store: Store
) -> None:
    message = await battle(bot, discord_api)
    clicked, _ = await bot.click("parley:thumb:1:up", message)
    (reply,) = discord_api.callbacks(clicked)
    assert reply["type"] == MESSAGE and reply["data"]["flags"] == EPHEMERAL
    assert reply["data"]["content"] == messages.thumb_recorded("alpha", 1)
    assert reply["data"]["allowed_mentions"] == {"parse": []}
    assert await store.thumb_reasons(1) == [(str(USER_ID), 1, None)]


async def test_thumbs_down_opens_a_form_and_the_reason_is_stored(
    bot: Discord, discord_api: FakeDiscord, store: Store
) -> None:
    message = await battle(bot, discord_api)
    clicked, _ = await bot.click("parley:thumb:1:down", message)
    (modal,) = discord_api.callbacks(clicked)
    assert modal["type"] == MODAL
    assert modal["data"]["custom_id"] == "parley:reason:1"
    assert modal["data"]["title"] == messages.REASON_FORM_TITLE
    (label,) = modal["data"]["components"]  # the text input inside a Label
    assert label["type"] == 18 and label["label"] == messages.REASON_FORM_FIELD
    assert label["component"]["custom_id"] == "reason"
    assert label["component"]["required"] is False
    assert await store.thumb_reasons(1) == [(str(USER_ID), -1, None)]  # counted already

    submitted, _ = await bot.submit(
        "parley:reason:1", {"reason": "  The command was renamed  "}, message
    )
    (thanks,) = discord_api.callbacks(submitted)
    assert thanks["type"] == MESSAGE and thanks["data"]["flags"] == EPHEMERAL
    assert thanks["data"]["content"] == messages.thumb_recorded("alpha", -1)
    assert await store.thumb_reasons(1) == [(str(USER_ID), -1, "The command was renamed")]


async def test_a_reason_in_the_legacy_action_row_form_is_read_too(
    bot: Discord, discord_api: FakeDiscord, store: Store
) -> None:
    """A form opened by an older Parley (its input in an action row) still counts."""
    message = await battle(bot, discord_api)
    await bot.submit("parley:reason:1", {"reason": "wrong"}, message, legacy=True)
    assert await store.thumb_reasons(1) == [(str(USER_ID), -1, "wrong")]


async def test_a_reason_form_opened_before_a_restart_still_counts(
    discord_api: FakeDiscord, tmp_path: Path
) -> None:
    path = tmp_path / "parley.db"
    store = await Store.open(path)
    bot = await start(discord_api, make_service(store))
    message = await battle(bot, discord_api)
    await bot.click("parley:thumb:1:down", message)
    await bot.client.close()
    await store.close()

    store = await Store.open(path)
    bot = await start(discord_api, make_service(store))
    submitted, _ = await bot.submit("parley:reason:1", {"reason": "outdated"}, message)
    await bot.client.close()
    (thanks,) = discord_api.callbacks(submitted)
    assert thanks["data"]["content"] == messages.thumb_recorded("alpha", -1)
    assert await store.thumb_reasons(1) == [(str(USER_ID), -1, "outdated")]
    await store.close()
