"""The leaderboard from a real store: rows, rates, provisional marks, channels, table, chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from arena.leaderboard import (
    LeaderboardRow,
    build_leaderboard,
    leaderboard_rows,
    render_table,
    write_chart,
)
from arena.store import PairCount, Store
from arena.types import Answer, Choice

FIELDS = [
    "rank_ub",
    "model",
    "score",
    "ci_low",
    "ci_high",
    "votes",
    "win_rate",
    "both_bad_rate",
    "thumbs_up_rate",
    "provisional",
    "elo",
    "left_out_votes",
    "style_score",
    "style_ci_low",
    "style_ci_high",
    "style_rank_ub",
]


async def vote(store: Store, channel: str, left: str, right: str, choice: Choice) -> list[int]:
    """One question answered by ``left`` and ``right``, one battle, one vote."""
    question = await store.record_question(
        platform="console", channel=channel, user="u", thread=None, text="why?", hits=[]
    )
    ids = [await store.record_answer(question, Answer(m, text="because")) for m in (left, right)]
    battle = await store.record_battle(question, *ids)
    await store.record_vote(battle, "voter", choice)
    return ids


@pytest.fixture
async def store():
    opened = await Store.open(":memory:")
    yield opened
    await opened.close()


async def test_rows_from_a_store_with_a_few_votes(store: Store) -> None:
    for choice in ["a", "a", "a", "tie", "both_bad", "b"]:
        await vote(store, "general", "alpha", "beta", choice)
    for choice in ["a", "a", "b"]:
        await vote(store, "general", "beta", "gamma", choice)
    rows = await build_leaderboard(store, seed=1)

    assert [r.model for r in rows] == ["alpha", "beta", "gamma"]
    scores = [r.score for r in rows]
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) / 3 == pytest.approx(1000, abs=0.2)  # anchored at mean 1000
    alpha, beta, gamma = rows
    assert (alpha.votes, beta.votes, gamma.votes) == (6, 9, 3)
    assert alpha.win_rate == pytest.approx(3 / 6, abs=1e-4)
    assert beta.win_rate == pytest.approx(3 / 9, abs=1e-4)
    assert alpha.both_bad_rate == pytest.approx(1 / 6, abs=1e-4)
    assert gamma.both_bad_rate == 0
    assert all(r.ci_low <= r.ci_high for r in rows)
    assert all(r.provisional for r in rows)  # all under the default 20 votes
    assert all(r.rank_ub >= 1 for r in rows)
    assert all(r.thumbs_up_rate is None for r in rows)


async def test_provisional_threshold_is_configurable(store: Store) -> None:
    for choice in ["a", "b", "a", "tie"]:
        await vote(store, "general", "alpha", "beta", choice)
    await vote(store, "general", "alpha", "gamma", "a")
    rows = await build_leaderboard(store, provisional_votes=2, seed=0)
    assert {r.model: r.provisional for r in rows} == {
        "alpha": False,
        "beta": False,
        "gamma": True,
    }


async def test_thumbs_rates_and_thumbs_only_models(store: Store) -> None:
    left, _ = await vote(store, "general", "alpha", "beta", "a")
    await store.record_thumb(left, "u1", 1)
    await store.record_thumb(left, "u2", 1)
    await store.record_thumb(left, "u3", -1)
    question = await store.record_question(
        platform="console", channel="general", user="u", thread=None, text="q", hits=[]
    )
    solo = await store.record_answer(question, Answer("solo", text="alone"))
    await store.record_thumb(solo, "u1", -1)

    rows = await build_leaderboard(store, seed=0)
    by_model = {r.model: r for r in rows}
    assert by_model["alpha"].thumbs_up_rate == pytest.approx(2 / 3, abs=1e-4)
    assert by_model["beta"].thumbs_up_rate is None
    assert rows[-1] == LeaderboardRow(None, "solo", None, None, None, 0, None, None, 0.0, True)


async def test_leaderboards_per_channel_count_only_that_channel(store: Store) -> None:
    for _ in range(3):
        await vote(store, "support", "alpha", "beta", "a")
    await vote(store, "random", "beta", "gamma", "b")
    support = await build_leaderboard(store, channel="support", seed=0)
    assert [(r.model, r.votes) for r in support] == [("alpha", 3), ("beta", 3)]
    overall = await build_leaderboard(store, seed=0)
    assert {r.model: r.votes for r in overall} == {"alpha": 3, "beta": 4, "gamma": 1}
    assert await build_leaderboard(store, channel="nobody-here") == []


def test_rows_are_json_ready_with_the_agreed_keys() -> None:
    counts = [PairCount("a", "b", 30, 10, 5, 1), PairCount("b", "c", 25, 5, 4, 0)]
    rows = leaderboard_rows(counts, {"c": (1, 1)}, rounds=30, seed=3)
    decoded = json.loads(json.dumps([r.as_dict() for r in rows]))
    assert [list(d) for d in decoded] == [FIELDS] * 3
    assert decoded[0]["model"] == "a" and decoded[0]["rank_ub"] == 1
    assert decoded[2]["model"] == "c" and decoded[2]["thumbs_up_rate"] == 0.5


def test_rank_ub_ties_models_whose_intervals_overlap() -> None:
    counts = [
        PairCount("a", "b", 500, 500, 100, 0),  # a and b: indistinguishable
        PairCount("a", "c", 900, 100, 50, 0),  # both far above c
        PairCount("b", "c", 900, 100, 50, 0),
    ]
    rows = leaderboard_rows(counts, {}, rounds=100, seed=0)
    assert {r.model: r.rank_ub for r in rows} == {"a": 1, "b": 1, "c": 3}


def test_leaderboard_rows_refuse_zero_rounds() -> None:
    with pytest.raises(ValueError, match="rounds"):
        leaderboard_rows([PairCount("a", "b", 1, 0, 0, 0)], {}, rounds=0)


def test_render_table_lists_every_row_and_marks_provisional() -> None:
    rows = leaderboard_rows([PairCount("[bold]x", "y", 3, 1, 0, 0)], {"z": (2, 0)}, seed=0)
    table = render_table(rows)
    assert table.row_count == 3
    console = Console(width=160, record=True)
    console.print(table)
    text = console.export_text()
    assert "[bold]x" in text  # model names are shown as typed, never as markup
    assert "provisional" in text
    assert "100%" in text  # z's thumbs-up rate


@pytest.mark.parametrize("votes", [True, False])
def test_write_chart_writes_a_png(tmp_path: Path, votes: bool) -> None:
    counts = [PairCount("a", "b", 30, 10, 5, 1), PairCount("b", "c", 25, 5, 4, 0)]
    rows = leaderboard_rows(counts if votes else [], {}, rounds=20, seed=0)
    chart = tmp_path / "board.png"
    write_chart(rows, chart)
    data = chart.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 2000
