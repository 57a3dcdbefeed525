"""The leaderboard from a real store: rows, rates, provisional marks, channels, table, chart."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from arena.elo import online_elo
from arena.leaderboard import (
    Leaderboard,
    LeaderboardRow,
    build_board,
    build_leaderboard,
    leaderboard_rows,
    render_board,
    render_table,
    write_chart,
)
from arena.store import BattleRecord, PairCount, Store
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


# --- online Elo beside the score -------------------------------------------------------


async def elo_from_scratch(store: Store) -> dict[str, float]:
    return online_elo([record async for record in store.iter_battles()])


async def test_the_cached_elo_equals_a_full_replay_as_votes_arrive_and_change(
    store: Store,
) -> None:
    for choice in ["a", "b", "a"]:
        await vote(store, "general", "alpha", "beta", choice)
    assert await store.elo_ratings() == pytest.approx(await elo_from_scratch(store))
    await vote(store, "general", "beta", "gamma", "a")  # new votes: replayed on top
    assert await store.elo_ratings() == pytest.approx(await elo_from_scratch(store))
    await store.record_vote(1, "voter", "b")  # a changed mind moves that vote to the end
    assert await store.elo_ratings() == pytest.approx(await elo_from_scratch(store))
    # an import older than the cache goes back in time: replayed from the start
    await store.bulk_record_battles([BattleRecord("gamma", "alpha", "a", tstamp=1.0)])
    assert await store.elo_ratings() == pytest.approx(await elo_from_scratch(store))
    assert await store.elo_ratings("nobody") == {}


async def test_rows_carry_the_online_elo(store: Store) -> None:
    for choice in ["a", "a", "b"]:
        await vote(store, "general", "alpha", "beta", choice)
    rows = await build_leaderboard(store)
    elo = online_elo([(("alpha", "beta", c)) for c in ["a", "a", "b"]])
    assert {r.model: r.elo for r in rows} == {m: round(v, 1) for m, v in elo.items()}


# --- the same votes, the same board; too few votes to rank -----------------------------


async def test_the_same_votes_give_the_same_board_without_a_seed(store: Store) -> None:
    for choice in ["a", "a", "b", "tie", "a"] * 5:
        await vote(store, "general", "alpha", "beta", choice)
    first = await build_leaderboard(store)
    assert await build_leaderboard(store) == first
    await vote(store, "general", "alpha", "beta", "b")
    assert await build_leaderboard(store) != first


async def test_a_handful_of_votes_is_too_few_to_rank_and_the_board_says_so(store: Store) -> None:
    for choice in ["a", "a", "b"]:
        await vote(store, "general", "alpha", "beta", choice)
    board = await build_board(store)
    assert board.too_few_votes
    text = rendered(render_board(board), width=80)
    assert "Too few votes to rank" in text
    assert " – " not in text.split("\n")[0]  # headers line has no stray dash
    for row in board.rows:  # no interval and no rank drawn for provisional rows
        line = next(line for line in text.splitlines() if row.model in line)
        assert f"+{row.ci_high - row.score:.0f}/" not in line
        assert line.split()[0] == "–"
    enough = leaderboard_rows([PairCount("a", "b", 30, 10, 5, 0)], {}, rounds=20, seed=0)
    assert not Leaderboard(enough).too_few_votes


def rendered(table, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


@pytest.mark.parametrize("style", [False, True])
def test_the_table_keeps_model_names_whole_at_80_columns(style: bool) -> None:
    counts = [
        PairCount("offline-passages", "offline-sentences", 300, 280, 40, 5),
        PairCount("offline-passages", "claude-3-5-sonnet-20241022", 200, 100, 10, 0),
    ]
    rows = leaderboard_rows(counts, {}, rounds=20, seed=0)
    text = rendered(render_table(rows, style=style), width=80)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    for row in rows:
        assert row.model in text
        assert f"{row.score:.0f}" in text
    assert "…" not in text


async def test_sandwich_intervals_on_request(store: Store) -> None:
    for choice in ["a", "a", "b", "tie", "a"] * 6:
        await vote(store, "general", "alpha", "beta", choice)
    boot = await build_board(store)
    sandwich = await build_board(store, intervals="sandwich")
    assert sandwich.intervals == "sandwich"
    for b, s in zip(boot.rows, sandwich.rows, strict=True):
        assert b.score == s.score
        assert s.ci_low < s.score < s.ci_high
        assert s.ci_high - s.ci_low == pytest.approx(b.ci_high - b.ci_low, rel=0.35)
    with pytest.raises(ValueError, match="intervals"):
        leaderboard_rows([PairCount("a", "b", 1, 0, 0, 0)], {}, intervals="jackknife")  # type: ignore[arg-type]
