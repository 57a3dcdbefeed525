"""Contestants are pipelines: their settings, recorded with each answer, and the name a
changed pipeline is rated under."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.errors import ConfigError
from arena.migrations import MIGRATIONS, applied, migrate
from arena.pipelines import pipeline_of, settings_hash
from arena.prompts import load_prompt
from arena.roster import build_roster, identify
from arena.store import Store
from arena.types import Answer, ModelSpec
from knowledge.sql import open_async

pytestmark = pytest.mark.both_engines  # the pipelines' rows, on SQLite and PostgreSQL


def spec(**settings) -> ModelSpec:
    return ModelSpec(name="rag", provider="offline-sentences", **settings)


def test_an_unset_k_is_the_top_level_top_k_and_a_set_one_wins() -> None:
    assert pipeline_of(spec(), top_k=7).retrieval.k == 7
    assert pipeline_of(spec(k=3), top_k=7).retrieval.k == 3
    settings = pipeline_of(spec(k=3, mode="dense")).settings(spec(k=3, mode="dense"))
    assert settings["k"] == 3 and settings["mode"] == "dense" and settings["web"] == "off"


def test_what_shapes_an_answer_changes_the_hash_and_what_does_not_does_not() -> None:
    def digest(**changes) -> str:
        s = spec(**changes)
        return settings_hash(pipeline_of(s, web_backend="searxng").settings(s))

    base = digest()
    for shaping in (
        {"k": 9},
        {"mode": "lexical"},
        {"followup": "alone"},
        {"web": "blend"},
        {"prompt": "brief"},
        {"temperature": 0.2},
        {"model": "other"},
    ):
        assert digest(**shaping) != base, shaping
    for plumbing in (
        {"timeout": 5},
        {"max_retries": 0},
        {"concurrency": 1},
        {"price_in": 3.0},
        {"base_url": "http://elsewhere/v1"},
        {"api_key_env": "X"},
    ):
        assert digest(**plumbing) == base, plumbing


def test_a_prompt_file_is_part_of_the_settings_by_its_text(tmp_path: Path) -> None:
    template = tmp_path / "support.md"
    template.write_text("You answer the support team. Be kind.")
    entry = spec(prompt=str(template))
    before = pipeline_of(entry).settings(entry)
    template.write_text("You answer the support team. Be terse.")
    after = pipeline_of(entry).settings(entry)
    assert before["prompt"] == after["prompt"] == str(template)
    assert settings_hash(before) != settings_hash(after)
    assert load_prompt(str(template)).text == "You answer the support team. Be terse."


@pytest.mark.parametrize(
    ("value", "said"),
    [("fancy", "neither a built-in prompt"), ("", "neither a built-in prompt")],
)
def test_an_unknown_prompt_is_refused_in_the_spec(value: str, said: str) -> None:
    with pytest.raises(ValueError, match=said):
        spec(prompt=value)


def test_a_prompt_file_that_is_empty_or_too_long_is_refused(tmp_path: Path) -> None:
    empty, huge = tmp_path / "empty.md", tmp_path / "huge.md"
    empty.write_text("  \n")
    huge.write_text("x" * 9000)
    with pytest.raises(ValueError, match="empty"):
        spec(prompt=str(empty))
    with pytest.raises(ValueError, match="at most"):
        spec(prompt=str(huge))


def test_web_search_without_an_engine_is_refused_naming_the_entry() -> None:
    with pytest.raises(ConfigError, match="'rag': web = 'fallback' needs web search"):
        build_roster([spec(web="fallback")])
    roster = build_roster([spec(web="fallback")], web_backend="brave")
    assert roster.entries[0].settings["web_backend"] == "brave"


def test_two_entries_may_share_a_model_and_differ_only_in_pipeline() -> None:
    roster = build_roster(
        [
            ModelSpec(name="deep", provider="offline-sentences", k=8),
            ModelSpec(name="shallow", provider="offline-sentences", k=2, mode="lexical"),
        ]
    )
    assert roster.names == ["deep", "shallow"]
    assert roster.get("deep").pipeline.retrieval.k == 8
    assert roster.get("shallow").pipeline.retrieval.mode == "lexical"


async def test_a_changed_pipeline_is_a_new_contestant_and_the_old_settings_come_back(
    store: Store,
) -> None:
    question = await store.record_question(
        platform="test", channel="c", user="u", thread=None, text="q?", hits=[]
    )

    async def answer_with(k: int) -> str:
        roster = await identify(build_roster([spec(k=k)]), store)
        contestant = roster.entries[0]
        await store.record_answer(question, Answer(contestant.name, "a"), contestant.settings)
        return contestant.name

    assert await answer_with(4) == "rag"
    assert await answer_with(4) == "rag"
    changed = await answer_with(8)
    assert changed.startswith("rag #") and len(changed) == len("rag #") + 6
    assert await answer_with(8) == changed
    assert await answer_with(4) == "rag"  # back to the first settings, back to the name
    settings = await store.pipeline_settings()
    assert settings["rag"]["k"] == 4 and settings[changed]["k"] == 8


async def test_answers_from_before_pipelines_go_with_the_first_settings_seen(
    store: Store,
) -> None:
    question = await store.record_question(
        platform="test", channel="c", user="u", thread=None, text="q?", hits=[]
    )
    await store.record_answer(question, Answer("rag", "an old answer"))  # no settings known
    roster = await identify(build_roster([spec(k=6)]), store)
    assert roster.names == ["rag"]


async def test_a_database_made_without_008_takes_it_on_open(durable_target: str) -> None:
    """A deployment that ran the later steps before 008 (named out of order) gets it on
    open; its old answers have no settings and go with the first settings seen."""
    later = [m for m in MIGRATIONS if m.name != "008_pipelines"]
    database = await open_async(durable_target)
    try:
        await migrate(database, later)
        async with database.transaction() as s:
            await s.execute(
                'INSERT INTO questions (id, platform, channel, "user", thread, text, created_at)'
                " VALUES (1, 'slack', 'c', 'u', NULL, 'q?', 1)"
            )
            await s.execute(
                "INSERT INTO answers (question_id, model, text, created_at)"
                " VALUES (1, 'rag', 'old', 2)"
            )
    finally:
        await database.close()
    store = await Store.open(durable_target)
    try:
        assert "008_pipelines" in await applied(store._database)
        roster = await identify(build_roster([spec(k=6)]), store)
        assert roster.names == ["rag"]
        rows = await store._rows("SELECT pipeline FROM answers WHERE text = 'old'")
        assert rows == [(None,)]
    finally:
        await store.close()


async def test_every_answer_row_points_at_its_settings(store: Store) -> None:
    question = await store.record_question(
        platform="test", channel="c", user="u", thread=None, text="q?", hits=[]
    )
    contestant = build_roster([spec(k=3, mode="lexical")]).entries[0]
    answer_id = await store.record_answer(question, Answer("rag", "a"), contestant.settings)
    rows = await store._rows(
        "SELECT s.settings FROM answers a JOIN pipeline_settings s ON s.hash = a.pipeline"
        " WHERE a.id = ?",
        (answer_id,),
    )
    assert '"mode": "lexical"' in rows[0][0] and '"k": 3' in rows[0][0]


def test_the_roster_finds_a_contestant_by_display_name_or_identity() -> None:
    roster = build_roster([spec()]).identified({"rag": "rag #abc123"})
    assert roster.names == ["rag #abc123"]
    assert roster.get("rag") is roster.get("rag #abc123")
    with pytest.raises(ConfigError, match="no ready model named 'other'"):
        roster.get("other")
