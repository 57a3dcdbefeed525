"""Battle hygiene: self-naming answers, excluded battles, the daily vote cap."""

from __future__ import annotations

import io
import json

import pytest

from arena.battles_io import export_battles, import_battles
from arena.errors import StoreError
from arena.hygiene import NAMES_MODEL, battle_exclusion, default_identity_words, names_itself
from arena.leaderboard import build_board
from arena.store import BattleRecord, PairCount, Store
from arena.types import Answer, ModelSpec

pytestmark = pytest.mark.both_engines

DAY = 86_400.0


async def battle(
    store: Store, texts: tuple[str, str] = ("because", "since"), excluded: str | None = None
) -> int:
    question = await store.record_question(
        platform="console", channel="general", user="u", thread=None, text="why?", hits=[]
    )
    ids = [
        await store.record_answer(question, Answer(model, text=text))
        for model, text in zip(("alpha", "beta"), texts, strict=True)
    ]
    return await store.record_battle(question, *ids, excluded=excluded)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("As Claude, I would roll back first.", "Claude"),
        ("I am GPT-4o, trained by OpenAI.", "GPT-4o"),
        ("openai's docs say so", "openai"),
        ("Claudette in accounting knows.", None),
        ("Roll back with the deploy script.", None),
    ],
)
def test_an_answer_names_itself_only_by_a_whole_identity_word(text: str, found: str | None) -> None:
    words = ["gpt-4o", "GPT", "OpenAI", "Claude", "Anthropic"]
    assert names_itself(text, words) == found


def test_default_identity_words_come_from_the_roster() -> None:
    specs = [
        ModelSpec(name="fast", provider="openai", model="gpt-4o-mini"),
        ModelSpec(name="offline-sentences", provider="offline-sentences"),
    ]
    words = default_identity_words(specs)
    assert words["fast"] == ["fast", "gpt-4o-mini", "OpenAI", "ChatGPT", "GPT"]
    assert words["offline-sentences"] == ["offline-sentences"]


def test_a_battle_is_excluded_when_either_answer_names_its_own_model() -> None:
    words = {"alpha": ["Alpha", "AlphaCorp"], "beta": ["Beta"]}
    assert battle_exclusion([("alpha", "fine"), ("beta", "I am Beta.")], words) == NAMES_MODEL
    assert battle_exclusion([("alpha", "fine"), ("beta", "Alpha is wrong")], words) is None
    assert battle_exclusion([("gamma", "gamma here")], words) == NAMES_MODEL  # own name


async def test_an_excluded_battle_takes_votes_but_stays_out_of_counts_and_elo(
    store: Store,
) -> None:
    counted = await battle(store)
    flagged = await battle(store, ("I am alpha", "since"), excluded=NAMES_MODEL)
    await store.record_vote(counted, "ann", "a")
    result = await store.record_vote(flagged, "ann", "b")  # still votable
    assert (result.model_a, result.model_b) == ("alpha", "beta")
    assert await store.pair_counts() == [PairCount("alpha", "beta", 1, 0, 0, 0)]
    assert await store.left_out_counts() == [(NAMES_MODEL, PairCount("alpha", "beta", 0, 1, 0, 0))]
    assert await store.elo_ratings() == {"alpha": 1002.0, "beta": 998.0}
    board = await build_board(store)
    assert board.left_out == {NAMES_MODEL: 1}
    assert [(r.model, r.votes, r.left_out_votes) for r in board.rows] == [
        ("alpha", 1, 1),
        ("beta", 1, 1),
    ]


async def test_exports_mark_excluded_battles_and_imports_keep_the_mark(store: Store) -> None:
    await store.record_vote(await battle(store), "ann", "a")
    await store.record_vote(await battle(store, excluded=NAMES_MODEL), "ann", "b")
    out = io.StringIO()
    assert await export_battles(store, out) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert ["excluded" in line for line in lines] == [False, True]
    assert lines[1]["excluded"] == NAMES_MODEL
    fresh = await Store.open(":memory:")
    try:
        await import_battles(fresh, io.StringIO(out.getvalue()))
        assert await fresh.pair_counts() == [PairCount("alpha", "beta", 1, 0, 0, 0)]
        assert [r for r, _ in await fresh.left_out_counts()] == [NAMES_MODEL]
    finally:
        await fresh.close()


async def test_the_daily_cap_counts_each_users_first_votes_of_a_day(store: Store) -> None:
    records = [  # ann votes a four times on day 0 and once on day 1; bob votes b once
        *(BattleRecord("alpha", "beta", "a", n * 60.0, "general", "ann") for n in range(4)),
        BattleRecord("alpha", "beta", "a", DAY + 5, "general", "ann"),
        BattleRecord("alpha", "beta", "b", 30.0, "other", "bob"),
    ]
    await store.bulk_record_battles(records)
    assert await store.pair_counts() == [PairCount("alpha", "beta", 5, 1, 0, 0)]
    capped = await store.pair_counts(daily_cap=2)
    assert capped == [PairCount("alpha", "beta", 3, 1, 0, 0)]  # 2 on day 0, 1 on day 1
    assert await store.pair_counts("other", daily_cap=2) == [PairCount("alpha", "beta", 0, 1)]
    assert await store.left_out_counts(daily_cap=2) == [
        ("daily_cap", PairCount("alpha", "beta", 2, 0, 0, 0))
    ]
    # a capped vote is left out of Elo too: the same ratings as without the two
    assert await store.elo_ratings(daily_cap=2) == pytest.approx(
        await elo_of(records[:2] + records[4:])
    )
    with pytest.raises(StoreError, match="cap"):
        await store.pair_counts(daily_cap=-1)


async def elo_of(records: list[BattleRecord]) -> dict[str, float]:
    fresh = await Store.open(":memory:")
    try:
        await fresh.bulk_record_battles(records)
        return await fresh.elo_ratings()
    finally:
        await fresh.close()


async def test_a_battle_excluded_after_its_votes_were_counted_is_replayed_out_of_elo(
    store: Store,
) -> None:
    first, second = await battle(store), await battle(store)
    await store.record_vote(first, "ann", "a")
    await store.record_vote(second, "ann", "a")
    assert await store.elo_ratings() == pytest.approx({"alpha": 1003.988, "beta": 996.012}, 1e-3)
    await store._write(  # a later audit marks the first battle; no API does this yet
        lambda db: db.execute("UPDATE battles SET excluded = ? WHERE id = ?", (NAMES_MODEL, first))
    )
    assert await store.elo_ratings() == {"alpha": 1002.0, "beta": 998.0}
