"""Files attached to Discord messages and to /ask, at the wire: raw gateway payloads in,
the fake Discord's CDN serving the bytes at their signed URLs, the answer citing the
file."""

from __future__ import annotations

import json

from arena.store import Store
from tests.fakes.discord_api import API, BOT, BOT_ID, CHANNEL_ID, FakeDiscord

from .conftest import Discord, start

CONTRACT = b"""# Vendor contract

## Term

This agreement renews automatically on 1 March 2027 unless either party gives
ninety days' written notice.
"""
DM = 8888


def shown(posted: dict) -> str:
    """What a sent message shows: its content and its embeds (answer, sources)."""
    return (posted.get("content") or "") + json.dumps(posted.get("embeds") or [])


def contract(api: FakeDiscord, channel_id: int = DM, **kw) -> list[dict]:
    return [api.attachment("contract.md", CONTRACT, "text/markdown", channel_id=channel_id, **kw)]


async def test_a_dm_with_a_document_is_answered_from_it_and_so_is_the_next_message(
    bot: Discord, discord_api: FakeDiscord, store: Store
) -> None:
    files = contract(discord_api)
    await bot.say("When does the contract renew?", channel_id=DM, guild=False, attachments=files)
    (download,) = discord_api.cdn_requests()
    assert download.path.endswith("/contract.md") and "authorization" not in download.headers
    (answer,) = discord_api.posted(DM)
    assert "[1] contract.md" in shown(answer)
    await bot.say("How much notice is needed?", channel_id=DM, guild=False)
    _, follow_up = discord_api.posted(DM)
    assert "[1] contract.md" in shown(follow_up)
    assert len(discord_api.cdn_requests()) == 1  # kept for the conversation
    (kept,) = await store.thread_attachments("discord", str(DM), str(DM))
    assert kept.name == "contract.md"


async def test_a_file_alone_with_a_mention_starts_a_thread_that_follow_ups_use(
    bot: Discord, discord_api: FakeDiscord
) -> None:
    files = contract(discord_api, CHANNEL_ID)
    asked = await bot.say(f"<@{BOT_ID}>", mentions=[BOT], attachments=files)
    (started,) = discord_api.server.seen(f"{API}/channels/{CHANNEL_ID}/messages/{asked}/threads")
    assert started.body["name"] == "contract.md"
    (receipt,) = discord_api.posted(asked)  # in the thread, whose id is the message's
    assert "I read contract.md (1 passage). Ask me about it in this thread." in shown(receipt)
    bot.thread_created(discord_api.thread(CHANNEL_ID, asked, "contract.md"))
    await bot.say("When does it renew?", channel_id=asked)  # no mention needed
    _, answer = discord_api.posted(asked)
    assert "[1] contract.md" in shown(answer)


async def test_an_image_gets_a_notice_and_the_question_its_answer(
    bot: Discord, discord_api: FakeDiscord
) -> None:
    files = [discord_api.attachment("diagram.png", b"\x89PNG\r\n", "image/png", channel_id=DM)]
    await bot.say("How do I roll back?", channel_id=DM, guild=False, attachments=files)
    assert discord_api.cdn_requests() == []
    (answer,) = discord_api.posted(DM)
    assert "I can't read diagram.png: I read MD, RST, TXT, HTML, PDF" in shown(answer)
    assert "Run shipit rollback" in shown(answer)


async def test_an_oversized_file_is_never_downloaded(
    bot: Discord, discord_api: FakeDiscord
) -> None:
    files = contract(discord_api, size=25_000_000)
    await bot.say("When does the contract renew?", channel_id=DM, guild=False, attachments=files)
    assert discord_api.cdn_requests() == []
    (answer,) = discord_api.posted(DM)
    assert "it is 25.0 MB and I read files up to 20 MB" in shown(answer)


async def test_an_expired_link_is_named_and_the_question_answered(
    bot: Discord, discord_api: FakeDiscord
) -> None:
    (file,) = contract(discord_api)
    unsigned = {**file, "url": file["url"].split("?")[0]}
    await bot.say("How do I roll back?", channel_id=DM, guild=False, attachments=[unsigned])
    assert len(discord_api.cdn_requests()) == 1
    (answer,) = discord_api.posted(DM)
    assert "I couldn't download contract.md (Discord no longer has it" in shown(answer)
    assert "Run shipit rollback" in shown(answer)


async def test_ask_with_a_file_answers_from_it(bot: Discord, discord_api: FakeDiscord) -> None:
    (file,) = contract(discord_api, CHANNEL_ID)
    resolved = {"attachments": {file["id"]: file}}
    _, token = await bot.slash(
        "ask", question="When does the contract renew?", file=file["id"], resolved=resolved
    )
    (answer,) = discord_api.shown(token)
    assert "[1] contract.md" in shown(answer)
    assert len(discord_api.cdn_requests()) == 1


async def test_a_message_with_only_a_file_in_parleys_thread_is_read(
    discord_api: FakeDiscord, store
) -> None:
    """With the message-content intent off, a thread message arrives with neither text
    nor files and is left alone; one that carries a file is for Parley."""
    from .conftest import make_service

    bot = await start(discord_api, make_service(store))
    asked = await bot.say(f"<@{BOT_ID}> How do I roll back?", mentions=[BOT])
    bot.thread_created(discord_api.thread(CHANNEL_ID, asked, "How do I roll back?"))
    await bot.say("", channel_id=asked, attachments=contract(discord_api, asked))
    await bot.client.close()
    _, receipt = discord_api.posted(asked)
    assert "I read contract.md" in shown(receipt)
