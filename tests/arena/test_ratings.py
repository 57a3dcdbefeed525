"""Ratings: online Elo by hand, Bradley-Terry with Davidson ties on simulated data,
bootstrap coverage and Rank (UB)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import spearmanr

from arena.elo import online_elo
from arena.leaderboard import board_fit
from arena.likelihood import NU_PRECISION, PRIOR_SD, Rounds, evaluate, strength_precision
from arena.pair_table import PairTable
from arena.ratings import (
    BTFit,
    bootstrap_scores,
    cautious_covariance,
    data_seed,
    fit_bradley_terry,
    normal_intervals,
    rank_upper_bounds,
    score_covariance,
    spread_prior_sd,
)
from arena.store import BattleRecord, PairCount, Store

pytestmark = pytest.mark.both_engines


def battle(model_a: str, model_b: str, choice: str) -> BattleRecord:
    return BattleRecord(model_a, model_b, choice, tstamp=0.0)  # type: ignore[arg-type]


def simulate(
    truth: np.ndarray, battles_per_pair: int, nu: float, rng: np.random.Generator
) -> list[PairCount]:
    """Pair counts from Davidson's model with Elo-scale ratings ``truth``.

    A tenth of the ties are reported as "both bad", which the fit treats as ties.
    """
    counts = []
    strength = truth * math.log(10) / 400
    for i in range(len(truth)):
        for j in range(i + 1, len(truth)):
            d = (strength[i] - strength[j]) / 2
            weights = np.array([math.exp(d), math.exp(-d), nu])
            a, b, tie = rng.multinomial(battles_per_pair, weights / weights.sum())
            both_bad = rng.binomial(tie, 0.1)
            counts.append(PairCount(f"m{i:02d}", f"m{j:02d}", a, b, tie - both_bad, both_bad))
    return counts


def simulate_constant_ties(
    truth: np.ndarray, battles_per_pair: int, tie_rate: float, rng: np.random.Generator
) -> list[PairCount]:
    """Pair counts where a battle is a tie with probability ``tie_rate`` whatever the gap,
    and otherwise the winner follows Bradley-Terry on the Elo scale."""
    counts = []
    for i in range(len(truth)):
        for j in range(i + 1, len(truth)):
            p_i = 1 / (1 + 10 ** ((truth[j] - truth[i]) / 400))
            shares = [(1 - tie_rate) * p_i, (1 - tie_rate) * (1 - p_i), tie_rate]
            a, b, tie = rng.multinomial(battles_per_pair, shares)
            counts.append(PairCount(f"m{i:02d}", f"m{j:02d}", a, b, tie))
    return counts


def as_half_wins(counts: list[PairCount]) -> list[PairCount]:
    """FastChat's way: a tie is half a win for each side (doubled to stay integral)."""
    return [
        PairCount(
            c.model_a,
            c.model_b,
            2 * c.a_wins + c.ties + c.both_bad,
            2 * c.b_wins + c.ties + c.both_bad,
        )
        for c in counts
    ]


def tie_share(counts: list[PairCount]) -> float:
    return sum(c.ties + c.both_bad for c in counts) / sum(c.total for c in counts)


# --- online Elo ---------------------------------------------------------------------


def test_elo_first_win_moves_both_by_half_k() -> None:
    assert online_elo([battle("x", "y", "a")]) == {"x": 1002.0, "y": 998.0}


def test_elo_hand_computed_sequence_in_time_order() -> None:
    ratings = online_elo([battle("x", "y", "a"), battle("y", "x", "tie"), battle("x", "z", "b")])
    # 2nd: y (998) expected 1/(1 + 10^(4/400)) = 0.494244 against x (1002); a tie scores
    # 0.5, so y gains 4 * 0.005756 = 0.023024. 3rd: x at 1001.976976 expected 0.502846
    # against the newcomer z, and loses: x -2.011383, z +2.011383.
    assert ratings["y"] == pytest.approx(998.023024, abs=1e-5)
    assert ratings["x"] == pytest.approx(999.965593, abs=1e-5)
    assert ratings["z"] == pytest.approx(1002.011383, abs=1e-5)


def test_elo_both_bad_is_a_tie_and_order_matters() -> None:
    tie = online_elo([battle("x", "y", "a"), battle("x", "y", "tie")])
    both_bad = online_elo([battle("x", "y", "a"), battle("x", "y", "both_bad")])
    assert tie == both_bad
    assert tie["x"] < 1002.0  # the favourite drew: it loses a little
    forward = online_elo([battle("x", "y", "a"), battle("x", "y", "b")])
    backward = online_elo([battle("x", "y", "b"), battle("x", "y", "a")])
    assert forward["x"] < 1000 < backward["x"]


async def test_elo_over_a_stores_battles_in_time_order(store: Store) -> None:
    await store.bulk_record_battles(
        [  # stored out of order: the store gives them back by time
            BattleRecord("x", "z", "b", tstamp=3.0),
            BattleRecord("x", "y", "a", tstamp=1.0),
            BattleRecord("y", "x", "tie", tstamp=2.0),
        ]
    )
    ratings = online_elo([record async for record in store.iter_battles()])
    assert await store.elo_ratings() == pytest.approx(ratings)  # the store's own replay
    assert ratings == pytest.approx(
        online_elo([battle("x", "y", "a"), battle("y", "x", "tie"), battle("x", "z", "b")])
    )
    assert ratings["z"] == pytest.approx(1002.011383, abs=1e-5)


# --- the pair table -----------------------------------------------------------------


def test_pair_table_merges_pairs_in_either_order() -> None:
    """A pair given the other way round swaps its wins and keeps its ties and both-bad
    votes as they were (each outcome distinct, so no two can be mixed up unseen)."""
    table = PairTable.from_counts(
        [PairCount("a", "b", 3, 1, 2, 1), PairCount("b", "a", 5, 0, 4, 7)]
    )
    assert table.models == ["a", "b"]
    assert (table.wins_i[0], table.wins_j[0], table.ties[0], table.both_bad[0]) == (3, 6, 6, 8)
    assert table.per_model(table.battles, table.battles).tolist() == [23, 23]


def test_pair_table_leaves_out_pairs_without_battles() -> None:
    table = PairTable.from_counts([PairCount("a", "b", 1, 0, 0, 0), PairCount("b", "c")])
    assert table.models == ["a", "b"]
    assert len(table.i) == 1


def test_pair_table_refuses_a_model_against_itself() -> None:
    with pytest.raises(ValueError, match="itself"):
        PairTable.from_counts([PairCount("a", "a", 1, 0, 0, 0)])


# --- Bradley-Terry ------------------------------------------------------------------


def test_fit_matches_a_generic_optimiser_on_davidsons_likelihood() -> None:
    truth = np.array([1000.0, 1100.0, 900.0, 1250.0, 980.0])
    table = PairTable.from_counts(simulate(truth, 60, 0.6, np.random.default_rng(1)))
    fit = fit_bradley_terry(table, tie_shape=0.0)

    def negative_log_likelihood(x: np.ndarray) -> float:
        beta, log_nu = x[:-1], x[-1]
        a, b = beta[table.i], beta[table.j]
        tie = log_nu + (a + b) / 2
        log_d = np.logaddexp(np.logaddexp(a, b), tie)
        ll = table.wins_i @ (a - log_d) + table.wins_j @ (b - log_d)
        ll += table.fit_ties @ (tie - log_d)
        # the prior: normal on each strength (sd PRIOR_SD Elo points), a whisper on log ν
        return -ll + 0.5 * (strength_precision(PRIOR_SD) * beta @ beta + NU_PRECISION * log_nu**2)

    reference = minimize(negative_log_likelihood, np.zeros(6), method="BFGS", tol=1e-10).x
    assert fit.strengths == pytest.approx(reference[:-1] - reference[:-1].mean(), abs=1e-4)
    assert fit.log_nu == pytest.approx(reference[-1], abs=1e-4)
    assert fit.scores.mean() == pytest.approx(1000.0)


def test_fit_recovers_known_ratings_on_the_elo_scale() -> None:
    rng = np.random.default_rng(7)
    truth = rng.normal(1000, 150, 16)
    fit = fit_bradley_terry(PairTable.from_counts(simulate(truth, 400, 0.5, rng)))
    assert spearmanr(truth, fit.scores).statistic > 0.97
    centred_truth = truth - truth.mean() + 1000
    assert np.abs(fit.scores - centred_truth).max() < 40
    assert fit.scores.std() / truth.std() == pytest.approx(1.0, abs=0.05)
    assert fit.nu == pytest.approx(0.5, rel=0.15)


@pytest.mark.parametrize("nu", [0.35, 1.0])  # about 10% and 30% ties
def test_ties_do_not_compress_the_scale_but_half_wins_do(nu: float) -> None:
    rng = np.random.default_rng(11)
    truth = rng.normal(1000, 150, 20)
    with_ties = simulate(truth, 2000, nu, rng)
    without_ties = simulate(truth, 2000, 0.0, rng)
    assert 0.08 < tie_share(with_ties) < 0.35

    def spread(counts: list[PairCount]) -> float:
        return float(fit_bradley_terry(PairTable.from_counts(counts)).scores.std())

    baseline = spread(without_ties)
    assert spread(with_ties) / baseline == pytest.approx(1.0, abs=0.03)
    assert spread(as_half_wins(with_ties)) / baseline < 0.93


def test_the_tie_shape_is_chosen_by_likelihood_and_keeps_the_scale() -> None:
    rng = np.random.default_rng(8)
    truth = rng.normal(1000, 150, 12)
    constant = PairTable.from_counts(simulate_constant_ties(truth, 600, 0.1, rng))
    davidson = PairTable.from_counts(simulate(truth, 600, 0.3, rng))
    assert fit_bradley_terry(constant).tie_shape > 0.8
    assert fit_bradley_terry(davidson).tie_shape < 0.2
    # Davidson's model on gap-independent ties reads ties as evidence of closeness
    chosen = fit_bradley_terry(constant).scores
    forced = fit_bradley_terry(constant, tie_shape=0.0).scores
    assert np.ptp(chosen) / np.ptp(truth) == pytest.approx(1.0, abs=0.04)
    assert np.ptp(forced) / np.ptp(truth) < np.ptp(chosen) / np.ptp(truth) - 0.03


def test_a_tie_shape_between_the_two_named_models_is_found() -> None:
    rng = np.random.default_rng(12)
    truth = rng.normal(1000, 200, 10)
    strength = truth * math.log(10) / 400
    counts = []
    for i in range(10):
        for j in range(i + 1, 10):
            d = (strength[i] - strength[j]) / 2
            weights = np.array([math.exp(d), math.exp(-d), 0.3 * math.cosh(d) ** 0.5])
            a, b, tie = rng.multinomial(4000, weights / weights.sum())
            counts.append(PairCount(f"m{i}", f"m{j}", a, b, tie))
    assert fit_bradley_terry(PairTable.from_counts(counts)).tie_shape == pytest.approx(
        0.5, abs=0.15
    )


def test_a_tie_shape_outside_zero_to_one_is_refused() -> None:
    table = PairTable.from_counts([PairCount("a", "b", 3, 1, 1, 0)])
    with pytest.raises(ValueError, match="tie shape"):
        fit_bradley_terry(table, tie_shape=1.5)


def test_an_undefeated_model_stays_finite_and_on_top() -> None:
    fit = fit_bradley_terry(PairTable.from_counts([PairCount("a", "b", 3, 0, 0, 0)]))
    assert np.all(np.isfinite(fit.scores))
    assert fit.scores[0] > fit.scores[1]


def test_a_table_without_ties_fits_a_tiny_tie_parameter() -> None:
    rng = np.random.default_rng(3)
    fit = fit_bradley_terry(
        PairTable.from_counts(simulate(np.array([900.0, 1000, 1100]), 200, 0.0, rng))
    )
    assert fit.nu < 1e-3
    assert np.all(np.diff(fit.scores) > 0)


# --- bootstrap and Rank (UB) ----------------------------------------------------------


def test_bootstrap_is_reproducible_and_centred_on_the_fit() -> None:
    truth = np.array([900.0, 1000.0, 1050.0, 1200.0])
    table = PairTable.from_counts(simulate(truth, 300, 0.4, np.random.default_rng(5)))
    fit = fit_bradley_terry(table)
    first = bootstrap_scores(table, fit, 50, np.random.default_rng(9))
    again = bootstrap_scores(table, fit, 50, np.random.default_rng(9))
    assert first.shape == (50, 4)
    assert np.array_equal(first, again)
    assert first.mean(axis=0) == pytest.approx(fit.scores, abs=10)
    assert np.all(first.std(axis=0) > 1)


def test_bootstrap_intervals_cover_the_truth_at_near_the_nominal_rate() -> None:
    rng = np.random.default_rng(2024)
    covered, total = 0, 0
    for _ in range(40):
        truth = rng.normal(1000, 150, 8)
        table = PairTable.from_counts(simulate(truth, 40, 0.4, rng))
        fit = fit_bradley_terry(table)
        low, high = np.percentile(bootstrap_scores(table, fit, 100, rng), [2.5, 97.5], axis=0)
        centred = truth - truth.mean() + 1000  # scores are anchored at mean 1000
        covered += int(np.sum((low <= centred) & (centred <= high)))
        total += len(truth)
    assert 0.88 <= covered / total <= 0.99


def test_the_seed_from_the_data_is_stable_and_moves_with_any_vote() -> None:
    counts = [PairCount("a", "b", 5, 3, 1, 0), PairCount("b", "c", 2, 4, 0, 1)]
    same = [PairCount("a", "b", 5, 3, 1, 0), PairCount("b", "c", 2, 4, 0, 1)]
    one_more = [PairCount("a", "b", 5, 3, 1, 0), PairCount("b", "c", 2, 4, 0, 2)]
    seed = data_seed(PairTable.from_counts(counts))
    assert seed == data_seed(PairTable.from_counts(same))
    assert seed != data_seed(PairTable.from_counts(one_more))


@pytest.mark.parametrize("robust", [True, False])
def test_normal_intervals_from_the_covariance_cover_the_truth(robust: bool) -> None:
    rng = np.random.default_rng(77)
    covered, total = 0, 0
    for _ in range(30):
        truth = rng.normal(1000, 150, 8)
        table = PairTable.from_counts(simulate_constant_ties(truth, 60, 0.1, rng))
        fit = fit_bradley_terry(table)
        low, high = normal_intervals(fit, score_covariance(table, fit, robust=robust))
        centred = truth - truth.mean() + 1000
        covered += int(np.sum((low <= centred) & (centred <= high)))
        total += len(truth)
    assert 0.88 <= covered / total <= 0.99


def test_sandwich_and_model_covariances_agree_when_the_model_is_right() -> None:
    truth = np.array([900.0, 1000.0, 1050.0, 1200.0, 980.0])
    table = PairTable.from_counts(simulate(truth, 3000, 0.4, np.random.default_rng(6)))
    fit = fit_bradley_terry(table, tie_shape=0.0)
    robust = score_covariance(table, fit)
    model = score_covariance(table, fit, robust=False)
    assert np.sqrt(np.diag(robust)) == pytest.approx(np.sqrt(np.diag(model)), rel=0.1)
    assert robust.sum(axis=1) == pytest.approx(0.0, abs=1e-6)  # centred scores


def test_bootstrap_warm_start_from_a_given_fit_changes_nothing() -> None:
    truth = np.array([950.0, 1000.0, 1100.0])
    table = PairTable.from_counts(simulate(truth, 200, 0.4, np.random.default_rng(4)))
    fit = fit_bradley_terry(table)
    cold = BTFit(np.zeros(3), -1.0)
    warm = bootstrap_scores(table, fit, 20, np.random.default_rng(1))
    from_cold = bootstrap_scores(table, cold, 20, np.random.default_rng(1))
    assert warm == pytest.approx(from_cold, abs=1e-2)


def test_bootstrap_on_a_handful_of_votes_is_finite_and_start_independent() -> None:
    # resamples such as 3-0 from 2-1 lie far from the full fit: the slow path refits them
    table = PairTable.from_counts(
        [PairCount("a", "b", 2, 1, 0, 0), PairCount("b", "c", 1, 1, 1, 0)]
    )
    fit = fit_bradley_terry(table)
    warm = bootstrap_scores(table, fit, 100, np.random.default_rng(1))
    cold = bootstrap_scores(table, BTFit(np.zeros(3), -1.0), 100, np.random.default_rng(1))
    assert np.all(np.isfinite(warm))
    assert warm == pytest.approx(cold, abs=1e-2)
    assert warm.mean(axis=1) == pytest.approx(1000.0)


def test_rank_upper_bound_counts_models_clearly_above() -> None:
    low = np.array([10.0, 15.0, 30.0, 5.0])
    high = np.array([20.0, 25.0, 40.0, 12.0])
    # model 3 (5..12): models 1 and 2 have lower bounds above 12, model 0 (10) not -> 3
    assert rank_upper_bounds(low, high).tolist() == [2, 2, 1, 3]
    # "above" is strictly above: a lower bound equal to my upper bound overlaps it
    assert rank_upper_bounds(np.array([1.0, 2.0]), np.array([2.0, 3.0])).tolist() == [1, 1]


def test_a_prior_of_no_spread_is_refused() -> None:
    table = PairTable.from_counts([PairCount("a", "b", 3, 1, 0, 0)])
    for prior_sd in (0.0, -50.0):
        with pytest.raises(ValueError, match="must be positive"):
            fit_bradley_terry(table, prior_sd=prior_sd)


# --- the prior, the anchor, λ fitted with the rest ----------------------------------


def test_the_tie_shape_fitted_with_the_rest_is_the_profile_maximum() -> None:
    rng = np.random.default_rng(31)
    truth = rng.normal(1000, 200, 8)
    table = PairTable.from_counts(simulate_constant_ties(truth, 300, 0.15, rng))
    joint = fit_bradley_terry(table)

    def log_likelihood(fit: BTFit) -> float:
        rounds = Rounds.observed(table, fit.prior_sd)
        beta = np.concatenate([fit.strengths, fit.coefficients])[None, :]
        return float(
            evaluate(beta, np.array([fit.log_nu]), fit.tie_shape, table, rounds).log_likelihood[0]
        )

    profile = [log_likelihood(fit_bradley_terry(table, tie_shape=s)) for s in np.linspace(0, 1, 21)]
    assert log_likelihood(joint) >= max(profile) - 1e-6
    assert 0 < joint.tie_shape <= 1


def test_the_prior_widens_with_the_firm_models_spread() -> None:
    rng = np.random.default_rng(5)
    narrow = PairTable.from_counts(simulate(rng.normal(1000, 60, 6), 200, 0.4, rng))
    wide = PairTable.from_counts(simulate(rng.normal(1000, 500, 6), 200, 0.4, rng))
    everyone = np.ones(6, dtype=bool)
    assert spread_prior_sd(fit_bradley_terry(narrow), everyone) == PRIOR_SD
    wide_fit = fit_bradley_terry(wide)
    assert spread_prior_sd(wide_fit, everyone) == pytest.approx(np.std(wide_fit.scores, ddof=1))
    assert spread_prior_sd(wide_fit, everyone) > 300
    two = np.array([True, True, False, False, False, False])
    assert spread_prior_sd(wide_fit, two) == PRIOR_SD  # too few to read a spread from


def test_the_board_refits_until_its_prior_matches_the_firm_models_spread() -> None:
    """board_fit's prior is read from its own fit's spread (within the 2% it stops at):
    on a wide board it is wider than the default, on a narrow one it is the default."""
    rng = np.random.default_rng(5)
    wide = PairTable.from_counts(simulate(rng.normal(1000, 500, 6), 200, 0.4, rng))
    fit = board_fit(wide, provisional_votes=20)
    firm = wide.per_model(wide.battles, wide.battles) >= 20
    assert fit.prior_sd > 300
    assert fit.prior_sd == pytest.approx(spread_prior_sd(fit, firm), rel=0.02)
    narrow = PairTable.from_counts(simulate(rng.normal(1000, 60, 6), 200, 0.4, rng))
    assert board_fit(narrow, provisional_votes=20).prior_sd == PRIOR_SD


def test_a_one_vote_model_stays_near_the_others_with_an_interval_the_prior_allows() -> None:
    counts = simulate(np.array([900.0, 1000.0, 1100.0]), 300, 0.4, np.random.default_rng(8))
    counts.append(PairCount("m02", "newcomer", 1, 0, 0, 0))  # m02 beat it once
    table = PairTable.from_counts(counts)
    firm = np.array([m != "newcomer" for m in table.models])
    fit = replace(fit_bradley_terry(table), anchor=firm)
    newcomer = table.models.index("newcomer")
    sd = np.sqrt(np.diag(score_covariance(table, fit)))
    # about the prior's own sd: one loss moves it a little and narrows it a little
    assert 0.7 * PRIOR_SD < sd[newcomer] < PRIOR_SD
    assert 700 < fit.scores[newcomer] < 1000
    assert fit.scores[firm].mean() == pytest.approx(1000.0)
    assert np.all(sd[firm] < sd[newcomer] / 5)
    # the anchor's mean is fixed, so it has no variance
    assert firm / firm.sum() @ score_covariance(table, fit) == pytest.approx(0.0, abs=1e-6)


def test_bootstrap_resamples_battles_so_a_pair_seen_once_still_varies() -> None:
    table = PairTable.from_counts(
        [PairCount("a", "b", 40, 35, 10, 0), PairCount("a", "c", 1, 0, 0, 0)]
    )
    fit = fit_bradley_terry(table)
    samples = bootstrap_scores(table, fit, 200, np.random.default_rng(3))
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    c = table.models.index("c")
    assert high[c] - low[c] > 400  # one vote: the prior's width, not a certainty


def test_the_cautious_covariance_takes_the_wider_of_sandwich_and_posterior() -> None:
    counts = simulate(np.array([900.0, 1000.0, 1100.0]), 300, 0.4, np.random.default_rng(9))
    counts.append(PairCount("m02", "newcomer", 0, 2, 0, 0))
    table = PairTable.from_counts(counts)
    fit = fit_bradley_terry(table)
    robust = np.diag(score_covariance(table, fit))
    model = np.diag(score_covariance(table, fit, robust=False))
    cautious = cautious_covariance(table, fit)
    assert np.diag(cautious) == pytest.approx(np.maximum(robust, model))
    assert np.count_nonzero(cautious - np.diag(np.diag(cautious))) == 0
    newcomer = table.models.index("newcomer")
    assert model[newcomer] > robust[newcomer]  # two votes: the sandwich's middle is thin
