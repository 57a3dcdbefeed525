"""The leaderboard from a real store: rows, rates, provisional marks, Rank (UB), channels."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from arena.elo import online_elo
from arena.leaderboard import (
    Leaderboard,
    LeaderboardRow,
    _ties_halved,
    board_fit,
    build_board,
    leaderboard_rows,
)
from arena.pair_table import PairTable
from arena.ratings import bootstrap_scores, cautious_covariance, normal_intervals
from arena.store import BattleRecord, PairCount, Store
from arena.style import StyleRow
from arena.types import Answer, Choice

pytestmark = pytest.mark.both_engines

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


async def build_leaderboard(store: Store, **options) -> list[LeaderboardRow]:
    """The rated rows, then the unrated ones, as ``parley leaderboard --json`` lists them."""
    board = await build_board(store, **options)
    return [*board.rows, *board.unrated]


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
    rows = leaderboard_rows(counts, thumbs={"c": (1, 1)})
    decoded = json.loads(json.dumps([r.as_dict() for r in rows]))
    assert [list(d) for d in decoded] == [FIELDS] * 3
    assert decoded[0]["model"] == "a" and decoded[0]["rank_ub"] == 1
    assert decoded[2]["model"] == "c" and decoded[2]["thumbs_up_rate"] == 0.5


@pytest.mark.parametrize("intervals", ["sandwich", "bootstrap"])
def test_rank_ub_ties_models_whose_intervals_overlap(intervals) -> None:
    counts = [
        PairCount("a", "b", 500, 500, 100, 0),  # a and b: indistinguishable
        PairCount("a", "c", 900, 100, 50, 0),  # both far above c
        PairCount("b", "c", 900, 100, 50, 0),
    ]
    rows = leaderboard_rows(counts, intervals=intervals, seed=0)
    assert {r.model: r.rank_ub for r in rows} == {"a": 1, "b": 1, "c": 3}


@pytest.mark.parametrize("ties", ["model", "half"])
def test_sandwich_rows_are_the_cautious_normal_intervals_of_the_table_as_ties_count(
    ties: str,
) -> None:
    """The default intervals are ``normal_intervals`` over ``cautious_covariance`` of
    the table the fit saw (ties halved into wins only under ``ties="half"``)."""
    counts = [PairCount("a", "b", 30, 10, 6, 1), PairCount("b", "c", 18, 20, 5, 2)]
    table = PairTable.from_counts(counts)
    fitted = table.ties_as_half_wins() if ties == "half" else table
    fit = board_fit(fitted, 20)
    low, high = normal_intervals(fit, cautious_covariance(fitted, fit))
    rows = {row.model: row for row in leaderboard_rows(counts, ties=ties)}  # type: ignore[arg-type]
    assert {m: (rows[m].ci_low, rows[m].ci_high) for m in table.models} == {
        m: (round(float(low[k]), 1), round(float(high[k]), 1)) for k, m in enumerate(table.models)
    }
    # the scores as --json and the dashboard show them: the fit's, to one decimal
    assert {m: rows[m].score for m in table.models} == {
        m: round(float(fit.scores[k]), 1) for k, m in enumerate(table.models)
    }


def test_bootstrap_rows_are_the_central_95_percent_of_the_resampled_scores() -> None:
    """A bootstrap row's interval runs from the 2.5th to the 97.5th percentile of its
    model's resampled scores, the interval the board calls 95%."""
    counts = [PairCount("a", "b", 30, 10, 6, 1), PairCount("b", "c", 18, 20, 5, 2)]
    table = PairTable.from_counts(counts)
    fit = board_fit(table, 20)
    samples = bootstrap_scores(table, fit, 40, np.random.default_rng(7))
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    rows = {
        row.model: row for row in leaderboard_rows(counts, intervals="bootstrap", rounds=40, seed=7)
    }
    assert {m: (rows[m].ci_low, rows[m].ci_high) for m in table.models} == {
        m: (round(float(low[k]), 1), round(float(high[k]), 1)) for k, m in enumerate(table.models)
    }


def test_a_model_with_exactly_the_provisional_votes_anchors_the_scale() -> None:
    """Not provisional at exactly ``provisional_votes`` votes, a model is one of the firm
    models whose scores average 1000; the newcomer beside them moves nothing."""
    counts = [PairCount("a", "b", 12, 6, 2, 0), PairCount("c", "a", 2, 1, 0, 0)]
    rows = leaderboard_rows(counts, provisional_votes=20)
    firm = {row.model: row for row in rows if not row.provisional}
    assert {m: row.votes for m, row in firm.items()} == {"a": 23, "b": 20}
    assert (firm["a"].score + firm["b"].score) / 2 == pytest.approx(1000, abs=0.1)


def test_a_pair_whose_every_vote_was_a_tie_is_rated() -> None:
    """Ties are battles: two models that only ever tied are on the board, level."""
    rows = leaderboard_rows([PairCount("a", "b", ties=3)])
    assert [(row.model, row.votes, row.win_rate) for row in rows] == [("a", 3, 0.0), ("b", 3, 0.0)]
    assert rows[0].score == rows[1].score


def test_leaderboard_rows_refuse_zero_rounds_and_take_one() -> None:
    """``bootstrap_rounds = 1`` is a valid setting (gt=0), so one round gives a board."""
    with pytest.raises(ValueError, match="rounds"):
        leaderboard_rows([PairCount("a", "b", 1, 0, 0, 0)], rounds=0)
    rows = leaderboard_rows([PairCount("a", "b", 3, 1, 0, 0)], rounds=1, intervals="bootstrap")
    assert [row.model for row in rows] == ["a", "b"]


# --- a model with one vote: an honest interval, and nobody else's rank moves ----------


def three_models_and_a_newcomer() -> list[PairCount]:
    """1,500 battles among three models (10% ties), and one newcomer's single win
    over the weakest, as issue #22 reproduced it."""
    rng = np.random.default_rng(22)
    truth = {"strong": 1100.0, "middle": 1000.0, "weak": 900.0}
    counts = []
    for a, b in [("strong", "middle"), ("strong", "weak"), ("middle", "weak")]:
        p = 1 / (1 + 10 ** ((truth[b] - truth[a]) / 400))
        wins_a, wins_b, ties = rng.multinomial(500, [0.9 * p, 0.9 * (1 - p), 0.1])
        counts.append(PairCount(a, b, wins_a, wins_b, ties))
    return [*counts, PairCount("newcomer", "weak", 1, 0, 0, 0)]


@pytest.mark.parametrize("intervals", ["sandwich", "bootstrap"])
def test_a_one_vote_model_gets_a_wide_interval_and_moves_no_rank(intervals) -> None:
    counts = three_models_and_a_newcomer()
    rows = {r.model: r for r in leaderboard_rows(counts, intervals=intervals)}
    firm = {r.model: r for r in leaderboard_rows(counts[:3], intervals=intervals)}
    newcomer = rows.pop("newcomer")
    assert newcomer.provisional and newcomer.votes == 1
    width = newcomer.ci_high - newcomer.ci_low
    # as wide as its evidence: one win says little, so hundreds of points either way
    assert width > 400
    assert newcomer.ci_low < rows["weak"].score < newcomer.ci_high
    assert all(width > 4 * (r.ci_high - r.ci_low) for r in rows.values())
    assert newcomer.score < rows["strong"].score  # it did not run off to the top
    # the firm models rank exactly as they would without it: the best is 1
    assert {m: r.rank_ub for m, r in rows.items()} == {m: r.rank_ub for m, r in firm.items()}
    assert rows["strong"].rank_ub == 1


@pytest.mark.parametrize("intervals", ["sandwich", "bootstrap"])
def test_a_provisional_model_clearly_above_others_moves_no_rank(intervals) -> None:
    counts = [*three_models_and_a_newcomer()[:3], PairCount("newcomer", "weak", 15, 0, 0, 0)]
    rows = {r.model: r for r in leaderboard_rows(counts, intervals=intervals)}
    newcomer = rows.pop("newcomer")
    assert newcomer.provisional and newcomer.ci_low > rows["middle"].ci_high  # clearly above
    assert newcomer.rank_ub == 1
    assert {m: r.rank_ub for m, r in rows.items()} == {"strong": 1, "middle": 2, "weak": 3}


@pytest.mark.parametrize("intervals", ["sandwich", "bootstrap"])
async def test_a_single_vote_in_the_database_has_an_interval_of_real_width(
    store: Store, intervals
) -> None:
    await vote(store, "general", "alpha", "beta", "a")
    board = await build_board(store, intervals=intervals)
    for row in board.rows:
        assert row.ci_high - row.ci_low > 300
        assert row.ci_low < row.score < row.ci_high
    assert board.too_few_votes


async def test_a_model_whose_every_vote_was_left_out_shows_how_many(store: Store) -> None:
    """Unrated, a model with only left-out votes still says how many were left out (and
    the rated model beside it counts the same vote)."""
    await vote(store, "general", "alpha", "beta", "a")
    question = await store.record_question(
        platform="console", channel="general", user="u", thread=None, text="who?", hits=[]
    )
    ids = [await store.record_answer(question, Answer(m, text="me")) for m in ("gamma", "alpha")]
    battle = await store.record_battle(question, *ids, excluded="an answer names its model")
    await store.record_vote(battle, "voter", "a")
    board = await build_board(store, seed=1)
    assert {row.model: row.left_out_votes for row in [*board.rows, *board.unrated]} == {
        "alpha": 1,
        "beta": 0,
        "gamma": 1,
    }
    assert [row.model for row in board.unrated] == ["gamma"]


async def test_a_channel_with_thumbs_but_no_votes_has_no_rows(store: Store) -> None:
    await vote(store, "general", "alpha", "beta", "a")
    question = await store.record_question(
        platform="slack", channel="quiet", user="u", thread=None, text="q", hits=[]
    )
    answer = await store.record_answer(question, Answer("alpha", text="alone"))
    await store.record_thumb(answer, "u1", 1)
    board = await build_board(store, channel="quiet")
    assert board.rows == []
    assert not board.too_few_votes
    assert [(r.model, r.thumbs_up_rate) for r in board.unrated] == [("alpha", 1.0)]
    assert [r.model for r in (await build_board(store)).rows] == ["alpha", "beta"]


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


async def test_the_elo_replay_leaves_the_event_loop_free(store: Store, monkeypatch) -> None:
    """A replay of a million votes takes a second: a bot's loop must not wait on it."""
    replayed_on = []

    def replay(battles, *, start):
        try:
            replayed_on.append(asyncio.get_running_loop())
        except RuntimeError:  # no loop in this thread: a worker's
            replayed_on.append(None)
        return online_elo(battles, start=start)

    monkeypatch.setattr("arena.vote_counts.online_elo", replay)
    await vote(store, "general", "alpha", "beta", "a")
    assert await store.elo_ratings() == {"alpha": 1002.0, "beta": 998.0}
    assert replayed_on == [None]


async def test_rows_carry_the_online_elo(store: Store) -> None:
    for choice in ["a", "a", "b"]:
        await vote(store, "general", "alpha", "beta", choice)
    rows = await build_leaderboard(store)
    elo = online_elo([(("alpha", "beta", c)) for c in ["a", "a", "b"]])
    assert {r.model: r.elo for r in rows} == {m: round(v, 1) for m, v in elo.items()}


# --- the same votes, the same board; too few votes to rank -----------------------------


@pytest.mark.parametrize("intervals", ["sandwich", "bootstrap"])
async def test_the_same_votes_give_the_same_board_without_a_seed(store: Store, intervals) -> None:
    for choice in ["a", "a", "b", "tie", "a"] * 5:
        await vote(store, "general", "alpha", "beta", choice)
    first = await build_leaderboard(store, intervals=intervals)
    assert await build_leaderboard(store, intervals=intervals) == first
    await vote(store, "general", "alpha", "beta", "b")
    assert await build_leaderboard(store, intervals=intervals) != first


async def test_the_board_computes_the_intervals_it_was_asked_for(store: Store) -> None:
    """build_board's rows are the ones leaderboard_rows gives for the same method,
    rounds and seed, not merely labelled with the method."""
    for choice in ["a", "a", "b", "tie", "a"] * 6:
        await vote(store, "general", "alpha", "beta", choice)
    counts = await store.pair_counts()
    for intervals, rounds, seed in [("bootstrap", 30, 5), ("bootstrap", 60, 5), ("sandwich", 9, 1)]:
        board = await build_board(store, intervals=intervals, rounds=rounds, seed=seed)
        direct = leaderboard_rows(counts, intervals=intervals, rounds=rounds, seed=seed)
        assert [(r.ci_low, r.ci_high) for r in board.rows] == [
            (r.ci_low, r.ci_high) for r in direct
        ]
    sandwich = await build_board(store, seed=5)
    boot = await build_board(store, intervals="bootstrap", seed=5)
    assert [r.ci_low for r in sandwich.rows] != [r.ci_low for r in boot.rows]  # tells them apart


async def test_a_handful_of_votes_is_too_few_to_rank(store: Store) -> None:
    for choice in ["a", "a", "b"]:
        await vote(store, "general", "alpha", "beta", choice)
    assert (await build_board(store)).too_few_votes
    enough = leaderboard_rows([PairCount("a", "b", 30, 10, 5, 0)])
    assert not Leaderboard(enough).too_few_votes
    assert not Leaderboard([]).too_few_votes


async def test_bootstrap_intervals_on_request_agree_with_the_sandwich(store: Store) -> None:
    for choice in ["a", "a", "b", "tie", "a"] * 6:
        await vote(store, "general", "alpha", "beta", choice)
    sandwich = await build_board(store)
    boot = await build_board(store, intervals="bootstrap")
    assert (sandwich.intervals, boot.intervals) == ("sandwich", "bootstrap")
    for b, s in zip(boot.rows, sandwich.rows, strict=True):
        assert b.score == s.score
        assert s.ci_low < s.score < s.ci_high
        assert s.ci_high - s.ci_low == pytest.approx(b.ci_high - b.ci_low, rel=0.35)
    with pytest.raises(ValueError, match="intervals"):
        leaderboard_rows([PairCount("a", "b", 1, 0, 0, 0)], intervals="jackknife")  # type: ignore[arg-type]


def test_under_half_ties_a_styled_tie_becomes_half_a_win_each_and_wins_stay() -> None:
    """The style fit's rows under ``ties="half"``: each tie or both-bad row splits into
    A and B rows of half its count; a win is kept as it is."""
    features = ((1, 0, 0, 0), (2, 0, 0, 0))
    rows = [
        StyleRow("a", "b", "a", *features, 4),
        StyleRow("a", "b", "tie", *features, 3),
        StyleRow("a", "b", "both_bad", None, None, 2),
    ]
    assert _ties_halved(rows) == [
        StyleRow("a", "b", "a", *features, 4),
        StyleRow("a", "b", "a", *features, 1.5),
        StyleRow("a", "b", "b", *features, 1.5),
        StyleRow("a", "b", "a", None, None, 1.0),
        StyleRow("a", "b", "b", None, None, 1.0),
    ]
