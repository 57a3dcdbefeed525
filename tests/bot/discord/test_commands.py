"""Slash commands at the wire: raw INTERACTION_CREATE payloads go in, and the tests read
what the fake Discord made of Parley's responses (which messages exist, who sees them)
and what the store holds."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import pytest

from arena.errors import ProviderUnavailable
from arena.roster import Roster
from arena.store import Store
from arena.types import ModelSpec
from bot import messages
from bot.discord.embeds import CONTENT_LIMIT, DESCRIPTION_LIMIT, MESSAGE_EMBEDS_LIMIT
from tests.fakes.discord_api import (
    API,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    MANAGE_GUILD,
    FakeDiscord,
)
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, hosted, openai_stream, roster

from .conftest import USER_ID, Discord, make_service, report, start

HERE = {"platform": "discord", "channel": str(CHANNEL_ID)}  # where /ask is asked
MESSAGE, DEFERRED = 4, 5  # interaction callback types


def buttons(message: dict) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


async def battle(bot: Discord, api: FakeDiscord) -> dict:
    """Ask until the answer is shown; the battle's message as Discord holds it."""
    _, token = await bot.slash("ask", question="How do I roll back?")
    (post,) = api.shown(token)
    return post


async def test_login_syncs_the_commands_globally_or_to_configured_guilds(
    discord_api: FakeDiscord, store: Store
) -> None:
    bot = await start(discord_api, make_service(store))
    await bot.client.close()
    (synced,) = discord_api.server.seen("/api/v10/applications/900/commands", "PUT")
    assert sorted(c["name"] for c in synced.body) == ["ask", "leaderboard", "reindex"]
    bot = await start(discord_api, make_service(store), guilds=[GUILD_ID])
    await bot.client.close()
    (synced,) = discord_api.server.seen(f"/api/v10/applications/900/guilds/{GUILD_ID}/commands")
    assert len(synced.body) == 3


async def test_ask_defers_then_the_answer_replaces_thinking_for_everyone(
    bot: Discord, discord_api: FakeDiscord, store: Store
) -> None:
    interaction_id, token = await bot.slash("ask", question="How do I roll back?")
    assert discord_api.callbacks(interaction_id) == [{"type": DEFERRED}]
    (answer,) = discord_api.shown(token)
    assert answer["flags"] == 0  # public, and no longer loading
    (embed,) = answer["embeds"]
    assert embed["title"] == "alpha"
    assert embed["description"] == "Run shipit rollback [1]."
    assert embed["fields"] == [{"name": "Sources", "value": "[1] Deploys", "inline": False}]
    assert buttons(answer) == ["parley:thumb:1:up", "parley:thumb:1:down"]
    # the placeholder is edited on purpose, not through the deprecated first follow-up
    (edit,) = discord_api.edits(token)
    assert edit["allowed_mentions"] == {"parse": []}
    assert discord_api.followups(token) == []
    record = await store.answer_record(1)
    assert record is not None and (record.question, record.model) == (
        "How do I roll back?",
        "alpha",
    )
    asked = await store._rows("SELECT platform, channel, user, thread FROM questions")
    assert [tuple(row) for row in asked] == [("discord", str(CHANNEL_ID), str(USER_ID), None)]


async def test_ask_from_an_interaction_without_a_channel_object(
    bot: Discord, discord_api: FakeDiscord, store: Store
) -> None:
    """Discord documents ``channel`` as optional; ``channel_id`` names the channel."""
    _, token = await bot.slash("ask", question="How do I roll back?", channel_object=False)
    (answer,) = discord_api.shown(token)
    assert answer["embeds"][0]["description"] == "Run shipit rollback [1]."
    asked = await store._rows("SELECT channel, thread FROM questions")
    assert [tuple(row) for row in asked] == [(str(CHANNEL_ID), None)]


@pytest.mark.parametrize("question", ["x", "?"])
async def test_ask_with_no_question_is_told_how_privately_without_thinking_in_public(
    bot: Discord, discord_api: FakeDiscord, store: Store, question: str
) -> None:
    interaction_id, token = await bot.slash("ask", question=question)
    (callback,) = discord_api.callbacks(interaction_id)
    assert callback["type"] == MESSAGE  # answered at once, never deferred in public
    (hint,) = discord_api.shown(token)
    assert hint["content"] == messages.empty_question() and hint["flags"] == EPHEMERAL
    assert await store._rows("SELECT id FROM questions") == []


async def test_a_hosted_answer_is_edited_in_as_it_streams_then_posted_whole(
    discord_api: FakeDiscord, store: Store, monkeypatch, closing
) -> None:
    """The placeholder is replaced with the first text, edited at most once an interval,
    and its last edit is the whole answer with sources and thumbs, the partial text gone."""
    monkeypatch.setattr("bot.discord.commands.EDIT_INTERVAL", 0.2)
    words = ["@everyone "] + [f"word{i} " for i in range(20)] + ["done [1]."]
    server = discord_api.server
    server.route("POST", "/v1/chat/completions", openai_stream(words, pace=0.05))
    bot = await start(discord_api, make_service(store, closing(hosted("gpt", server.url))))
    _, token = await bot.slash("ask", question="How do I roll back?")
    await bot.client.close()
    edits = server.seen(f"/api/v10/webhooks/900/{token}/messages/*", "PATCH")
    assert edits[0].body["content"] == "@\u200beveryone …"  # shown with the first text
    assert len(edits) >= 3  # at least two partial edits and the final answer
    assert discord_api.followups(token) == []  # all of them the one message
    partial_at = [seen.at for seen in edits][:-1]
    assert all(b - a >= 0.15 for a, b in pairwise(partial_at))
    final = edits[-1].body
    assert final["content"] is None
    whole = "".join(words).replace("@", "@\u200b")
    assert final["embeds"][0]["description"] == whole.replace("[1].", "[1] [?].")
    note = "[?] 1 sentence states a number or name not in the sources"  # word0, word1...
    assert final["embeds"][0]["footer"]["text"] == note
    assert buttons(final) == ["parley:thumb:1:up", "parley:thumb:1:down"]
    assert all("@everyone" not in e.body["content"] for e in edits[:-1])
    (shown,) = discord_api.shown(token)
    assert shown["content"] == "" and buttons(shown) == buttons(final)


async def test_a_long_answer_is_split_within_discords_limits(
    discord_api: FakeDiscord, store: Store
) -> None:
    sentences = [
        f"Step {n} of the rollback runs `shipit rollback --step {n}` [1]." for n in range(250)
    ]
    long = " ".join(sentences)
    assert len(long) > 2 * DESCRIPTION_LIMIT
    bot = await start(discord_api, make_service(store, roster(fake("alpha", long))))
    _, token = await bot.slash("ask", question="How do I roll back, in detail?")
    await bot.client.close()
    posts = discord_api.shown(token)
    assert len(posts) >= 2 and not any(p["flags"] & EPHEMERAL for p in posts)
    embeds = [e for post in posts for e in post["embeds"]]
    assert len(embeds) >= 3
    assert all(len(e["description"]) <= DESCRIPTION_LIMIT for e in embeds)
    for post in posts:
        size = sum(len(e.get("title", "")) + len(e["description"]) for e in post["embeds"])
        size += sum(
            len(f["name"]) + len(f["value"]) for e in post["embeds"] for f in e.get("fields", [])
        )
        size += sum(len(e.get("footer", {}).get("text", "")) for e in post["embeds"])
        assert size <= MESSAGE_EMBEDS_LIMIT
    # the step numbers are in no source: every sentence is marked, the note in the footer
    marked = " ".join(s.replace("[1].", "[1] [?].") for s in sentences)
    assert " ".join(e["description"] for e in embeds).split() == marked.split()
    note = "[?] 250 sentences state a number or name not in the sources"
    assert embeds[-1]["footer"]["text"] == note
    assert embeds[0]["title"] == "alpha" and embeds[1]["title"] == "alpha (continued)"
    assert [bool(buttons(p)) for p in posts] == [False] * (len(posts) - 1) + [True]
    assert "fields" in embeds[-1]  # the sources close the answer


async def test_a_failed_model_is_explained_without_buttons(
    discord_api: FakeDiscord, store: Store
) -> None:
    down = roster(fake("alpha", ProviderUnavailable("alpha", "HTTP 503")))
    bot = await start(discord_api, make_service(store, down))
    _, token = await bot.slash("ask", question="How do I roll back?")
    await bot.client.close()
    (post,) = discord_api.shown(token)
    assert post["content"].startswith("No model could answer right now.")
    assert "unavailable" in post["content"]
    assert post["embeds"] == [] and buttons(post) == []


async def test_one_failed_side_of_a_battle_leaves_a_single_answer_and_a_notice(
    discord_api: FakeDiscord, store: Store
) -> None:
    half = roster(fake("alpha", ProviderUnavailable("alpha", "HTTP 503")), fake("beta"))
    bot = await start(discord_api, make_service(store, half, battle_share=1.0))
    post = await battle(bot, discord_api)
    await bot.client.close()
    assert "alpha is unavailable" in post["content"]
    assert [e["title"] for e in post["embeds"]] == ["beta"]
    assert buttons(post) == ["parley:thumb:2:up", "parley:thumb:2:down"]  # beta's answer


async def test_ask_inside_a_thread_carries_the_threads_history(
    discord_api: FakeDiscord, store: Store
) -> None:
    alpha = fake("alpha", "Run shipit rollback [1].", "At noon [1].")
    bot = await start(discord_api, make_service(store, roster(alpha)))
    thread = discord_api.thread(CHANNEL_ID, 7777, "Rollbacks")
    await bot.slash("ask", question="How do I roll back?", channel_payload=thread)
    await bot.slash("ask", question="And when?", channel_payload=thread)
    await bot.client.close()
    assert "How do I roll back?" in alpha.prompts[-1].messages[0]["content"]
    rows = await store._rows("SELECT channel, thread FROM questions")
    assert {tuple(r) for r in rows} == {(str(CHANNEL_ID), "7777")}


async def test_a_failure_before_the_answer_replaces_the_placeholder_on_purpose(
    discord_api: FakeDiscord, tmp_path: Path
) -> None:
    """A follow-up right after a public defer would only edit the placeholder (its
    ephemeral flag ignored), so Parley edits it itself: the "thinking…" everyone saw
    becomes the apology, and nothing is left loading."""
    store = await Store.open(tmp_path / "parley.db")
    bot = await start(discord_api, make_service(store))
    await store.close()  # the database is gone: storing the question fails
    _, token = await bot.slash("ask", question="How do I roll back?")
    await bot.client.close()
    (sorry,) = discord_api.shown(token)
    assert sorry["content"] == messages.unexpected_error()
    assert discord_api.followups(token) == []
    assert [e["content"] for e in discord_api.edits(token)] == [messages.unexpected_error()]


async def test_a_failure_after_the_answer_is_shown_is_told_privately(
    discord_api: FakeDiscord, store: Store
) -> None:
    """Once the placeholder is gone, a follow-up makes a message of its own, and the
    ephemeral flag holds: only the asker sees the apology."""
    long = " ".join(f"Step {n} runs `shipit rollback --step {n}` [1]." for n in range(300))
    refused = Scripted(400, {"message": "Invalid Form Body", "code": 50035})
    discord_api.server.then("POST", f"{API}/webhooks/*", refused)  # the second part
    bot = await start(discord_api, make_service(store, roster(fake("alpha", long))))
    _, token = await bot.slash("ask", question="How do I roll back, in detail?")
    await bot.client.close()
    first, sorry = discord_api.shown(token)
    assert first["flags"] == 0 and first["embeds"][0]["title"] == "alpha"
    assert sorry["content"] == messages.unexpected_error()
    assert sorry["flags"] == EPHEMERAL


async def test_a_question_no_model_can_answer_yet_is_told_why(
    discord_api: FakeDiscord, store: Store
) -> None:
    """An error written for the user (here: every model left off, its key unset) is
    said as it is, on /ask and in a DM, not as "something went wrong"."""
    unset = (ModelSpec(name="gpt", provider="openai"), "OPENAI_API_KEY is not set")
    bot = await start(discord_api, make_service(store, Roster(entries=[], skipped=[unset])))
    _, token = await bot.slash("ask", question="How do I roll back?")
    await bot.say("How do I roll back?", channel_id=8888, guild=False)
    await bot.client.close()
    (told,) = discord_api.shown(token)
    (dm,) = discord_api.posted(8888)
    for reply in (told["content"], dm["content"]):
        assert "no model is ready to answer" in reply and "OPENAI_API_KEY is not set" in reply


class Indexer:
    """Stands in for the knowledge base's index: reports progress, counts its runs."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, paths, progress, passages):
        self.runs += 1
        for done in range(1, 3):
            progress(f"/hb/file{done}.md", done, 2)
            time.sleep(0.05)
        return report()


async def test_reindex_refuses_members_without_manage_server_privately(
    discord_api: FakeDiscord, store: Store
) -> None:
    index = Indexer()
    bot = await start(discord_api, make_service(store, index=index))
    interaction_id, token = await bot.slash("reindex")
    await bot.client.close()
    (deferred,) = discord_api.callbacks(interaction_id)
    assert deferred == {"type": DEFERRED, "data": {"flags": EPHEMERAL}}
    (refusal,) = discord_api.shown(token)
    assert refusal["content"] == messages.not_admin() and refusal["flags"] == EPHEMERAL
    assert index.runs == 0


async def test_reindex_by_a_server_manager_edits_one_message_with_progress(
    discord_api: FakeDiscord, store: Store
) -> None:
    index = Indexer()
    bot = await start(discord_api, make_service(store, index=index))
    _, token = await bot.slash("reindex", permissions=MANAGE_GUILD)
    await bot.client.close()
    texts = [e["content"] for e in discord_api.edits(token)]
    assert index.runs == 1
    assert texts[0].startswith("Re-indexing: 1 of 2 files")
    assert texts[-1] == messages.index_summary(report())
    assert all(len(t) <= CONTENT_LIMIT for t in texts)
    (summary,) = discord_api.shown(token)  # all of it in the one private message
    assert summary["content"] == texts[-1] and summary["flags"] == EPHEMERAL


async def test_reindex_by_a_configured_admin_without_the_permission(
    discord_api: FakeDiscord, store: Store
) -> None:
    index = Indexer()
    bot = await start(discord_api, make_service(store, index=index, admins=(f"discord:{USER_ID}",)))
    await bot.slash("reindex")
    await bot.client.close()
    assert index.runs == 1


async def test_a_reindex_that_outlives_its_interaction_sends_the_summary_by_dm(
    discord_api: FakeDiscord, store: Store
) -> None:
    """Discord's interaction token lasts 15 minutes; a longer re-index cannot edit its
    message any more (401, Invalid Webhook Token), so the summary reaches the admin by DM."""
    expired = Scripted(401, {"message": "Invalid Webhook Token", "code": 50027})
    discord_api.server.route("PATCH", f"{API}/webhooks/*", expired)
    bot = await start(discord_api, make_service(store, index=Indexer()))
    await bot.slash("reindex", permissions=MANAGE_GUILD)
    await bot.client.close()
    (dm,) = discord_api.direct_messages()
    assert dm["content"] == messages.index_summary(report())
    (opened,) = discord_api.server.seen(f"{API}/users/@me/channels", "POST")
    assert opened.body == {"recipient_id": USER_ID}


async def test_leaderboard_sends_a_table_and_the_chart(
    discord_api: FakeDiscord, store: Store
) -> None:
    service = make_service(store, battle_share=1.0)
    bot = await start(discord_api, service)
    _, token = await bot.slash("leaderboard")
    assert [m["content"] for m in discord_api.shown(token)] == [messages.no_votes_yet()]
    for user in range(3):
        await battle(bot, discord_api)
        await service.vote(user + 1, f"u{user}", "a", **HERE)
    _, token = await bot.slash("leaderboard")
    await bot.client.close()
    (seen,) = discord_api.server.seen(f"{API}/webhooks/900/{token}/messages/@original", "PATCH")
    (embed,) = seen.body["payload_json"]["embeds"]
    assert embed["title"] == "Leaderboard"
    assert not seen.body["payload_json"].get("content")  # no dashboard configured, no link
    assert "alpha" in embed["description"] and "beta" in embed["description"]
    rows = [r.split() for r in embed["description"].splitlines() if "* " in r and "votes" not in r]
    # rank, model*, score, interval, votes: a provisional row has no rank or interval
    assert len(rows) == 2 and all(r[0] == "–" and r[3] == "–" and r[4] == "3" for r in rows)
    # provisional (3 votes): the words every surface uses, its "* " kept from a bullet
    assert embed["description"].endswith("```\n\\" + messages.PROVISIONAL_NOTE)
    assert embed["image"]["url"] == "attachment://leaderboard.png"
    chart = seen.body["files[0]"]
    assert chart["filename"] == "leaderboard.png" and chart["bytes"].startswith(b"\x89PNG")
    (board,) = discord_api.shown(token)
    assert board["flags"] == 0 and board["embeds"][0]["title"] == "Leaderboard"


async def test_leaderboard_links_to_the_channels_dashboard_when_it_has_an_address(
    discord_api: FakeDiscord, store: Store
) -> None:
    service = make_service(store, battle_share=1.0)
    bot = await start(discord_api, service, web_url="https://parley.example.com")
    await battle(bot, discord_api)
    await service.vote(1, "u1", "a", **HERE)
    other = {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "general"}
    resolved = {"channels": {str(CHANNEL_ID): {**other, "permissions": "0"}}}
    _, token = await bot.slash("leaderboard", channel=CHANNEL_ID, resolved=resolved)
    _, everywhere = await bot.slash("leaderboard")
    await bot.client.close()
    (board,) = discord_api.shown(token)
    assert f"https://parley.example.com/?channel={CHANNEL_ID}" in board["content"]
    (board,) = discord_api.shown(everywhere)
    assert board["content"].endswith("https://parley.example.com/")


async def test_leaderboard_for_one_channel_counts_only_its_votes(
    discord_api: FakeDiscord, store: Store
) -> None:
    service = make_service(store, battle_share=1.0)
    bot = await start(discord_api, service)
    await battle(bot, discord_api)
    await service.vote(1, "u1", "a", **HERE)
    other = {"id": "601", "type": 0, "guild_id": str(GUILD_ID), "name": "random"}
    resolved = {"channels": {"601": {**other, "permissions": "0"}}}
    _, token = await bot.slash("leaderboard", channel=601, resolved=resolved)
    assert discord_api.shown(token)[0]["content"] == messages.no_votes_yet("<#601>")
    assert discord_api.shown(token)[0]["content"].startswith("No votes in <#601> yet.")
    resolved = {"channels": {str(CHANNEL_ID): {**other, "id": str(CHANNEL_ID), "permissions": "0"}}}
    _, token = await bot.slash("leaderboard", channel=CHANNEL_ID, resolved=resolved)
    await bot.client.close()
    (board,) = discord_api.shown(token)
    assert f"<#{CHANNEL_ID}>" in board["embeds"][0]["description"]
