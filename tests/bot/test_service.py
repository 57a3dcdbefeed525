"""The platform-neutral service: battles, failures, votes, thumbs and thread history,
with a real in-memory store and fake providers that are real classes."""

from __future__ import annotations

import random

import pytest

from arena.errors import ProviderUnavailable, VoteRefused
from arena.roster import Roster
from arena.store import Store
from bot.service import Ask, Service
from knowledge.types import Hit, Passage
from tests.fakes.providers import fake, roster

HITS = [Hit(Passage("p1", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.9)]


@pytest.fixture
async def store():
    store = await Store.open(":memory:")
    yield store
    await store.close()


def service(
    store: Store, contestants: Roster, battle_share: float = 1.0, searched: list | None = None
) -> Service:
    def search(text: str, k: int) -> list[Hit]:
        if searched is not None:
            searched.append(text)
        return HITS[:k]

    return Service(
        search=search,
        roster=contestants,
        store=store,
        top_k=5,
        battle_share=battle_share,
        rng=random.Random(7),
    )


def ask(text: str = "How do I roll back?", user: str = "ana", thread: str | None = "t1") -> Ask:
    return Ask(text, user, "eng", thread, "slack")


async def test_battle_is_anonymous_and_the_vote_reveals_names(store: Store) -> None:
    svc = service(store, roster(fake("alpha"), fake("beta")))
    reply = await svc.ask(ask())
    assert reply.is_battle
    assert [s.label for s in reply.answers] == ["Model A", "Model B"]
    shown = [s.answer.model for s in reply.answers]
    result = await svc.vote(reply.battle_id, "ana", "a")
    assert (result.model_a, result.model_b, result.replaced) == (shown[0], shown[1], False)
    changed = await svc.vote(reply.battle_id, "ana", "both_bad")
    assert changed.replaced
    (counts,) = await store.pair_counts()
    assert counts.total == 1 and counts.both_bad == 1


async def test_a_failed_side_leaves_a_single_answer_and_no_battle(store: Store) -> None:
    svc = service(
        store, roster(fake("alpha", ProviderUnavailable("alpha", "HTTP 503")), fake("beta"))
    )
    reply = await svc.ask(ask())
    assert not reply.is_battle
    assert [s.answer.model for s in reply.answers] == ["beta"]
    assert reply.notices == ["Model alpha is unavailable right now (service unavailable)."]


async def test_every_model_failing_gives_a_clear_message(store: Store) -> None:
    down = ProviderUnavailable("alpha", "HTTP 503")
    svc = service(store, roster(fake("alpha", down)), battle_share=0)
    reply = await svc.ask(ask())
    assert reply.answers == []
    assert reply.notices[0].startswith("No model could answer right now.")


async def test_empty_question_is_refused_before_anything_runs(store: Store) -> None:
    provider = fake("alpha")
    reply = await service(store, roster(provider)).ask(ask("   "))
    assert reply.answers == [] and "Ask me a question" in reply.notices[0]
    assert provider.prompts == []


async def test_follow_up_questions_carry_the_thread(store: Store) -> None:
    provider = fake("alpha", "Use shipit rollback [1].", "It takes three minutes [1].")
    svc = service(store, roster(provider), battle_share=0)
    await svc.ask(ask("How do I roll back?"))
    await svc.ask(ask("How long does it take?"))
    await svc.ask(ask("Unrelated", thread="t2"))
    second, third = provider.prompts[1], provider.prompts[2]
    assert [m["content"] for m in second.messages[:2]] == [
        "How do I roll back?",
        "Use shipit rollback [1].",
    ]
    assert len(third.messages) == 1  # another thread starts fresh


async def test_follow_ups_search_with_the_previous_question(store: Store) -> None:
    searched: list[str] = []
    svc = service(store, roster(fake("alpha")), battle_share=0, searched=searched)
    await svc.ask(ask("Who owns billing-worker?"))
    await svc.ask(ask("And when does it run?"))
    assert searched == [
        "Who owns billing-worker?",
        "Who owns billing-worker?\nAnd when does it run?",
    ]


async def test_votes_on_unknown_battles_are_refused(store: Store) -> None:
    svc = service(store, roster(fake("alpha"), fake("beta")))
    with pytest.raises(VoteRefused, match="no battle 999"):
        await svc.vote(999, "ana", "a")


async def test_thumbs_replace_earlier_thumbs(store: Store) -> None:
    svc = service(store, roster(fake("alpha")), battle_share=0)
    reply = await svc.ask(ask())
    answer_id = reply.answers[0].answer_id
    await svc.thumb(answer_id, "ana", 1)
    await svc.thumb(answer_id, "ana", -1)
    await svc.thumb(answer_id, "bo", 1)
    assert await store.thumb_counts() == {"alpha": (1, 1)}


async def test_named_model_is_used_and_battle_share_respected(store: Store) -> None:
    svc = service(store, roster(fake("alpha"), fake("beta")), battle_share=1.0)
    reply = await svc.ask(ask(), model="beta")
    assert not reply.is_battle and reply.answers[0].answer.model == "beta"
    quiet = service(store, roster(fake("alpha"), fake("beta")), battle_share=0.0)
    assert not any([(await quiet.ask(ask())).is_battle for _ in range(10)])
