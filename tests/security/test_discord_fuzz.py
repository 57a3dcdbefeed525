"""Hostile Discord interactions fed to the client's connection state as the gateway would:
forged and foreign vote buttons, unknown custom ids, broken modal submissions, huge and
unknown slash commands. Each is refused cleanly: no vote or thumb stored, nothing sent
that shows a stack trace, and the client keeps answering."""

from __future__ import annotations

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.store import Store
from bot import messages
from tests.bot.discord.conftest import Discord, make_service, start
from tests.fakes.discord_api import CHANNEL_ID, FakeDiscord, text_channel

from .conftest import HUGE, JSON, assert_no_traceback

FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ELSEWHERE = 601
CHOICES = st.sampled_from([*messages.CHOICE_LABELS, "c", ""])
FORGED = st.integers(min_value=1000, max_value=10**30) | st.integers(max_value=0)
EVE = 666


@pytest.fixture
def live(loop_thread, fake_api, monkeypatch):
    """A logged-in client over a battle service, one battle (id 1) shown in CHANNEL_ID."""
    api = FakeDiscord(fake_api)
    monkeypatch.setattr(discord.http.Route, "BASE", api.base)

    async def begin() -> tuple[Discord, Store, dict]:
        store = await Store.open(":memory:")
        bot = await start(api, make_service(store, battle_share=1.0))
        _, token = await bot.slash("ask", question="How do I roll back?")
        (post,) = api.shown(token)
        return bot, store, api.message(CHANNEL_ID, post)

    bot, store, message = loop_thread.run(begin())
    yield bot, store, message
    loop_thread.run(bot.client.close())
    loop_thread.run(store.close())


def _elsewhere(api: FakeDiscord, kind: str) -> dict:
    """Where a forged click comes from: another channel, or a thread of another channel."""
    if kind == "channel":
        return text_channel(ELSEWHERE)
    return api.thread(ELSEWHERE, 7001, "elsewhere")


async def _nothing_rated(store: Store) -> None:
    assert await store.pair_counts() == []
    assert await store.thumb_counts() == {}
    assert await store.battle_votes([1]) == []


def _check(loop_thread, bot: Discord, store: Store) -> None:
    loop_thread.run(_nothing_rated(store))
    assert_no_traceback(bot.api.server)


CUSTOM_IDS = st.one_of(
    CHOICES.map(lambda c: f"parley:vote:1:{c}"),  # the real battle, from elsewhere
    st.tuples(FORGED, CHOICES).map(lambda t: f"parley:vote:{t[0]}:{t[1]}"),
    FORGED.map(lambda n: f"parley:thumb:{n}:up"),
    FORGED.map(lambda n: f"parley:thumb:{n}:down"),
    st.text(max_size=40),
    st.just("parley:vote:" + "9" * 5000 + ":a"),
)


@FUZZ
@given(data=st.data())
def test_forged_and_foreign_clicks_store_nothing(live, loop_thread, data) -> None:
    bot, store, message = live
    # the two keys discord.py's gateway parser needs are there; the rest is junk
    junk = data.draw(st.dictionaries(st.sampled_from(["values", "type", "x"]), JSON))
    kind = data.draw(st.sampled_from([2, 2, 3, 5, 8, 99]))
    body = {**junk, "custom_id": data.draw(CUSTOM_IDS), "component_type": kind}
    where = _elsewhere(bot.api, data.draw(st.sampled_from(["channel", "thread"])))
    loop_thread.run(bot.interaction(3, body, user_id=EVE, channel=where, message=message))
    _check(loop_thread, bot, store)


@FUZZ
@given(
    custom_id=FORGED.map(lambda n: f"parley:reason:{n}") | st.text(max_size=30),
    components=st.lists(JSON, max_size=3),
    reason=st.text(max_size=50) | st.just(HUGE),
)
def test_forged_reason_forms_store_nothing(live, loop_thread, custom_id, components, reason):
    bot, store, message = live
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": "reason", "value": reason}]}]
    body = {"custom_id": custom_id, "components": [*components, *rows]}
    loop_thread.run(bot.interaction(5, body, user_id=EVE, message=message))
    _check(loop_thread, bot, store)


@FUZZ
@given(
    name=st.sampled_from(["ask", "leaderboard", "reindex", "unknown"]),
    question=st.text(max_size=100) | st.just(HUGE),
)
def test_huge_and_unknown_commands_fail_cleanly(live, loop_thread, name, question) -> None:
    bot, store, _ = live
    loop_thread.run(bot.slash(name, question=question, user_id=EVE))
    _check(loop_thread, bot, store)


def test_a_vote_from_another_channel_is_refused_privately_and_a_home_vote_counts(
    live, loop_thread
) -> None:
    bot, store, message = live
    for where in ("channel", "thread"):
        clicked, _ = loop_thread.run(
            bot.interaction(
                3,
                {"custom_id": "parley:vote:1:a", "component_type": 2},
                channel=_elsewhere(bot.api, where),
                message=message,
            )
        )
        (refusal,) = bot.api.callbacks(clicked)
        assert refusal["data"]["content"] == messages.foreign_battle()
        assert refusal["data"]["flags"] == 64  # only the clicker sees it
    _check(loop_thread, bot, store)
    loop_thread.run(bot.click("parley:vote:1:a", message))
    assert len(loop_thread.run(store.battle_votes([1]))) == 1


def test_the_client_keeps_answering_after_junk(live, loop_thread) -> None:
    bot, store, message = live
    loop_thread.run(bot.click("parley:vote:1:zzz", message, user_id=EVE))
    loop_thread.run(bot.submit("parley:reason:x", {"reason": "no"}, message))
    _, token = loop_thread.run(bot.slash("ask", question="And how do I deploy?"))
    (post,) = bot.api.shown(token)
    assert [e["title"] for e in post["embeds"]] == ["Model A", "Model B"]
    _check(loop_thread, bot, store)
