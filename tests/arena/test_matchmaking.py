"""Matchmaking rules, checked statistically over many seeded draws."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from arena.errors import ConfigError
from arena.matchmaking import choose_contestants, pair_weight
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
