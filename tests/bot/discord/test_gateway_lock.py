"""The gateway lock itself: one holder per token, on PostgreSQL (two instances' own
connections to one cluster) and in a data folder; a holder whose connection closes loses
it to the standby, and a holder that finds its connection dropped takes it again when
nobody else has."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import psycopg
import pytest

from bot.discord.gateway import (
    STANDING_BY,
    FileGatewayLock,
    PgGatewayLock,
    take_gateway,
    watch_gateway,
)
from knowledge.sql import DatabaseUrl

TOKEN = "fake.token.x"


@pytest.fixture(params=["postgresql", "file"])
def locks(request: pytest.FixtureRequest, tmp_path: Path):
    """A maker of locks as separate instances would have them."""
    if request.param == "file":
        return lambda token=TOKEN: FileGatewayLock(tmp_path, token)
    url = DatabaseUrl(request.getfixturevalue("pg_url"))
    return lambda token=TOKEN: PgGatewayLock(url, token)


async def test_one_holder_per_token(locks) -> None:
    first, second, other = locks(), locks(), locks("another.token")
    try:
        assert await first.try_take()
        assert not await second.try_take()
        assert await other.try_take()  # another bot's token: its own gateway
        assert await first.held() and not await second.held()
        await first.release()
        assert await second.try_take()
    finally:
        for lock in (first, second, other):
            await lock.release()


async def test_the_standby_says_so_once_and_takes_over_when_the_holder_goes(locks, caplog) -> None:
    holder, standby = locks(), locks()
    assert await holder.try_take()
    caplog.set_level(logging.INFO, logger="bot.discord.gateway")
    waiting = asyncio.create_task(take_gateway(standby, asyncio.Event(), poll=0.05))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    assert [r.getMessage() for r in caplog.records].count(STANDING_BY) == 1
    await holder.release()  # the holder's process ends: its lock goes with it
    assert await asyncio.wait_for(waiting, 5)
    await standby.release()


async def test_a_standby_stops_standing_by_when_told(locks) -> None:
    holder, standby = locks(), locks()
    assert await holder.try_take()
    stop = asyncio.Event()
    waiting = asyncio.create_task(take_gateway(standby, stop, poll=0.05))
    await asyncio.sleep(0.1)
    stop.set()
    assert await asyncio.wait_for(waiting, 5) is False
    await holder.release()


async def _end_connections(url: str, name: str = "parley-discord-gateway") -> None:
    """The server ends the lock's connections, as a restart or a dead peer does."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (name,),
        )


async def test_a_holder_whose_connection_drops_takes_the_lock_again(pg_url: str) -> None:
    holder = PgGatewayLock(DatabaseUrl(pg_url), TOKEN)
    assert await holder.try_take()
    await _end_connections(pg_url)
    lost = asyncio.Event()
    watching = asyncio.create_task(watch_gateway(holder, lost, every=0.05))
    await asyncio.sleep(0.5)
    assert not lost.is_set() and await holder.held()
    assert not await PgGatewayLock(DatabaseUrl(pg_url), TOKEN).try_take()
    watching.cancel()
    await holder.release()


async def test_a_holder_whose_lock_a_standby_took_stops(pg_url: str) -> None:
    holder, standby = (PgGatewayLock(DatabaseUrl(pg_url), TOKEN) for _ in range(2))
    assert await holder.try_take()
    await _end_connections(pg_url)
    assert await standby.try_take()  # the standby was quicker
    lost = asyncio.Event()
    watching = asyncio.create_task(watch_gateway(holder, lost, every=0.05))
    await asyncio.wait_for(lost.wait(), 5)
    await watching
    assert not await holder.held()
    await standby.release()
