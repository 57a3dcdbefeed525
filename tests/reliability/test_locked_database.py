"""Another process holds SQLite's write lock for two seconds while votes arrive: the
votes wait (the store's busy timeout is 5 s) and every one is stored, counted once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiosqlite

from arena.store import Store
from bot.service import Ask
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes
from tests.reliability.ledger import check_votes

LOCK_SECONDS = 2.0


async def test_votes_wait_out_a_writer_holding_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    store = await Store.open(path)
    service = service_over_fakes(store, roster(fake("alpha"), fake("beta")), battle_share=1, seed=5)
    try:
        battles = []
        for n in range(4):
            reply = await service.ask(Ask(f"How do I roll back {n}?", "ana", "eng", None, "slack"))
            assert reply.battle_id is not None
            battles.append(reply.battle_id)
        choices = ("a", "b", "tie", "both_bad")
        wanted = {(b, f"U{n}"): choices[(b + n) % 4] for b in battles for n in range(30)}

        async with aiosqlite.connect(path) as other:
            await other.execute("BEGIN IMMEDIATE")  # the write lock, held by another connection
            await other.execute("INSERT INTO meta (key, value) VALUES ('held', 'yes')")
            started = time.monotonic()
            votes = asyncio.gather(
                *(
                    service.vote(b, u, c, platform="slack", channel="eng")
                    for (b, u), c in wanted.items()
                )
            )
            await asyncio.sleep(LOCK_SECONDS)
            assert not votes.done()  # waiting on the lock, not failed
            await other.commit()
            results = await asyncio.wait_for(votes, 10)
        waited = time.monotonic() - started
    finally:
        await store.close()
    assert len(results) == len(wanted) and waited >= LOCK_SECONDS
    ledger = check_votes(path, wanted)
    assert ledger.ok, ledger.problems
    assert ledger.votes == len(wanted)
    assert not check_votes(path, {**wanted, (battles[0], "ghost"): "a"}).ok  # it can fail
