"""An arena copied by ``copy_arena`` (``parley db migrate``) goes on taking writes where
it lands: every table with an identity column numbers its next row after the largest
copied id, from SQLite to PostgreSQL and back."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from arena.attachment_records import AttachedFile
from arena.judge.grades import CRITERIA, Grade, Judged
from arena.judge.pairwise import PairVerdict
from arena.migrations import TABLES
from arena.store import Store
from arena.transfer import copy_arena
from arena.types import Answer


async def write_one_of_each(store: Store) -> dict[str, int]:
    """What a bot and its judges write after a question, as they write it; the id of
    each table's first new row."""
    question = await store.record_question(
        platform="slack", channel="general", user="asker", thread=None, text="SEV1?", hits=[]
    )
    left = await store.record_answer(question, Answer("alpha", text="An outage."))
    right = await store.record_answer(question, Answer("beta", text="A ticket."))
    battle = await store.record_battle(question, left, right)
    await store.record_vote(battle, "voter", "a")
    await store.record_thumb(right, "voter", -1, "wrong")
    ((vote,),) = await store._rows("SELECT id FROM votes WHERE battle_id = ?", (battle,))
    thread = uuid.uuid4().hex  # a conversation of its own: its file is kept whatever came before
    await store.keep_attachments("slack", "general", thread, [AttachedFile("notes.md", ())])
    ((kept,),) = await store._rows("SELECT id FROM thread_attachments WHERE thread = ?", (thread,))
    criteria = {c: Judged(reason=c, level="Good") for c in CRITERIA}
    grade = Grade("judge-x", criteria, Judged(reason="ctx", level="Good"), raw="{}")
    return {
        "questions": question,
        "answers": left,
        "battles": battle,
        "votes": vote,
        "grades": await store.record_grade(grade, left),
        "pair_verdicts": await store.record_pair_verdict(
            battle, "judge-x", PairVerdict("model_a", "first", "second")
        ),
        "audits": await store.record_audit("judge-x", {"models": {}}),
        "thread_attachments": kept,
    }


async def identity_tables(server: Store) -> set[str]:
    """The tables whose id the database numbers (the same on both engines: ``$id``)."""
    rows = await server._rows(
        "SELECT table_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    )
    return {table for (table,) in rows}


async def largest_ids(store: Store, tables: set[str]) -> dict[str, int]:
    return {t: (await store._rows(f"SELECT MAX(id) FROM {t}"))[0][0] for t in tables}


@pytest.mark.parametrize("direction", ["to PostgreSQL", "back to SQLite"])
async def test_the_copy_goes_on_numbering_every_table_after_its_largest_id(
    direction: str, pg_url: str, tmp_path: Path
) -> None:
    file = str(tmp_path / "parley.db")
    source, target = (file, pg_url) if direction == "to PostgreSQL" else (pg_url, file)
    origin = await Store.open(source)
    try:
        for _ in range(3):  # ids past 1, where a sequence left at its start collides
            await write_one_of_each(origin)
    finally:
        await origin.close()
    await copy_arena(source, target)
    server = await Store.open(pg_url)
    try:
        numbered = await identity_tables(server)
    finally:
        await server.close()
    assert numbered <= set(TABLES)
    copy = await Store.open(target)
    try:
        copied = await largest_ids(copy, numbered)
        assert all(copied[t] >= 3 for t in numbered), copied  # every table had rows to copy
        written = await write_one_of_each(copy)
        assert set(written) == numbered  # a new table with an id gets a writer above
        assert written == {t: copied[t] + 1 for t in numbered}
        thumbs = await copy._rows('SELECT COUNT(*) FROM thumbs WHERE "user" = ?', ("voter",))
        assert thumbs == [(4,)]
        assert await copy.votes_stored() == 4
    finally:
        await copy.close()
