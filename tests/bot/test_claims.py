"""Work done once across instances: claims on one shared store, from two Stores over one
SQLite file or one PostgreSQL schema (two instances of a deployment), with a lease that a
crashed holder's claim runs out of."""

from __future__ import annotations

import asyncio
import time

import pytest

from arena.store import Store
from bot import claims as claims_module
from bot.claims import Claims

pytestmark = pytest.mark.both_engines

LEASE = 1.0  # seconds: short, so a crashed holder's claim runs out within the test


@pytest.fixture
async def two(durable_target: str):
    """Two stores over one database, as two instances have."""
    first, second = await Store.open(durable_target), await Store.open(durable_target)
    yield first, second
    await first.close()
    await second.close()


async def test_of_two_instances_claiming_at_once_one_wins(two) -> None:
    first, second = two
    for n in range(20):
        got = await asyncio.gather(
            first.claim("s", f"k{n}", "one", LEASE), second.claim("s", f"k{n}", "two", LEASE)
        )
        assert sorted(c.won for c in got) == [False, True]
        loser = next(c for c in got if not c.won)
        winner = "one" if got[0].won else "two"
        assert (loser.status, loser.owner) == ("claimed", winner)


async def test_a_crashed_holders_claim_is_taken_over_once_its_lease_runs_out(two) -> None:
    first, second = two
    assert (await first.claim("s", "k", "crashed", LEASE)).won
    assert not (await second.claim("s", "k", "alive", LEASE)).won  # still within the lease
    await asyncio.sleep(LEASE + 0.1)  # the holder never renews: it died
    taken = await second.claim("s", "k", "alive", LEASE)
    assert taken.won and taken.owner == "alive"
    assert not await first.renew_claim("s", "k", "crashed")  # the dead holder lost it
    assert await second.finish_claim("s", "k", "alive")
    await asyncio.sleep(LEASE + 0.1)
    done = await first.claim("s", "k", "late", LEASE)  # done work is never taken over
    assert (done.won, done.status, done.owner) == (False, "done", "alive")


async def test_a_holder_that_renews_keeps_its_claim_past_the_lease(two) -> None:
    first, second = two
    holder, other = Claims(first, owner="a", lease=LEASE), Claims(second, owner="b", lease=LEASE)
    async with holder.once("s", "k") as mine:
        assert mine
        for _ in range(6):  # three leases long
            await asyncio.sleep(LEASE / 2)
            async with other.once("s", "k") as theirs:
                assert not theirs
    async with other.once("s", "k") as theirs:
        assert not theirs  # done
    claim = await second.claim("s", "k", "c", LEASE)
    assert (claim.status, claim.owner) == ("done", "a")


async def test_a_waiting_instance_takes_over_when_the_holder_dies(two) -> None:
    first, second = two
    assert (await first.claim("s", "k", "dies", LEASE)).won  # and never renews
    waiter = Claims(second, owner="b", lease=LEASE)
    async with waiter.once("s", "k", wait=True) as mine:
        assert mine
    claim = await first.claim("s", "k", "c", LEASE)
    assert (claim.status, claim.owner) == ("done", "b")


async def test_a_waiting_instance_drops_what_the_live_holder_finishes(two) -> None:
    first, second = two
    holder, waiter = Claims(first, owner="a", lease=LEASE), Claims(second, owner="b", lease=LEASE)
    done = asyncio.Event()

    async def hold() -> None:
        async with holder.once("s", "k") as mine:
            assert mine
            await asyncio.sleep(LEASE * 3)  # longer than a lease: renewed meanwhile
        done.set()

    holding = asyncio.create_task(hold())
    await asyncio.sleep(0.05)
    async with waiter.once("s", "k", wait=True) as mine:
        assert not mine and done.is_set()
    await holding


async def test_a_waiting_instance_gives_up_after_the_longest_wait(two, monkeypatch) -> None:
    monkeypatch.setattr(claims_module, "MAX_WAIT", LEASE)
    first, second = two
    holder, waiter = Claims(first, owner="a", lease=LEASE), Claims(second, owner="b", lease=LEASE)
    async with holder.once("s", "k"), waiter.once("s", "k", wait=True) as mine:
        assert not mine


async def test_failed_work_is_given_up_for_the_next_to_do_at_once(two) -> None:
    first, second = two
    with pytest.raises(RuntimeError):
        async with Claims(first, owner="a", lease=60).once("s", "k") as mine:
            assert mine
            raise RuntimeError("the answer failed")
    async with Claims(second, owner="b", lease=60).once("s", "k") as mine:
        assert mine


async def test_old_claims_are_forgotten(two) -> None:
    first, _ = two
    await first.claim("s", "old", "a", LEASE)
    await asyncio.sleep(0.05)
    cut = time.time()
    await first.claim("s", "new", "a", LEASE)
    assert await first.forget_claims(cut) == 1
    assert (await first.claim("s", "old", "b", LEASE)).won  # forgotten, so claimable
    assert not (await first.claim("s", "new", "b", LEASE)).won


async def test_a_claim_forgotten_between_its_two_statements_is_asked_for_again(two) -> None:
    """A claim is sent as two statements (the upsert, then who holds it): one forgotten
    in between is claimed afresh rather than reported held by nobody."""
    first, second = two
    assert (await first.claim("s", "k", "one", LEASE)).won
    rows = second._rows

    async def forgotten_in_between(sql: str, params=(), **kw):
        if sql.startswith("SELECT status"):
            await first.forget_claims(time.time() + 1)
        return await rows(sql, params, **kw)

    second._rows = forgotten_in_between  # type: ignore[method-assign]
    claim = await second.claim("s", "k", "two", LEASE)
    assert (claim.won, claim.owner) == (True, "two")


# --- orphans: claims whose holder died after the only delivery of their work ---------

PAYLOAD = {"event": {"type": "app_mention", "ts": "1.1"}, "team": "T1", "bot_user": "U1"}


async def test_a_payload_is_stored_with_the_claim_and_kept_on_takeover(two) -> None:
    first, second = two
    assert (await first.claim("s", "k", "dies", LEASE, PAYLOAD)).won
    await asyncio.sleep(LEASE + 0.1)
    (orphan,) = await second.orphaned_claims("s", LEASE, since=0)
    assert (orphan.key, orphan.owner, orphan.payload) == ("k", "dies", PAYLOAD)
    other = {"event": {"type": "message"}, "team": "T2", "bot_user": "U2"}
    assert (await second.claim("s", "k", "rescuer", LEASE, other)).won
    assert await second.orphaned_claims("s", LEASE, since=0) == []  # held, renewed now
    await asyncio.sleep(LEASE + 0.1)  # the rescuer dies too
    (again,) = await first.orphaned_claims("s", LEASE, since=0)
    # the first payload and the first claim's time stay: the window counts from it
    assert (again.owner, again.payload, again.claimed_at) == ("rescuer", PAYLOAD, orphan.claimed_at)


async def test_only_unrenewed_unfinished_recent_claims_with_a_payload_are_orphans(two) -> None:
    first, second = two
    for key in ("orphan", "done", "released", "no payload", "old"):
        await first.claim("s", key, "dies", LEASE, None if key == "no payload" else PAYLOAD)
    await first.claim("other scope", "orphan", "dies", LEASE, PAYLOAD)
    await first.finish_claim("s", "done", "dies")
    await first.release_claim("s", "released", "dies")
    await asyncio.sleep(0.2)
    since = time.time()
    await first.claim("s", "recent", "dies", LEASE, PAYLOAD)
    holder = Claims(first, owner="alive", lease=LEASE)
    async with holder.once("s", "live", payload=PAYLOAD):
        await asyncio.sleep(LEASE + 0.1)  # every claim but "live" goes unrenewed
        orphans = await second.orphaned_claims("s", LEASE, since=since)
        assert [o.key for o in orphans] == ["recent"]
        orphans = await second.orphaned_claims("s", LEASE, since=0)
        assert sorted(o.key for o in orphans) == ["old", "orphan", "recent"]


async def test_orphans_too_old_are_abandoned_once_across_instances(two) -> None:
    first, second = two
    for key in ("old1", "old2"):
        await first.claim("s", key, "dies", LEASE, PAYLOAD)
    await asyncio.sleep(0.1)
    cut = time.time()
    await first.claim("s", "recent", "dies", LEASE, PAYLOAD)
    await asyncio.sleep(LEASE + 0.1)
    got = await asyncio.gather(
        first.abandon_orphans("s", LEASE, cut), second.abandon_orphans("s", LEASE, cut)
    )
    assert sorted(o.key for found in got for o in found) == ["old1", "old2"]
    assert [o.key for o in await first.orphaned_claims("s", LEASE, since=0)] == ["recent"]
    # the claim stays: a late retry of the work may still take it over
    assert (await second.claim("s", "old1", "retry", LEASE)).won


async def test_orphans_are_looked_for_within_the_window_and_the_older_logged(two, caplog) -> None:
    first, second = two
    await first.claim("s", "old", "dies", LEASE, PAYLOAD)
    await asyncio.sleep(0.5)
    await first.claim("s", "recent", "dies", LEASE, PAYLOAD)
    await asyncio.sleep(LEASE + 0.1)
    rescuer = Claims(second, owner="b", lease=LEASE)
    with caplog.at_level("WARNING", logger="bot.claims"):
        assert [o.key for o in await rescuer.orphans("s", window=LEASE + 0.3)] == ["recent"]
        assert [o.key for o in await rescuer.orphans("s", window=LEASE + 0.3)] == ["recent"]
    (line,) = [r.getMessage() for r in caplog.records if "not redoing" in r.getMessage()]
    assert "s/old" in line and "dies" in line


async def test_a_holder_notes_its_progress_and_the_rescuer_reads_it(two, caplog) -> None:
    first, second = two
    holder = Claims(first, owner="dies", lease=LEASE)
    async with holder.once("s", "k", payload=PAYLOAD):
        await holder.note("s", "k", {**PAYLOAD, "root": "1.2"})
    progress = {**PAYLOAD, "root": "1.3"}
    assert (await first.claim("s", "k2", "dies", LEASE, PAYLOAD)).won
    await Claims(first, owner="dies", lease=LEASE).note("s", "k2", progress)
    await asyncio.sleep(LEASE + 0.1)
    (orphan,) = await second.orphaned_claims("s", LEASE, since=0)
    assert (orphan.key, orphan.payload) == ("k2", progress)
    # taken over: the rescuer keeps the noted payload; the dead holder can note no more
    assert (await second.claim("s", "k2", "rescuer", LEASE, PAYLOAD)).won
    assert not await first.note_claim("s", "k2", "dies", PAYLOAD)
    assert not await first.note_claim("s", "k", "dies", PAYLOAD)  # done
    with caplog.at_level("WARNING", logger="bot.claims"):
        await Claims(first, owner="dies", lease=LEASE).note("s", "k2", PAYLOAD)
    assert "progress not noted" in caplog.text
    await asyncio.sleep(LEASE + 0.1)
    (again,) = await first.orphaned_claims("s", LEASE, since=0)
    assert (again.owner, again.payload) == ("rescuer", progress)
