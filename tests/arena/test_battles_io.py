"""FastChat-format JSONL: export, import, round trip, double import, bad lines."""

from __future__ import annotations

import io
import json

import pytest

from arena.battles_io import export_battles, import_battles, parse_battle
from arena.store import Store
from arena.types import Answer

pytestmark = pytest.mark.both_engines


async def vote_live(store: Store, left: str, right: str, user: str, choice: str) -> None:
    question = await store.record_question(
        platform="slack", channel="eng", user=user, thread=None, text="q", hits=[]
    )
    ids = [await store.record_answer(question, Answer(m, text=m)) for m in (left, right)]
    await store.record_vote(await store.record_battle(question, *ids), user, choice)  # type: ignore[arg-type]


async def exported(store: Store) -> list[dict]:
    out = io.StringIO()
    count = await export_battles(store, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(lines)
    return lines


async def test_export_uses_fastchat_field_names(store: Store) -> None:
    for choice in ("a", "b", "tie", "both_bad"):
        await vote_live(store, "gpt", "claude", f"user-{choice}", choice)
    lines = await exported(store)
    assert [line["winner"] for line in lines] == ["model_a", "model_b", "tie", "tie (bothbad)"]
    first = lines[0]
    assert {k: first[k] for k in ("model_a", "model_b", "judge", "channel")} == {
        "model_a": "gpt",
        "model_b": "claude",
        "judge": "user-a",
        "channel": "eng",
    }
    assert isinstance(first["tstamp"], float) and isinstance(first["question_id"], int)


async def test_round_trip_and_double_import(store: Store) -> None:
    await vote_live(store, "gpt", "claude", "ann", "a")
    await vote_live(store, "claude", "llama", "bob", "both_bad")
    await vote_live(store, "llama", "gpt", "ann", "tie")
    await vote_live(store, "llama", "gpt", "cy", "b")
    text = io.StringIO()
    await export_battles(store, text)
    target = await Store.open(":memory:")
    try:
        report = await import_battles(target, io.StringIO(text.getvalue()))
        assert (report.imported, report.duplicates, report.errors) == (4, 0, [])
        assert await target.pair_counts() == await store.pair_counts()
        assert await target.pair_counts("eng") == await store.pair_counts("eng")
        again = await import_battles(target, io.StringIO(text.getvalue()))
        assert (again.imported, again.duplicates) == (0, 4)
        assert await target.pair_counts() == await store.pair_counts()
        # question ids are each instance's own; everything else survives the trip
        mine, theirs = await exported(store), await exported(target)
        for line in mine + theirs:
            del line["question_id"]
        assert theirs == mine
    finally:
        await target.close()


async def test_an_instances_own_export_imported_back_counts_nothing_twice(
    store: Store,
) -> None:
    await vote_live(store, "gpt", "claude", "ann", "a")
    await vote_live(store, "claude", "llama", "bob", "both_bad")
    text = io.StringIO()
    await export_battles(store, text)
    before = await store.pair_counts()
    report = await import_battles(store, io.StringIO(text.getvalue()))
    assert (report.imported, report.duplicates) == (0, 2)
    assert await store.pair_counts() == before
    # a vote cast after the export is still new, and so is the same file in another instance
    await vote_live(store, "gpt", "llama", "cy", "tie")
    lines = await exported(store)
    assert len({line["battle_key"] for line in lines}) == 3
    other = await Store.open(":memory:")
    try:
        first = await import_battles(other, io.StringIO(text.getvalue()))
        second = await import_battles(other, io.StringIO(text.getvalue()))
        assert (first.imported, second.imported, second.duplicates) == (2, 0, 2)
        # exported again from there, the keys are the ones they came with
        back = io.StringIO()
        await export_battles(other, back)
        assert (await import_battles(store, io.StringIO(back.getvalue()))).imported == 0
    finally:
        await other.close()


async def test_malformed_lines_are_reported_by_number_and_skipped(store: Store) -> None:
    good = {"model_a": "a", "model_b": "b", "winner": "model_a", "tstamp": 1.5}
    lines = [
        json.dumps(good),
        "{not json",
        "",
        json.dumps([1, 2]),
        json.dumps({**good, "winner": "left"}),
        json.dumps({**good, "model_b": None}),
        json.dumps({**good, "model_b": "a"}),
        json.dumps({**good, "tstamp": "yesterday"}),
        json.dumps({**good, "winner": ["model_a"]}),
        json.dumps({**good, "tstamp": 2.5, "winner": "tie (bothbad)"}),
    ]
    report = await import_battles(store, io.StringIO("\n".join(lines) + "\n"))
    assert report.imported == 2
    assert [number for number, _ in report.errors] == [2, 4, 5, 6, 7, 8, 9]
    reasons = dict(report.errors)
    assert "not JSON" in reasons[2]
    assert "unknown winner" in reasons[5]
    assert "model_b" in reasons[6]
    assert "itself" in reasons[7]
    assert "tstamp" in reasons[8]
    counts = await store.pair_counts()
    assert [(c.a_wins, c.both_bad) for c in counts] == [(1, 1)]


def test_a_public_arena_line_parses_with_its_extra_fields() -> None:
    line = json.dumps(
        {
            "question_id": "5c8f0a1e",
            "model_a": "vicuna-13b",
            "model_b": "koala-13b",
            "winner": "model_b",
            "judge": "arena_user_973",
            "conversation_a": [{"role": "user", "content": "hi"}],
            "turn": 1,
            "anony": True,
            "language": "English",
            "tstamp": 1682351591.1322,
        }
    )
    record = parse_battle(line)
    assert (record.model_a, record.model_b, record.choice) == ("vicuna-13b", "koala-13b", "b")
    assert (record.tstamp, record.user, record.channel) == (
        1682351591.1322,
        "arena_user_973",
        "import",
    )
    assert record.source_key == parse_battle(line).source_key
    assert (
        record.source_key
        != parse_battle(line.replace('"winner": "model_b"', '"winner": "tie"')).source_key
    )
