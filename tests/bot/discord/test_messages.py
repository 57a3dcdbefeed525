"""Mentions and threads at the wire: raw MESSAGE_CREATE payloads go in."""

from __future__ import annotations

from arena.store import Store
from tests.fakes.discord_api import API, BOT, BOT_ID, CHANNEL_ID, FakeDiscord, user
from tests.fakes.providers import fake, hosted, openai_stream, roster

from .conftest import USER_ID, Discord, make_service, start


def requests_after_login(api: FakeDiscord) -> list[str]:
    login = ("/users/@me", "/oauth2/applications/@me", "/commands")
    return [f"{r.method} {r.path}" for r in api.server.requests if not r.path.endswith(login)]


async def test_a_mention_is_answered_in_a_thread_and_follow_ups_need_no_mention(
    discord_api: FakeDiscord, store: Store
) -> None:
    alpha = fake("alpha", "Run shipit rollback [1].", "At noon [1].")
    bot = await start(discord_api, make_service(store, roster(alpha)))
    asked = await bot.say(f"<@{BOT_ID}> How do I roll back?", mentions=[BOT])
    (started,) = discord_api.server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads")
    assert started.body["name"] == "How do I roll back?"
    (answer,) = discord_api.posted(asked)  # the thread's id is the message's
    assert answer["embeds"][0]["description"] == "Run shipit rollback [1]."
    assert answer["allowed_mentions"] == {"parse": []}

    bot.thread_created(discord_api.thread(CHANNEL_ID, asked, "How do I roll back?"))
    await bot.say("And when do deploys run?", channel_id=asked)
    await bot.client.close()
    _, follow_up = discord_api.posted(asked)  # both answers in the thread
    assert follow_up["embeds"][0]["description"] == "At noon [1]."
    history = [m["content"] for m in alpha.prompts[-1].messages]
    assert "How do I roll back?" in history[0]  # the thread's history came along
    assert "Run shipit rollback [1]." in history[1]
    rows = await store._rows("SELECT channel, thread, text FROM questions ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (str(CHANNEL_ID), str(asked), "How do I roll back?"),
        (str(CHANNEL_ID), str(asked), "And when do deploys run?"),
    ]


async def test_a_streamed_answer_starts_the_thread_with_its_first_text_then_is_edited(
    discord_api: FakeDiscord, store: Store, monkeypatch, closing
) -> None:
    monkeypatch.setattr("bot.discord.commands.EDIT_INTERVAL", 0.2)
    words = [f"word{i} " for i in range(12)] + ["done [1]."]
    server = discord_api.server
    server.route("POST", "/v1/chat/completions", openai_stream(words, pace=0.05))
    bot = await start(discord_api, make_service(store, closing(hosted("gpt", server.url))))
    asked = await bot.say(f"<@{BOT_ID}> How do I roll back?", mentions=[BOT])
    await bot.client.close()
    assert len(server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads")) == 1
    (first,) = discord_api.posted(asked)  # one message in the thread, then edits of it
    assert first["content"] == "word0 …"
    edits = server.seen(f"{API}/channels/{asked}/messages/*", "PATCH")
    assert len(edits) >= 2 and len({e.path for e in edits}) == 1
    assert edits[-1].body["content"] is None
    assert edits[-1].body["embeds"][0]["description"] == "".join(words).replace("[1].", "[1] [?].")


async def test_messages_not_for_parley_are_ignored(bot: Discord, discord_api: FakeDiscord) -> None:
    await bot.say("How do I roll back?")  # no mention, not in Parley's thread
    await bot.say(f"<@{BOT_ID}> echo", author=BOT, mentions=[BOT])  # itself
    other = user(333, "deploybot", bot=True)
    await bot.say(f"<@{BOT_ID}> How do I roll back?", author=other, mentions=[BOT])
    thread = discord_api.thread(CHANNEL_ID, 4242, "someone else's", owner_id=USER_ID)
    bot.thread_created(thread)
    await bot.say("How do I roll back?", channel_id=4242)  # a thread Parley did not start
    assert requests_after_login(discord_api) == []


async def test_nothing_in_an_answer_can_ping_anyone(discord_api: FakeDiscord, store: Store) -> None:
    rude = fake("alpha", "@everyone see <@&123> and <@!456> [1].")
    bot = await start(discord_api, make_service(store, roster(rude)))
    asked = await bot.say(f"<@{BOT_ID}> Who owns deploys?", mentions=[BOT])
    await bot.client.close()
    (answer,) = discord_api.posted(asked)
    text = answer["embeds"][0]["description"]
    assert "@everyone" not in text and "<@&" not in text and "<@!" not in text
    assert all(
        body.get("allowed_mentions") == {"parse": []}
        for body in discord_api.sent()
        if "content" in body or "embeds" in body
    )


async def test_a_bare_mention_gets_a_hint_in_place_not_a_thread(
    bot: Discord, discord_api: FakeDiscord
) -> None:
    asked = await bot.say(f"<@{BOT_ID}>", mentions=[BOT])
    assert discord_api.server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads") == []
    (hint,) = discord_api.posted(CHANNEL_ID)
    assert hint["content"].startswith("Ask me a question")
    assert int(hint["message_reference"]["message_id"]) == asked
    assert hint["allowed_mentions"]["parse"] == []


async def test_a_direct_message_is_answered_in_place_without_a_mention(
    bot: Discord, discord_api: FakeDiscord, store: Store
) -> None:
    await bot.say("How do I roll back?", channel_id=8888, guild=False)
    assert not [r for r in discord_api.server.requests if r.path.endswith("/threads")]
    (answer,) = discord_api.posted(8888)
    assert answer["embeds"][0]["title"] == "alpha"
    rows = await store._rows("SELECT channel, thread FROM questions")
    assert [tuple(r) for r in rows] == [("8888", "8888")]  # the DM is one long thread
