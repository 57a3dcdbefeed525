"""Faithfulness flags at the wire: the embeds Discord receives for answers their sources
do or do not support (raw gateway events in, the fake Discord's records out)."""

from __future__ import annotations

from arena.store import Store
from tests.fakes.discord_api import API, BOT, BOT_ID, CHANNEL_ID, FakeDiscord
from tests.fakes.providers import fake, hosted, openai_stream, roster

from .conftest import make_service, start

# against the conftest's passages: "Deploys run at noon." says the opposite
CONTRADICTED = "Run shipit rollback [1]. Deploys do not run at noon [2]."
MARKED = "Run shipit rollback [1]. Deploys do not run at noon [2] [!]."


async def mentioned(discord_api: FakeDiscord, store: Store, reply: str, **settings) -> dict:
    bot = await start(discord_api, make_service(store, roster(fake("alpha", reply)), **settings))
    asked = await bot.say(f"<@{BOT_ID}> When do deploys run?", mentions=[BOT])
    await bot.client.close()
    (answer,) = discord_api.posted(asked)
    return answer


async def test_a_contradicted_sentence_is_marked_and_the_footer_says_so(
    discord_api: FakeDiscord, store: Store
) -> None:
    (embed,) = (await mentioned(discord_api, store, CONTRADICTED))["embeds"]
    assert embed["description"] == MARKED
    assert embed["footer"] == {"text": "[!] 1 sentence conflicts with the sources"}
    assert embed["fields"][0]["name"] == "Sources"  # the sources stay where they were


async def test_both_kinds_are_counted_apart_and_a_general_remark_is_not_marked(
    discord_api: FakeDiscord, store: Store
) -> None:
    reply = CONTRADICTED + " Rollbacks take 10 minutes. Hotfixes skip the queue on Fridays."
    reply += " Hotfixes are usually quick."  # in no passage, yet it names nothing: unmarked
    (embed,) = (await mentioned(discord_api, store, reply))["embeds"]
    assert embed["description"].endswith(
        "10 minutes [?]. Hotfixes skip the queue on Fridays [?]. Hotfixes are usually quick."
    )
    assert embed["footer"]["text"] == (
        "[!] 1 sentence conflicts with the sources · [?] 2 state a number or name not in them"
    )


async def test_a_right_answer_and_its_question_get_no_mark_and_no_footer(
    discord_api: FakeDiscord, store: Store
) -> None:
    reply = "Deploys run at noon [1]. Shall I post the rollback steps too?"
    (embed,) = (await mentioned(discord_api, store, reply))["embeds"]
    assert embed["description"] == reply
    assert "footer" not in embed


async def test_the_channel_switch_turns_the_flags_off(
    discord_api: FakeDiscord, store: Store
) -> None:
    quiet = {str(CHANNEL_ID): False}
    answer = await mentioned(discord_api, store, CONTRADICTED, channel_faithfulness_flags=quiet)
    (embed,) = answer["embeds"]
    assert embed["description"] == CONTRADICTED and "footer" not in embed


async def test_off_everywhere_but_on_in_one_channel(discord_api: FakeDiscord, store: Store) -> None:
    answer = await mentioned(
        discord_api,
        store,
        CONTRADICTED,
        faithfulness_flags=False,
        channel_faithfulness_flags={str(CHANNEL_ID): True},
    )
    assert answer["embeds"][0]["description"] == MARKED


async def test_a_streamed_slash_answer_gets_its_marks_in_the_final_edit(
    discord_api: FakeDiscord, store: Store, monkeypatch, closing
) -> None:
    monkeypatch.setattr("bot.discord.commands.EDIT_INTERVAL", 0.1)
    words = [f"{word} " for word in CONTRADICTED.split()]
    server = discord_api.server
    server.route("POST", "/v1/chat/completions", openai_stream(words, pace=0.05))
    bot = await start(discord_api, make_service(store, closing(hosted("gpt", server.url))))
    _, token = await bot.slash("ask", question="When do deploys run?")
    await bot.client.close()
    *partials, final = server.seen(f"{API}/webhooks/900/{token}/messages/*", "PATCH")
    assert partials and all("[!]" not in (p.body.get("content") or "") for p in partials)
    (embed,) = final.body["embeds"]
    assert embed["description"] == MARKED
    assert embed["footer"]["text"] == "[!] 1 sentence conflicts with the sources"
