"""The arena on a PostgreSQL server shared by several instances: migrations that wait
for each other, one live vote per user per battle and exact pair counts whichever
instance took the votes, and a server restart that costs at most the requests in flight."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from arena.errors import StoreError
from arena.migrations import MIGRATIONS, applied
from arena.store import Store
from arena.types import CHOICES, Answer, Choice
from arena.votes import outcome_column


async def make_battles(store: Store, n: int) -> dict[int, tuple[str, str]]:
    rng = random.Random(3)
    made = {}
    for _ in range(n):
        left, right = rng.sample(["m0", "m1", "m2", "m3"], 2)
        question = await store.record_question(
            platform="slack", channel="general", user="asker", thread=None, text="q", hits=[]
        )
        ids = [await store.record_answer(question, Answer(m, text=m)) for m in (left, right)]
        made[await store.record_battle(question, *ids)] = (left, right)
    return made


async def counts_and_votes(store: Store) -> tuple[Counter, dict[tuple[int, str], Choice]]:
    """The pair counts as stored, and the live votes as the votes table holds them."""
    counted: Counter[tuple[str, str, str]] = Counter()
    for pair in await store.pair_counts():
        for column in ("a_wins", "b_wins", "ties", "both_bad"):
            counted[(pair.model_a, pair.model_b, column)] = getattr(pair, column)
    rows = await store._rows('SELECT battle_id, "user", choice FROM votes')
    return +counted, {(battle, user): choice for battle, user, choice in rows}


def implied(votes: dict[tuple[int, str], Choice], battles: dict[int, tuple[str, str]]) -> Counter:
    """The pair counts the stored votes imply."""
    return Counter(
        outcome_column(*battles[battle], choice) for (battle, _), choice in votes.items()
    )


async def test_instances_starting_together_take_turns_at_the_migrations(pg_url: str) -> None:
    first, second, third = await asyncio.gather(*(Store.open(pg_url) for _ in range(3)))
    try:
        assert await applied(first._database) == [m.name for m in MIGRATIONS]
        assert first._instance == second._instance == third._instance  # one arena
        rows = await first._rows("SELECT name, COUNT(*) FROM _parley_migrations GROUP BY name")
        assert all(n == 1 for _, n in rows) and len(rows) == len(MIGRATIONS)
    finally:
        for store in (first, second, third):
            await store.close()


async def test_votes_through_two_instances_keep_one_vote_each_and_exact_counts(
    pg_url: str,
) -> None:
    one, two = await Store.open(pg_url), await Store.open(pg_url)
    try:
        battles = await make_battles(one, 12)
        told: dict[tuple[int, str], set[Choice]] = {}

        async def voter(name: str) -> None:
            rng = random.Random(name)
            for _ in range(25):  # 12 battles: most votes change an earlier one
                battle, choice = rng.choice(list(battles)), rng.choice(CHOICES)
                # the same user's vote reaches both instances at once (a retried click)
                results = await asyncio.gather(
                    one.record_vote(battle, name, choice), two.record_vote(battle, name, choice)
                )
                assert {r.choice for r in results} == {choice}
                told.setdefault((battle, name), set()).add(choice)

        await asyncio.gather(*(voter(f"user-{n}") for n in range(30)))
        counted, votes = await counts_and_votes(two)
    finally:
        await one.close()
        await two.close()
    assert votes.keys() == told.keys()  # one live vote per user per battle, none lost
    assert all(choice in told[key] for key, choice in votes.items())
    assert counted == implied(votes, battles)  # the counts are the stored votes


async def test_different_choices_racing_through_two_instances_count_once(pg_url: str) -> None:
    one, two = await Store.open(pg_url), await Store.open(pg_url)
    try:
        battles = await make_battles(one, 1)
        (battle,) = battles
        for n in range(40):
            await asyncio.gather(
                one.record_vote(battle, f"u{n % 5}", CHOICES[n % 4]),
                two.record_vote(battle, f"u{n % 5}", CHOICES[(n + 1) % 4]),
            )
        counted, votes = await counts_and_votes(one)
    finally:
        await one.close()
        await two.close()
    assert len(votes) == 5 and sum(counted.values()) == 5
    assert counted == implied(votes, battles)


async def test_a_server_restart_costs_at_most_the_requests_in_flight(postgres, pg_url: str) -> None:
    store = await Store.open(pg_url)
    try:
        battles = await make_battles(store, 3)
        for n, battle in enumerate(battles):
            await store.record_vote(battle, f"before-{n}", "a")
        in_flight = [store.record_vote(b, "during", "b") for b in battles]
        restart = asyncio.create_task(asyncio.to_thread(postgres.restart))
        during = await asyncio.gather(*in_flight, return_exceptions=True)
        await restart
        assert all(isinstance(r, StoreError) or r.choice == "b" for r in during), during
        for n in range(20):  # after it the same Store serves every request, not reopened
            await store.record_vote(list(battles)[n % 3], f"after-{n}", "tie")
        assert await store.thumb_counts() == {}  # reads too
        counted, votes = await counts_and_votes(store)
    finally:
        await store.close()
    assert sum(user.startswith("after") for _, user in votes) == 20
    assert all((battle, f"before-{n}") in votes for n, battle in enumerate(battles))
    stored_during = {key: choice for key, choice in votes.items() if key[1] == "during"}
    acknowledged = [r for r in during if not isinstance(r, StoreError)]
    assert len(stored_during) >= len(acknowledged)  # an acknowledged vote is never lost
    assert counted == implied(votes, battles)


async def test_an_unreachable_server_is_one_line_naming_the_host() -> None:
    with pytest.raises(StoreError) as caught:
        await Store.open("postgresql://parley:s3cret@127.0.0.1:9/parley")
    message = str(caught.value)
    assert message.startswith("cannot connect to PostgreSQL at 127.0.0.1:9")
    assert "s3cret" not in message and "\n" not in message
