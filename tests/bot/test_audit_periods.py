"""Scheduled audits with two instances over one store (one SQLite file, or one PostgreSQL
schema): each period is audited once between them, and a period whose runner crashed is
taken over."""

from __future__ import annotations

import asyncio
import time

import pytest

from arena.store import Store
from bot.audits import AUDIT_SCOPE, AuditScheduler
from bot.service import Ask
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes

pytestmark = pytest.mark.both_engines

LEASE = 1.0


class Posts:
    """The reports an admin channel received."""

    def __init__(self) -> None:
        self.summaries: list[str] = []

    async def __call__(self, summary: str, details: list[str]) -> None:
        self.summaries.append(summary)


@pytest.fixture
async def services(durable_target: str, real_embedder):
    """Two services (two instances) over one store, with answers to audit."""
    stores = [await Store.open(durable_target), await Store.open(durable_target)]
    services = [
        service_over_fakes(s, roster(fake("alpha", *["Run shipit rollback [1]."] * 4)))
        for s in stores
    ]
    for service in services:
        service.claims.lease = LEASE
        await service.ask(Ask("How do I roll back?", "ana", "eng", None, "slack"))
    yield services
    for store in stores:
        await store.close()


def counting(scheduler: AuditScheduler, service) -> list[float]:
    """When ``service`` audited (its audits, counted)."""
    runs: list[float] = []
    audit = service.audit

    async def counted(**kw):
        runs.append(time.time())
        return await audit(**kw)

    service.audit = counted
    return runs


async def test_two_instances_audit_each_period_once(services) -> None:
    posts = Posts()
    schedulers = [AuditScheduler(s, 60, posts) for s in services]
    runs = [counting(sch, svc) for sch, svc in zip(schedulers, services, strict=True)]
    period = schedulers[0].period()
    reports = await asyncio.gather(*(s.run_period(period) for s in schedulers))
    assert sum(r is not None for r in reports) == 1
    assert len(runs[0]) + len(runs[1]) == 1 and len(posts.summaries) == 1
    assert posts.summaries[0].startswith("Audit by offline: 2 answers graded")
    # each instance wakes again in the same period: nothing more
    assert await schedulers[0].run_period(period) is None
    assert await schedulers[1].run_period(period) is None
    assert len(runs[0]) + len(runs[1]) == 1
    # the next period is audited again (by whichever wakes first)
    await services[1].ask(Ask("How do I roll back?", "bo", "eng", None, "slack"))
    assert await schedulers[1].run_period(period + 1) is not None
    assert len(runs[0]) + len(runs[1]) == 2


async def test_running_schedules_on_two_instances_audit_once_per_period(services) -> None:
    posts = Posts()
    interval = 0.01  # minutes: 600 ms periods
    schedulers = [AuditScheduler(s, interval, posts) for s in services]
    periods: list[int] = []  # the periods audited, by either instance
    for scheduler in schedulers:
        run_period = scheduler.run_period

        async def audited(period: int, run_period=run_period) -> dict | None:
            report = await run_period(period)
            if report is not None:
                periods.append(period)
            return report

        scheduler.run_period = audited  # type: ignore[method-assign]
        scheduler.start()
    await asyncio.sleep(3.2)
    for scheduler in schedulers:
        await scheduler.stop()
    assert len(periods) >= 2  # audits ran, period after period
    assert len(periods) == len(set(periods))  # each period by one instance alone


async def test_a_crashed_runners_period_is_taken_over_after_its_lease(services) -> None:
    posts = Posts()
    scheduler = AuditScheduler(services[1], 60, posts)
    period = scheduler.period()
    key = f"{60 * 60:g}:{period}"
    store = services[0]._store
    assert (await store.claim(AUDIT_SCOPE, key, "crashed:1:dead", LEASE)).won
    assert await scheduler.run_period(period) is None  # the runner may still be alive
    await asyncio.sleep(LEASE + 0.1)  # it never renewed: it died
    assert await scheduler.run_period(period) is not None
    assert len(posts.summaries) == 1
