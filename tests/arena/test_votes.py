"""Votes and thumbs: one live vote per user per battle, exact pair counts, refusals, on
SQLite and on PostgreSQL; there also across two instances and through a server restart."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from arena.errors import StoreError, VoteRefused
from arena.store import PairCount, Store
from arena.types import CHOICES, Answer, Choice
from arena.votes import VoteBatcher, outcome_column

pytestmark = pytest.mark.both_engines


async def make_battle(
    store: Store, left: str, right: str, *, channel: str = "general", error: str | None = None
) -> int:
    question = await store.record_question(
        platform="slack", channel=channel, user="asker", thread=None, text="q?", hits=[]
    )
    left_id = await store.record_answer(question, Answer(left, text="left"))
    right_id = await store.record_answer(question, Answer(right, text="", error=error))
    return await store.record_battle(question, left_id, right_id)


async def test_the_same_vote_twice_counts_once(store: Store) -> None:
    battle = await make_battle(store, "alpha", "beta")
    first = await store.record_vote(battle, "ann", "a")
    again = await store.record_vote(battle, "ann", "a")
    assert (first.replaced, again.replaced) == (False, True)
    assert (first.model_a, first.model_b) == ("alpha", "beta")
    assert await store.pair_counts() == [PairCount("alpha", "beta", a_wins=1)]


async def test_a_changed_vote_moves_the_count(store: Store) -> None:
    battle = await make_battle(store, "alpha", "beta")
    await store.record_vote(battle, "ann", "a")
    await store.record_vote(battle, "ann", "tie")
    assert await store.pair_counts() == [PairCount("alpha", "beta", ties=1)]
    await store.record_vote(battle, "ann", "both_bad")
    assert await store.pair_counts() == [PairCount("alpha", "beta", both_bad=1)]
    assert [r.choice async for r in store.iter_battles()] == ["both_bad"]


async def test_each_user_is_one_outcome(store: Store) -> None:
    battle = await make_battle(store, "alpha", "beta")
    for user, choice in [("ann", "a"), ("bob", "a"), ("cy", "b"), ("dee", "tie")]:
        await store.record_vote(battle, user, choice)
    assert await store.pair_counts() == [PairCount("alpha", "beta", 2, 1, 1, 0)]


async def test_counts_keep_models_in_name_order_and_flip_the_outcome(store: Store) -> None:
    battle = await make_battle(store, "zeta", "alpha")  # zeta shown as A
    result = await store.record_vote(battle, "ann", "a")
    assert (result.model_a, result.model_b) == ("zeta", "alpha")
    assert await store.pair_counts() == [PairCount("alpha", "zeta", b_wins=1)]
    assert outcome_column("zeta", "alpha", "b") == ("alpha", "zeta", "a_wins")
    assert outcome_column("alpha", "zeta", "tie") == ("alpha", "zeta", "ties")


async def test_pair_counts_per_channel_and_summed(store: Store) -> None:
    general = await make_battle(store, "alpha", "beta", channel="general")
    random_ = await make_battle(store, "beta", "alpha", channel="random")
    other = await make_battle(store, "alpha", "gamma", channel="random")
    await store.record_vote(general, "ann", "a")
    await store.record_vote(random_, "ann", "a")
    await store.record_vote(other, "ann", "both_bad")
    assert await store.pair_counts("general") == [PairCount("alpha", "beta", a_wins=1)]
    assert await store.pair_counts("random") == [
        PairCount("alpha", "beta", b_wins=1),
        PairCount("alpha", "gamma", both_bad=1),
    ]
    assert await store.pair_counts() == [
        PairCount("alpha", "beta", 1, 1, 0, 0),
        PairCount("alpha", "gamma", both_bad=1),
    ]
    assert await store.pair_counts("nowhere") == []


async def test_a_pair_left_with_no_outcome_is_not_listed(store: Store) -> None:
    """A counts row at zero (nothing written today leaves one, an older copy might) is
    no battle: the fit would see a pair that never met."""
    battle = await make_battle(store, "alpha", "beta")
    await store.record_vote(battle, "ann", "a")
    await store._write(
        lambda s: s.execute(
            "INSERT INTO pair_counts (channel, model_a, model_b)"
            " VALUES ('general', 'beta', 'gamma')"
        )
    )
    assert await store.pair_counts() == [PairCount("alpha", "beta", a_wins=1)]


async def test_refusals_say_why_and_change_nothing(store: Store) -> None:
    good = await make_battle(store, "alpha", "beta")
    failed = await make_battle(store, "alpha", "beta", error="timed out")
    with pytest.raises(VoteRefused, match="no battle 999"):
        await store.record_vote(999, "ann", "a")
    with pytest.raises(VoteRefused, match="failed answer"):
        await store.record_vote(failed, "ann", "a")
    with pytest.raises(VoteRefused, match="unknown choice"):
        await store.record_vote(good, "ann", "left")  # type: ignore[arg-type]
    assert await store.pair_counts() == []
    assert [r async for r in store.iter_battles()] == []


async def test_a_refused_vote_does_not_sink_the_votes_sharing_its_batch(store: Store) -> None:
    battle = await make_battle(store, "alpha", "beta")
    results = await asyncio.gather(
        store.record_vote(battle, "ann", "a"),
        store.record_vote(12345, "bob", "a"),
        store.record_vote(battle, "cy", "b"),
        return_exceptions=True,
    )
    assert isinstance(results[1], VoteRefused)
    assert not isinstance(results[0], Exception) and not isinstance(results[2], Exception)
    assert await store.pair_counts() == [PairCount("alpha", "beta", 1, 1, 0, 0)]


async def test_concurrent_voters_lose_nothing_and_double_nothing(durable_target: str) -> None:
    store = await Store.open(durable_target)
    models = ["m0", "m1", "m2", "m3", "m4"]
    rng = random.Random(7)
    battles = {}
    for _ in range(40):
        left, right = rng.sample(models, 2)
        battles[await make_battle(store, left, right)] = (left, right)
    told: dict[tuple[int, str], Choice] = {}

    async def voter(name: str) -> None:
        mine = random.Random(name)
        for _ in range(30):  # with 40 battles, many votes replace an earlier one
            battle = mine.choice(list(battles))
            result = await store.record_vote(battle, name, mine.choice(CHOICES))
            told[(battle, name)] = result.choice

    await asyncio.gather(*(voter(f"user-{n}") for n in range(60)))
    expected: Counter[tuple[str, str, str]] = Counter()
    for (battle, _), choice in told.items():
        expected[outcome_column(*battles[battle], choice)] += 1
    counted: Counter[tuple[str, str, str]] = Counter()
    for pair in await store.pair_counts():
        for column in ("a_wins", "b_wins", "ties", "both_bad"):
            counted[(pair.model_a, pair.model_b, column)] = getattr(pair, column)
    stored = {(r.question_id, r.user): r.choice async for r in store.iter_battles()}
    await store.close()
    assert +counted == expected  # + drops zero entries
    assert len(stored) == len(told)
    assert Counter(stored.values()) == Counter(told.values())
    assert sum(expected.values()) == len(told)


async def test_votes_are_durable_once_acknowledged(durable_target: str) -> None:
    store = await Store.open(durable_target)
    battle = await make_battle(store, "alpha", "beta")
    await asyncio.gather(*(store.record_vote(battle, f"u{n}", "b") for n in range(25)))
    await store.close()
    reopened = await Store.open(durable_target)
    try:
        assert await reopened.pair_counts() == [PairCount("alpha", "beta", b_wins=25)]
    finally:
        await reopened.close()


async def test_one_thumb_per_user_per_answer(store: Store) -> None:
    question = await store.record_question(
        platform="discord", channel="help", user="ann", thread=None, text="q", hits=[]
    )
    answer = await store.record_answer(question, Answer("alpha", text="yes"))
    await store.record_thumb(answer, "ann", 1)
    await store.record_thumb(answer, "ann", 1)
    await store.record_thumb(answer, "bob", 1)
    assert await store.thumb_counts() == {"alpha": (2, 0)}
    await store.record_thumb(answer, "ann", -1)  # a changed mind replaces the thumb
    assert await store.thumb_counts() == {"alpha": (1, 1)}
    assert await store.thumb_counts("help") == {"alpha": (1, 1)}
    assert await store.thumb_counts("elsewhere") == {}


async def test_bad_thumbs_are_refused(store: Store) -> None:
    question = await store.record_question(
        platform="discord", channel="help", user="ann", thread=None, text="q", hits=[]
    )
    answer = await store.record_answer(question, Answer("alpha", text="yes"))
    with pytest.raises(VoteRefused, match="no answer"):
        await store.record_thumb(answer + 1, "ann", 1)
    with pytest.raises(VoteRefused, match=r"\+1 or -1"):
        await store.record_thumb(answer, "ann", 5)
    assert await store.thumb_counts() == {}


async def test_a_battle_needs_two_models_answering_its_question(store: Store) -> None:
    first = await store.record_question(
        platform="slack", channel="c", user="u", thread=None, text="one", hits=[]
    )
    second = await store.record_question(
        platform="slack", channel="c", user="u", thread=None, text="two", hits=[]
    )
    a1 = await store.record_answer(first, Answer("alpha", text="x"))
    a2 = await store.record_answer(first, Answer("alpha", text="y"))
    b1 = await store.record_answer(second, Answer("beta", text="z"))
    with pytest.raises(StoreError, match="two different models"):
        await store.record_battle(first, a1, a2)
    with pytest.raises(StoreError, match="two different models"):
        await store.record_battle(first, a1, b1)


async def test_closing_the_store_first_writes_the_votes_in_flight(tmp_path) -> None:
    """Votes submitted just before ``close()`` (a bot shutting down) are written and
    acknowledged, not cut off with the connection."""
    path = tmp_path / "arena.db"
    store = await Store.open(path)
    battle = await make_battle(store, "alpha", "beta")
    voting = [asyncio.create_task(store.record_vote(battle, f"u{n}", "a")) for n in range(5)]
    await asyncio.sleep(0)  # every vote submitted, their batch not yet written
    await store.close()
    assert all(task.done() and task.exception() is None for task in voting)
    reopened = await Store.open(path)
    try:
        assert await reopened.pair_counts() == [PairCount("alpha", "beta", a_wins=5)]
    finally:
        await reopened.close()


async def test_a_failed_batch_fails_each_of_its_voters_and_the_next_batch_runs() -> None:
    """A write that fails (the disk is full) reaches every voter in its batch, none
    waits forever, and the next vote gets a fresh transaction."""
    attempts: list[int] = []

    @asynccontextmanager
    async def transaction() -> AsyncIterator[None]:
        attempts.append(len(attempts))
        raise StoreError("database or disk is full")
        yield

    batcher = VoteBatcher(transaction)  # type: ignore[arg-type]
    voting = (batcher.submit(1, f"u{n}", "a") for n in range(3))
    failed = await asyncio.wait_for(asyncio.gather(*voting, return_exceptions=True), 10)
    assert [str(error) for error in failed] == ["database or disk is full"] * 3
    with pytest.raises(StoreError):
        await asyncio.wait_for(batcher.submit(1, "bo", "b"), 10)
    assert attempts == [0, 1]


async def test_a_stopped_vote_writer_fails_every_waiting_voter() -> None:
    """Cancelled mid-batch (the loop shutting down), the writer fails the votes of its
    batch and those queued behind it, so no voter waits forever."""
    writing = asyncio.Event()

    @asynccontextmanager
    async def transaction() -> AsyncIterator[None]:
        writing.set()
        await asyncio.Event().wait()  # a write that never ends
        yield

    batcher = VoteBatcher(transaction)  # type: ignore[arg-type]
    first = asyncio.create_task(batcher.submit(1, "ana", "a"))
    await writing.wait()
    queued = asyncio.create_task(batcher.submit(2, "bo", "b"))  # waits for the next batch
    await asyncio.sleep(0)
    batcher._flusher.cancel()  # type: ignore[union-attr]
    stopped = await asyncio.wait_for(asyncio.gather(first, queued, return_exceptions=True), 10)
    assert [type(error) for error in stopped] == [StoreError, StoreError]
    assert {str(error) for error in stopped} == {"the vote writer was stopped"}
    await asyncio.wait_for(batcher.drain(), 10)  # a stopped writer is drained: nothing left
    assert batcher._flusher.cancelled()  # type: ignore[union-attr]  # stopped, not failed


async def test_a_store_whose_vote_writer_was_stopped_still_closes(tmp_path) -> None:
    """Shutting down after the writer was cancelled (the loop stopping mid-vote) closes
    the database: left open, its connection's thread would keep the process from exiting."""
    path = tmp_path / "arena.db"
    store = await Store.open(path)
    battle = await make_battle(store, "alpha", "beta")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the vote's transaction waits for this lock
    voting = asyncio.create_task(store.record_vote(battle, "ann", "a"))
    await asyncio.sleep(0.2)
    store._votes._flusher.cancel()  # type: ignore[union-attr]
    await asyncio.sleep(0.1)
    other.execute("ROLLBACK")
    other.close()
    with pytest.raises(StoreError, match="stopped"):
        await asyncio.wait_for(voting, 10)
    await asyncio.wait_for(store.close(), 10)
    with pytest.raises(ValueError, match="no active connection"):
        await store.votes_stored()


async def test_a_vote_failed_by_a_stopped_writer_is_never_written_later(store: Store) -> None:
    """A voter told "the vote writer was stopped" was told the truth: the next batch
    writes only its own vote, not the failed ones left queued behind the stop."""
    stopped_on, written_on = (
        await make_battle(store, "alpha", "beta"),
        await make_battle(store, "alpha", "gamma"),
    )
    writing = asyncio.Event()

    @asynccontextmanager
    async def transaction() -> AsyncIterator[object]:
        if not writing.is_set():  # the first write never ends; later ones are real
            writing.set()
            await asyncio.Event().wait()
        async with store._transaction() as session:
            yield session

    batcher = VoteBatcher(transaction)  # type: ignore[arg-type]
    first = asyncio.create_task(batcher.submit(stopped_on, "ana", "a"))
    await writing.wait()
    queued = asyncio.create_task(batcher.submit(stopped_on, "bo", "b"))
    await asyncio.sleep(0)
    batcher._flusher.cancel()  # type: ignore[union-attr]
    await asyncio.wait_for(asyncio.gather(first, queued, return_exceptions=True), 10)

    await asyncio.wait_for(batcher.submit(written_on, "cy", "tie"), 10)
    assert await store.votes_stored() == 1
    assert await store.pair_counts() == [PairCount("alpha", "gamma", ties=1)]
