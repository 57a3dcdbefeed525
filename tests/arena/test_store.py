"""The store's records: questions with passages, answers, thread history, bulk writes
(on SQLite and on PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena.errors import StoreError, VoteRefused
from arena.store import BattleRecord, PairCount, Store
from arena.types import Answer, Citation, Turn
from knowledge.types import Hit, Passage

pytestmark = pytest.mark.both_engines


async def ask(store: Store, text: str, *, thread: str | None = "t1", user: str = "ann") -> int:
    return await store.record_question(
        platform="slack", channel="general", user=user, thread=thread, text=text, hits=[]
    )


async def one_row(store: Store, sql: str, *params: object) -> tuple:
    return (await store._rows(sql, params))[0]  # reading raw rows checks what is kept


async def test_questions_keep_their_passages_and_answers_their_accounting(store: Store) -> None:
    passage = Passage(
        id="p1", text="Leave is 25 days.", source="hr.md", title="HR", heading_path=("Leave",)
    )
    question = await store.record_question(
        platform="discord",
        channel="help",
        user="ann",
        thread="th",
        text="How much leave?",
        hits=[Hit(passage, 0.8123456789)],
    )
    answer = Answer(
        "alpha",
        text="25 days [1].",
        citations=[Citation(1, passage)],
        input_tokens=120,
        output_tokens=9,
        latency_ms=350.5,
        cost_usd=0.0002,
    )
    answer_id = await store.record_answer(question, answer)
    failed_id = await store.record_answer(question, Answer("beta", error="timed out"))
    row = await one_row(store, "SELECT platform, thread, text FROM questions")
    assert row == ("discord", "th", "How much leave?")
    row = await one_row(
        store,
        "SELECT qp.rank, qp.score, t.passage_id, t.source, t.location, t.text"
        " FROM question_passages qp JOIN passage_texts t ON t.hash = qp.passage_hash",
    )
    assert row == (0, 0.8123456789, "p1", "hr.md", "Leave", "Leave is 25 days.")
    row = await one_row(
        store,
        "SELECT model, text, citations, input_tokens, output_tokens, latency_ms, cost_usd, error"
        " FROM answers WHERE id = ?",
        answer_id,
    )
    assert row[:2] == ("alpha", "25 days [1].")
    assert json.loads(row[2]) == [{"number": 1, "id": "p1", "source": "hr.md", "location": "Leave"}]
    assert row[3:] == (120, 9, 350.5, 0.0002, None)
    assert await one_row(store, "SELECT error FROM answers WHERE id = ?", failed_id) == (
        "timed out",
    )


async def test_an_answer_keeps_the_text_it_was_shown_after_its_file_changes(
    store: Store,
) -> None:
    """Passage ids hash the text, so a re-index retires them; the record must not."""
    old = Passage("p-old", "Meals are capped at 40 EUR.", "/kb/expenses.pdf", "Expenses")
    new = Passage("p-new", "Meals are capped at 60 EUR.", "/kb/expenses.pdf", "Expenses")
    first = await store.record_question(
        platform="slack", channel="c", user="u", thread=None, text="Meal cap?", hits=[Hit(old, 1)]
    )
    first_answer = await store.record_answer(first, Answer("alpha", text="40 EUR", shown=[old]))
    second = await store.record_question(
        platform="slack", channel="c", user="u", thread=None, text="Meal cap?", hits=[Hit(new, 1)]
    )
    second_answer = await store.record_answer(second, Answer("alpha", text="60", shown=[new]))
    again = await store.record_question(  # the same passage again is stored once
        platform="slack", channel="c", user="v", thread=None, text="Meals?", hits=[Hit(new, 0.5)]
    )
    record = await store.answer_record(first_answer)
    assert record is not None
    assert (record.question, record.model, record.text) == ("Meal cap?", "alpha", "40 EUR")
    assert [p.text for p in record.passages] == ["Meals are capped at 40 EUR."]
    later = await store.answer_record(second_answer)
    assert later is not None and [p.id for p in later.passages] == ["p-new"]
    assert await one_row(store, "SELECT COUNT(*) FROM passage_texts") == (2,)
    assert again and await store.answer_record(9999) is None


async def test_thumbs_keep_their_reason_and_a_thumb_up_clears_it(store: Store) -> None:
    question = await ask(store, "q")
    answer = await store.record_answer(question, Answer("alpha", text="x"))
    await store.record_thumb(answer, "ann", -1, "outdated")
    await store.record_thumb(answer, "bob", -1, "The rota moved to PagerDuty")
    assert await store.thumb_reasons(answer) == [
        ("ann", -1, "outdated"),
        ("bob", -1, "The rota moved to PagerDuty"),
    ]
    await store.record_thumb(answer, "ann", 1)
    assert ("ann", 1, None) in await store.thumb_reasons(answer)


async def test_a_battle_takes_its_questions_channel(store: Store) -> None:
    question = await store.record_question(
        platform="slack", channel="random", user="u", thread=None, text="q", hits=[]
    )
    left = await store.record_answer(question, Answer("alpha", text="x"))
    right = await store.record_answer(question, Answer("beta", text="y"))
    battle = await store.record_battle(question, left, right)
    assert await one_row(store, "SELECT channel, answer_a FROM battles WHERE id = ?", battle) == (
        "random",
        left,
    )


async def test_a_battles_place_is_read_once_and_an_unknown_one_is_not_remembered(
    store: Store,
) -> None:
    assert await store.battle_place(1) is None  # no battle yet: asked again, not remembered
    question = await store.record_question(
        platform="slack", channel="random", user="u", thread=None, text="q", hits=[]
    )
    left = await store.record_answer(question, Answer("alpha", text="x"))
    right = await store.record_answer(question, Answer("beta", text="y"))
    battle = await store.record_battle(question, left, right)
    assert battle == 1
    assert await store.battle_place(battle) == ("slack", "random")
    # a place never changes, so a vote does not read it again: the second answer is the
    # remembered one even though the row was moved behind the store's back
    await store._write(lambda s: s.execute("UPDATE questions SET channel = 'moved'"))
    assert await store.battle_place(battle) == ("slack", "random")


async def test_thread_history_pairs_each_question_with_its_answer(store: Store) -> None:
    first = await ask(store, "What is leave?")
    await store.record_answer(first, Answer("alpha", error="timed out"))
    await store.record_answer(first, Answer("beta", text="Time off."))
    await ask(store, "Unanswered?")
    other_thread = await ask(store, "Elsewhere", thread="t2")
    await store.record_answer(other_thread, Answer("alpha", text="not here"))
    assert await store.thread_history("slack", "general", "t1") == [
        Turn("user", "What is leave?"),
        Turn("assistant", "Time off."),
        Turn("user", "Unanswered?"),
    ]
    assert await store.thread_history("discord", "general", "t1") == []


async def test_thread_history_follows_the_askers_vote_in_a_battle(store: Store) -> None:
    async def battle(text: str) -> int:
        question = await ask(store, text)
        right = await store.record_answer(question, Answer("alpha", text=f"{text}: alpha"))
        left = await store.record_answer(question, Answer("beta", text=f"{text}: beta"))
        return await store.record_battle(question, left, right)  # beta shown as A

    voted_b = await battle("one")
    await store.record_vote(voted_b, "ann", "b")
    not_voted = await battle("two")
    await store.record_vote(not_voted, "someone-else", "b")  # not the asker: A stands
    tied = await battle("three")
    await store.record_vote(tied, "ann", "tie")
    history = await store.thread_history("slack", "general", "t1")
    assert [t.text for t in history if t.role == "assistant"] == [
        "one: alpha",
        "two: beta",
        "three: beta",
    ]


async def test_thread_history_keeps_the_latest_questions(store: Store) -> None:
    for n in range(5):
        question = await ask(store, f"q{n}")
        await store.record_answer(question, Answer("alpha", text=f"a{n}"))
    history = await store.thread_history("slack", "general", "t1", limit=2)
    assert [t.text for t in history] == ["q3", "a3", "q4", "a4"]
    assert await store.thread_history("slack", "general", "t1", limit=0) == []


async def test_bulk_counts_match_the_live_vote_path(store: Store) -> None:
    live = await Store.open(":memory:")
    outcomes = [("zeta", "alpha", "a"), ("alpha", "zeta", "b"), ("alpha", "beta", "tie")]
    outcomes += [("beta", "alpha", "both_bad"), ("alpha", "beta", "a")]
    try:
        for n, (left, right, choice) in enumerate(outcomes):
            question = await ask(live, f"q{n}")
            ids = [await live.record_answer(question, Answer(m, text=m)) for m in (left, right)]
            await live.record_vote(await live.record_battle(question, *ids), "ann", choice)
        expected = await live.pair_counts()
    finally:
        await live.close()
    records = [BattleRecord(a, b, c, tstamp=float(n)) for n, (a, b, c) in enumerate(outcomes)]
    assert await store.bulk_record_battles(records, batch=2) == 5
    assert await store.pair_counts() == expected
    assert expected == [PairCount("alpha", "beta", 1, 0, 1, 1), PairCount("alpha", "zeta", 0, 2)]


async def test_bulk_skips_known_source_keys_and_refuses_nonsense(store: Store) -> None:
    record = BattleRecord("alpha", "beta", "a", 1.0, source_key="k1")
    assert await store.bulk_record_battles([record, record]) == 1
    assert await store.bulk_record_battles([record]) == 0
    assert await store.pair_counts() == [PairCount("alpha", "beta", a_wins=1)]
    with pytest.raises(VoteRefused, match="battle itself"):
        await store.bulk_record_battles([BattleRecord("alpha", "alpha", "a", 2.0)])
    with pytest.raises(VoteRefused, match="unknown choice"):
        await store.bulk_record_battles([BattleRecord("alpha", "beta", "x", 2.0)])  # type: ignore[arg-type]
    assert await store.pair_counts() == [PairCount("alpha", "beta", a_wins=1)]


async def test_bulk_rows_live_beside_live_ones(store: Store) -> None:
    question = await ask(store, "live")
    ids = [await store.record_answer(question, Answer(m, text=m)) for m in ("alpha", "beta")]
    battle = await store.record_battle(question, *ids)
    await store.bulk_record_battles([BattleRecord("alpha", "beta", "b", 5.0, channel="general")])
    await store.record_vote(battle, "ann", "a")  # ids from the bulk path did not collide
    assert await store.pair_counts("general") == [PairCount("alpha", "beta", 1, 1, 0, 0)]


async def test_iter_battles_in_time_order(store: Store) -> None:
    records = [
        BattleRecord("x", "y", "a", tstamp=30.0, channel="c", user="u1"),
        BattleRecord("y", "z", "tie", tstamp=10.0, channel="c", user="u2"),
        BattleRecord("x", "z", "both_bad", tstamp=20.0, channel="d", user="u3"),
    ]
    await store.bulk_record_battles(records)
    seen = [r async for r in store.iter_battles()]
    assert [(r.model_a, r.model_b, r.choice, r.tstamp, r.channel, r.user) for r in seen] == [
        ("y", "z", "tie", 10.0, "c", "u2"),
        ("x", "z", "both_bad", 20.0, "d", "u3"),
        ("x", "y", "a", 30.0, "c", "u1"),
    ]


async def test_an_export_reads_one_snapshot_while_votes_arrive(durable_target: str) -> None:
    """More rows than aiosqlite prefetches (64), so the read really spans the new writes."""
    store = await Store.open(durable_target)
    try:
        older = [BattleRecord("x", "y", "a", float(n), "c", f"u{n}") for n in range(200)]
        await store.bulk_record_battles(older)
        question = await ask(store, "q")
        ids = [await store.record_answer(question, Answer(m, text=m)) for m in ("x", "y")]
        battle = await store.record_battle(question, *ids)
        await store.record_vote(battle, "ann", "a")
        reading = store.iter_battles()
        first = await anext(reading)
        await store.record_vote(battle, "ann", "b")  # moves to the end of the time order
        await store.record_vote(battle, "bob", "tie")
        newer = [BattleRecord("x", "y", "tie", 1e10 + n, "c", f"v{n}") for n in range(100)]
        await store.bulk_record_battles(newer)
        rest = [record async for record in reading]
        assert len([first, *rest]) == 201
        assert [r.choice for r in [first, *rest]].count("a") == 201  # ann's old vote, as read
        assert len([r async for r in store.iter_battles()]) == 302  # a fresh read sees them
    finally:
        await store.close()


async def test_a_read_only_store_reads_the_board_without_writing(
    durable_target: str, store_engine: str
) -> None:
    store = await Store.open(durable_target)
    await store.bulk_record_battles(
        [BattleRecord("x", "y", "a", 1.0), BattleRecord("x", "y", "b", 2.0)]
    )
    await store.close()
    path = Path(durable_target)
    before = path.read_bytes() if store_engine == "sqlite" else None
    reader = await Store.open(durable_target, read_only=True)
    try:
        assert await reader.pair_counts() == [PairCount("x", "y", 1, 1, 0, 0)]
        assert set(await reader.elo_ratings()) == {"x", "y"}  # replayed, not cached
        with pytest.raises(StoreError, match=r"read-only|readonly"):
            await reader.record_thumb(1, "ann", 1)
        assert await reader._rows("SELECT COUNT(*) FROM elo_cache") == [(0,)]
    finally:
        await reader.close()
    if before is not None:
        assert path.read_bytes() == before


async def test_a_read_only_open_names_an_arena_that_is_not_there_or_older(
    durable_target: str,
) -> None:
    if "://" not in durable_target:
        Path(durable_target).write_bytes(b"")  # an empty file: SQLite's empty database
    with pytest.raises(StoreError, match="no arena"):
        await Store.open(durable_target, read_only=True)
    await (await Store.open(durable_target)).close()
    store = await Store.open(durable_target)
    await store._write(lambda s: s.execute("DELETE FROM _parley_migrations WHERE name > '006'"))
    await store.close()
    with pytest.raises(StoreError, match="older Parley"):
        await Store.open(durable_target, read_only=True)
