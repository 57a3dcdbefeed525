"""Matchmaking rules, checked statistically over many seeded draws."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from arena.errors import ConfigError
from arena.matchmaking import choose_contestants, choose_steered, pair_weight, steering_weights
from arena.store import PairCount

NAMES = ["alpha", "beta", "gamma", "delta"]
EVEN = dict.fromkeys(NAMES, 1000.0)


def draws(
    n: int, *, share: float, names: list[str] = NAMES, counts=(), ratings=EVEN, seed: int = 0
) -> list[list[str]]:
    rng = random.Random(seed)
    return [
        choose_contestants(names, list(counts), ratings, battle_share=share, rng=rng)
        for _ in range(n)
    ]


def test_share_of_battles_is_close_to_the_setting() -> None:
    picks = draws(4000, share=0.25)
    battles = sum(len(p) == 2 for p in picks) / len(picks)
    assert battles == pytest.approx(0.25, abs=0.03)
    assert all(len(p) in (1, 2) and set(p) <= set(NAMES) for p in picks)
    assert all(p[0] != p[1] for p in picks if len(p) == 2)


def test_share_zero_never_battles_and_one_always_does() -> None:
    assert all(len(p) == 1 for p in draws(1000, share=0.0))
    assert all(len(p) == 2 for p in draws(300, share=1.0))


def test_single_answers_spread_over_the_roster() -> None:
    seen = Counter(p[0] for p in draws(2000, share=0.0))
    assert set(seen) == set(NAMES)
    assert min(seen.values()) > 400


def test_fewer_than_two_contestants_always_get_a_single_answer() -> None:
    assert draws(50, share=1.0, names=["alpha"]) == [["alpha"]] * 50
    assert all(p == ["alpha"] for p in draws(50, share=1.0, names=["alpha", "alpha"]))


def test_left_and_right_are_random() -> None:
    orders = Counter(tuple(p) for p in draws(2000, share=1.0, names=["alpha", "beta"]))
    assert orders[("alpha", "beta")] == pytest.approx(1000, abs=100)
    assert orders[("beta", "alpha")] == pytest.approx(1000, abs=100)


def test_under_voted_pairs_are_favoured() -> None:
    counts = [PairCount("alpha", "beta", 40, 40, 20, 0)]  # 100 votes; all others none
    pairs = Counter(frozenset(p) for p in draws(3000, share=1.0, counts=counts))
    assert pairs[frozenset({"alpha", "beta"})] < 0.01 * 3000
    others = [n for pair, n in pairs.items() if pair != frozenset({"alpha", "beta"})]
    assert len(others) == 5 and min(others) > 0.12 * 3000


def test_close_ratings_are_favoured() -> None:
    ratings = {"alpha": 1000.0, "beta": 1010.0, "gamma": 1600.0}
    pairs = Counter(
        frozenset(p) for p in draws(2000, share=1.0, names=list(ratings), ratings=ratings)
    )
    assert pairs[frozenset({"alpha", "beta"})] > 0.8 * 2000


def test_ratings_are_fitted_from_pair_counts_when_not_given() -> None:
    counts = [
        PairCount("alpha", "gamma", 300, 0, 0, 0),
        PairCount("beta", "gamma", 300, 0, 0, 0),
        PairCount("alpha", "beta", 150, 150, 0, 0),
    ]
    # equal votes for every pair, so only closeness matters: alpha and beta are level
    pairs = Counter(
        frozenset(p)
        for p in draws(
            1000, share=1.0, names=["alpha", "beta", "gamma"], counts=counts, ratings=None
        )
    )
    assert pairs[frozenset({"alpha", "beta"})] > 0.8 * 1000


def test_same_seed_same_choices() -> None:
    assert draws(200, share=0.5, seed=42) == draws(200, share=0.5, seed=42)
    assert draws(200, share=0.5, seed=42) != draws(200, share=0.5, seed=43)


def test_pair_weight_prefers_few_votes_and_small_gaps() -> None:
    assert pair_weight(0, 0) == 1.0
    assert pair_weight(9, 0) == pytest.approx(0.1)
    assert pair_weight(0, 200) == pytest.approx(pair_weight(0, -200))
    assert pair_weight(0, 400) < pair_weight(0, 100) < pair_weight(0, 0)


def test_bad_settings_are_refused() -> None:
    rng = random.Random(0)
    with pytest.raises(ConfigError, match="no contestants"):
        choose_contestants([], [], battle_share=0.25, rng=rng)
    with pytest.raises(ConfigError, match="battle share"):
        choose_contestants(NAMES, [], battle_share=1.5, rng=rng)


# --- steered by the votes ---------------------------------------------------------------


def ranked_counts(names: list[str], per_pair: int = 40) -> list[PairCount]:
    """Counts where each earlier name beats each later one 3 to 1."""
    return [
        PairCount(a, b, 3 * per_pair // 4, per_pair // 4, 0, 0)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]


def test_steered_single_answers_come_from_the_best_save_the_exploration_share() -> None:
    rng = random.Random(3)
    counts = ranked_counts(["delta", "alpha", "gamma", "beta"])  # delta is best
    picks = [
        choose_steered(NAMES, counts, counts, battle_share=0.0, exploration=0.2, rng=rng)[0]
        for _ in range(800)
    ]
    share = Counter(picks)
    assert share["delta"] / 800 == pytest.approx(0.8 + 0.2 / 4, abs=0.04)
    assert share["beta"] / 800 == pytest.approx(0.2 / 4, abs=0.025)


def test_a_channel_uses_its_own_board_once_it_has_enough_votes() -> None:
    overall = ranked_counts(["alpha", "beta", "gamma", "delta"])
    channel = ranked_counts(["gamma", "beta", "alpha", "delta"], per_pair=4)  # 24 votes

    def best(min_votes: int) -> str:
        return choose_steered(
            NAMES,
            channel,
            overall,
            battle_share=0.0,
            exploration=0.0,
            min_channel_votes=min_votes,
            rng=random.Random(0),
        )[0]

    assert best(min_votes=50) == "alpha"  # too few channel votes: the overall board
    assert best(min_votes=20) == "gamma"


def test_models_without_votes_are_paired_first() -> None:
    counts = ranked_counts(["alpha", "beta", "gamma"])
    weights = steering_weights([*NAMES, "epsilon"], counts)
    assert {p for p, w in weights.items() if w > 0.5} == {
        p for p in weights if "delta" in p or "epsilon" in p
    }


@pytest.mark.parametrize("per_pair", [20, 200_000])  # the same at any number of votes
def test_active_weights_favour_pairs_near_the_top(per_pair: int) -> None:
    names = [f"m{k}" for k in range(8)]
    counts = ranked_counts(names, per_pair=per_pair)  # m0 best, m7 worst
    weights = steering_weights(names, counts, top=3)
    assert weights["m0", "m1"] > 10 * weights["m6", "m7"]
    rng = random.Random(1)
    picks = [
        choose_steered(names, counts, counts, battle_share=1.0, top=3, rng=rng) for _ in range(200)
    ]
    assert all(len(p) == 2 and p[0] != p[1] for p in picks)
    near_top = sum(set(p) & {"m0", "m1", "m2"} != set() for p in picks) / len(picks)
    assert near_top > 0.9


def test_steered_choice_refuses_bad_settings() -> None:
    with pytest.raises(ConfigError, match="exploration"):
        choose_steered(NAMES, [], [], battle_share=0.5, exploration=1.5, rng=random.Random(0))
    with pytest.raises(ConfigError, match="no contestants"):
        choose_steered([], [], [], battle_share=0.5, rng=random.Random(0))
    with pytest.raises(ConfigError, match="battle share"):
        choose_steered(NAMES, [], [], battle_share=-0.1, rng=random.Random(0))
    assert choose_steered(["solo"], [], [], battle_share=1.0, rng=random.Random(0)) == ["solo"]
