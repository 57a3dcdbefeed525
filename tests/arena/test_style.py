"""Style control: features at write time, standardised differences, and scores that
recover the truth when longer answers win whatever the model."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from arena.leaderboard import build_board
from arena.migrations import MIGRATIONS, migrate
from arena.pair_table import PairTable
from arena.ratings import fit_bradley_terry
from arena.store import BattleRecord, PairCount, Store
from arena.style import (
    FEATURE_NAMES,
    StyleRow,
    fit_style_control,
    style_covariates,
    style_features,
)
from arena.types import Answer
from knowledge.sql import open_async

pytestmark = pytest.mark.both_engines

MARKDOWN = """# Rolling back

1. Open the **deploy** page.
2. Pick the last good build.
- then wait
* and **check** it

```bash
# not a header
- not a list item **nor bold**
```
"""


def test_features_count_markdown_outside_code_blocks() -> None:
    features = style_features(MARKDOWN)
    assert (features.headers, features.list_items, features.bold) == (1, 4, 2)
    assert features.tokens > style_features("Open the deploy page.").tokens > 0
    assert style_features("").as_tuple() == (0, 0, 0, 0)


def test_covariates_are_standardised_and_missing_features_are_zero() -> None:
    rows = [
        StyleRow("a", "b", "a", (100, 2, 0, 1), (50, 0, 0, 1)),
        StyleRow("a", "b", "b", (20, 0, 0, 0), (60, 1, 0, 3), count=2),
        StyleRow("b", "a", "tie", (30, 0, 0, 0), (30, 0, 0, 0)),
        StyleRow("a", "b", "a", None, None, count=5),
    ]
    z = style_covariates(rows)
    weights = np.array([1, 2, 1])
    present = z[:3]
    assert np.average(present, axis=0, weights=weights)[0] == pytest.approx(0.0, abs=1e-12)
    assert np.sqrt(np.average(present[:, 0] ** 2, weights=weights)) == pytest.approx(1.0)
    assert present[0, 0] > 0 > present[1, 0]  # the longer answer's side is positive
    assert np.all(z[:, 2] == 0)  # no lists anywhere: no spread, no signal
    assert np.all(z[3] == 0)


def simulated_style_votes(rng: np.random.Generator) -> tuple[np.ndarray, list[StyleRow]]:
    """True ratings, and battles in which the longer answer wins more whatever the
    model; the weaker models tend to write longer answers, each answer's length
    varying around its model's habit."""
    truth = np.array([1100.0, 1050.0, 1000.0, 950.0, 900.0])
    verbosity = np.array([80.0, 120.0, 200.0, 300.0, 400.0])
    rows = []
    for _ in range(6000):
        i, j = rng.choice(5, 2, replace=False)
        length_i, length_j = (round(verbosity[k] * rng.lognormal(0, 0.6)) + 1 for k in (i, j))
        z = (length_i - length_j) / (length_i + length_j)
        logit = (truth[i] - truth[j]) * math.log(10) / 400 + 4.0 * z
        if rng.random() < 0.1:
            choice = "tie"
        else:
            choice = "a" if rng.random() < 1 / (1 + math.exp(-logit)) else "b"
        rows.append(StyleRow(f"m{i}", f"m{j}", choice, (length_i, 0, 0, 0), (length_j, 0, 0, 0)))
    return truth, rows


def plain_counts(rows: list[StyleRow]) -> list[PairCount]:
    seen = Counter((r.model_a, r.model_b, r.choice) for r in rows)
    pairs = {(r.model_a, r.model_b) for r in rows}
    return [PairCount(a, b, seen[a, b, "a"], seen[a, b, "b"], seen[a, b, "tie"]) for a, b in pairs]


def test_style_control_recovers_the_truth_where_plain_bradley_terry_does_not() -> None:
    truth, rows = simulated_style_votes(np.random.default_rng(4))
    centred = truth - truth.mean() + 1000
    plain = fit_bradley_terry(PairTable.from_counts(plain_counts(rows)))
    styled = fit_style_control(rows, plain)
    assert styled.models == [f"m{k}" for k in range(5)]
    assert np.abs(plain.scores - centred).max() > 60  # verbose, weak models climb
    assert np.abs(styled.scores - centred).max() < 25
    assert np.all(np.diff(styled.scores) < 0)  # the true order
    assert styled.coefficients["length"] > 0.5
    covered = (styled.ci_low <= centred) & (centred <= styled.ci_high)
    assert covered.sum() >= 4


def test_style_control_refuses_a_model_against_itself() -> None:
    with pytest.raises(ValueError, match="itself"):
        fit_style_control([StyleRow("a", "a", "a", None, None)])


async def test_answers_get_their_features_at_write_time_and_imports_none(store: Store) -> None:
    question = await store.record_question(
        platform="console", channel="general", user="u", thread=None, text="how?", hits=[]
    )
    long_id = await store.record_answer(question, Answer("alpha", text=MARKDOWN))
    short_id = await store.record_answer(question, Answer("beta", text="Use the button."))
    battle = await store.record_battle(question, long_id, short_id)
    await store.record_vote(battle, "ann", "a")
    await store.bulk_record_battles([BattleRecord("alpha", "beta", "b", tstamp=1.0)])
    rows = sorted(await store.style_rows(), key=lambda r: r.choice)
    assert [(r.choice, r.count) for r in rows] == [("a", 1), ("b", 1)]
    assert rows[0].features_a == style_features(MARKDOWN).as_tuple()
    assert rows[0].features_b == style_features("Use the button.").as_tuple()
    assert rows[1].features_a is None and rows[1].features_b is None


async def test_the_upgrade_gives_stored_answers_their_features(durable_target: str) -> None:
    database = await open_async(durable_target)
    try:
        await migrate(database, [step for step in MIGRATIONS if step.name < "005"])
        async with database.transaction() as s:
            await s.execute(
                "INSERT INTO questions VALUES (1, 'slack', 'g', 'u', NULL, 'q', '[]', 1)"
            )
            await s.execute(
                "INSERT INTO answers (id, question_id, model, text, created_at)"
                " VALUES (1, 1, 'alpha', ?, 2), (2, 1, 'beta', '', 2)",
                (MARKDOWN,),
            )
    finally:
        await database.close()
    store = await Store.open(durable_target)
    try:
        stored = await store._rows(
            "SELECT style_tokens, style_headers, style_lists, style_bold FROM answers ORDER BY id"
        )
    finally:
        await store.close()
    assert stored == [style_features(MARKDOWN).as_tuple(), (None, None, None, None)]


async def test_the_board_with_style_adds_scores_and_coefficients(store: Store) -> None:
    for n in range(12):
        question = await store.record_question(
            platform="console", channel="general", user="u", thread=None, text="q", hits=[]
        )
        texts = ("word " * (40 + n), "word " * 5) if n % 2 else ("word " * 5, "word " * 40)
        ids = [
            await store.record_answer(question, Answer(m, text=t))
            for m, t in zip(("alpha", "beta"), texts, strict=True)
        ]
        longer = "a" if n % 2 else "b"  # the longer answer always wins
        await store.record_vote(await store.record_battle(question, *ids), "ann", longer)
    plain = await build_board(store)
    styled = await build_board(store, style=True)
    assert plain.style_coefficients is None
    assert all(r.style_score is None for r in plain.rows)
    assert list(styled.style_coefficients) == list(FEATURE_NAMES)
    assert styled.style_coefficients["length"] > 0.3
    for row in styled.rows:
        assert row.style_ci_low < row.style_score < row.style_ci_high
        assert row.style_rank_ub == 1


async def test_style_rows_count_exactly_the_votes_the_pair_counts_do(store: Store) -> None:
    for n, choice in enumerate(["a", "b", "tie", "a"]):
        question = await store.record_question(
            platform="console", channel="general", user="u", thread=None, text="q", hits=[]
        )
        ids = [
            await store.record_answer(question, Answer(m, text="word " * (3 + n)))
            for m in ("beta", "alpha")  # A is beta: the pair's order flips
        ]
        battle = await store.record_battle(
            question, *ids, excluded="names_model" if n == 3 else None
        )
        await store.record_vote(battle, f"voter-{n}", choice)
    await store.bulk_record_battles(
        [BattleRecord("alpha", "beta", c, tstamp=float(n)) for n, c in enumerate(["a", "a", "b"])]
    )
    for cap in (None, 1):
        totals: Counter[tuple[str, str, str]] = Counter()
        for row in await store.style_rows(daily_cap=cap):
            totals[row.model_a, row.model_b, row.choice] += row.count
        counted = await store.pair_counts(daily_cap=cap)
        as_rows = Counter()
        for c in counted:
            for choice, n in zip(
                ("a", "b", "tie", "both_bad"), (c.a_wins, c.b_wins, c.ties, c.both_bad), strict=True
            ):
                as_rows[c.model_a, c.model_b, choice] += n
        flipped = Counter()
        for (a, b, choice), n in totals.items():
            if a > b:
                a, b, choice = b, a, {"a": "b", "b": "a"}.get(choice, choice)
            flipped[a, b, choice] += n
        assert +flipped == +as_rows
