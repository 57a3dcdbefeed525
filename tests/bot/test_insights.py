"""Service.insights: the dashboard's reads behind the service, under its rules."""

from __future__ import annotations

import pytest

from arena.store import BattleRecord, Store
from bot.insights import GAP_REASONS, HISTORY_MAX_AGE, Insights
from bot.messages import THUMB_REASONS
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes

pytestmark = pytest.mark.both_engines


async def test_a_history_is_kept_until_votes_change_and_then_a_while(store: Store) -> None:
    now = [0.0]
    insights = Insights(
        store,
        daily_cap=None,
        reindex_status=lambda: None,
        knowledge_status=None,
        clock=lambda: now[0],
    )
    await store.bulk_record_battles([BattleRecord("alpha", "beta", "a", 1.0)])
    first = await insights.history()
    assert await insights.history() is first
    await store.bulk_record_battles([BattleRecord("alpha", "gamma", "a", 2.0)])
    now[0] = HISTORY_MAX_AGE - 1
    assert await insights.history() is first  # new votes, but it is recent enough
    now[0] = HISTORY_MAX_AGE + 1
    later = await insights.history()
    assert later is not first and "gamma" in later.scores
    assert await insights.history(ties="half") is not later  # another rule, another history


async def test_the_daily_cap_applies_to_the_dashboards_reads_too(store: Store) -> None:
    await store.bulk_record_battles(
        [BattleRecord("alpha", "beta", "a", 86400.0 + n, user="eager") for n in range(5)]
    )
    service = service_over_fakes(
        store, roster(fake("alpha"), fake("beta")), max_votes_per_user_per_day=2
    )
    matrix = await service.insights.pair_matrix(["alpha", "beta"])
    assert matrix.battles[0][1] == 2
    history = await service.insights.history()
    assert history.battles["alpha"][-1] == 2


async def test_knowledge_reads_whatever_the_service_was_given(store: Store) -> None:
    service = service_over_fakes(store, roster(fake("alpha")))
    assert service.insights is service.insights
    view = await service.insights.knowledge()
    assert view.status is None and view.running is None
    given = service_over_fakes(store, roster(fake("alpha")), knowledge_status=lambda: "the status")
    assert (await given.insights.knowledge()).status == "the status"


def test_gap_reasons_are_reasons_people_can_give() -> None:
    assert set(GAP_REASONS) <= set(THUMB_REASONS)
