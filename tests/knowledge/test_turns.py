"""Turns on one shared connection: one block at a time, in order of arrival, an urgent
block before every waiting ordinary one, and a cancelled waiter never stalls the rest."""

from __future__ import annotations

import asyncio

from knowledge.sql import open_async
from knowledge.sql.turns import Turns


async def take_turns(turns: Turns, plan: list[tuple[str, bool]], order: list[str]) -> None:
    """Each named block of ``plan`` queues behind a first block, which then ends."""
    inside: list[str] = []

    async def block(name: str, urgent: bool) -> None:
        async with turns.turn(urgent=urgent):
            inside.append(name)
            assert len(inside) == 1, f"{inside} hold the connection at once"
            order.append(name)
            await asyncio.sleep(0)
            inside.remove(name)

    first = asyncio.Event()

    async def holder() -> None:
        async with turns.turn():
            order.append("first")
            await first.wait()

    holding = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = []
    for name, urgent in plan:
        tasks.append(asyncio.create_task(block(name, urgent)))
        await asyncio.sleep(0)  # each one queues in turn
    first.set()
    await asyncio.gather(holding, *tasks)


async def test_ordinary_blocks_go_in_order_of_arrival_one_at_a_time() -> None:
    order: list[str] = []
    await take_turns(Turns(), [(f"b{n}", False) for n in range(5)], order)
    assert order == ["first", "b0", "b1", "b2", "b3", "b4"]


async def test_an_urgent_block_waits_only_for_the_block_in_progress() -> None:
    order: list[str] = []
    plan = [("b0", False), ("b1", False), ("u0", True), ("b2", False), ("u1", True)]
    await take_turns(Turns(), plan, order)
    assert order == ["first", "u0", "u1", "b0", "b1", "b2"]


async def test_a_waiter_cancelled_in_the_queue_or_as_its_turn_came_stalls_nobody() -> None:
    turns = Turns()
    done: list[str] = []

    async def block(name: str) -> None:
        async with turns.turn():
            done.append(name)

    async with turns.turn():
        queued = [asyncio.create_task(block(n)) for n in ("gone", "handed", "last")]
        await asyncio.sleep(0)
        queued[0].cancel()  # cancelled while waiting
    queued[1].cancel()  # its turn was handed over as the block ended: cancelled before it ran
    results = await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), 2)
    assert [type(r).__name__ for r in results] == ["CancelledError", "CancelledError", "NoneType"]
    assert done == ["last"]
    async with asyncio.timeout(1):  # and the connection is free again
        async with turns.turn():
            pass


async def test_an_urgent_write_on_a_busy_sqlite_connection_goes_before_the_queue(tmp_path) -> None:
    database = await open_async(tmp_path / "busy.db")
    try:
        async with database.transaction() as session:
            await session.execute("CREATE TABLE t (name TEXT)")

        async def write(name: str, urgent: bool = False) -> None:
            async with database.transaction(urgent=urgent) as session:
                await session.execute("INSERT INTO t VALUES (?)", (name,))

        queued = [asyncio.create_task(write(f"w{n}")) for n in range(30)]
        await asyncio.sleep(0)
        await write("urgent", urgent=True)
        written = sum(t.done() for t in queued)
        assert written <= 2, f"{written} queued writes went before the urgent one"
        await asyncio.gather(*queued)
    finally:
        await database.close()
