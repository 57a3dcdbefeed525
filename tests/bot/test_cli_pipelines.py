"""Pipelines from the command line: parley.toml entries that share a model, listed with
their settings, asked one at a time, refused in one line when wrong, and shown on the
leaderboard with --details and in --json."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.store import Store
from bot import messages
from bot.cli import cli
from bot.service import Ask
from tests.fakes.providers import pipeline, pipelines
from tests.fakes.service import service_over_fakes

TWO_PIPELINES = """
[[models]]
name = "deep hybrid"
provider = "offline-sentences"
k = 8

[[models]]
name = "shallow words"
provider = "offline-sentences"
k = 2
mode = "lexical"
followup = "alone"
prompt = "brief"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "parley.toml"
    monkeypatch.setenv("PARLEY_CONFIG", str(path))
    return path


def run(data_dir: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])


def test_models_json_lists_every_entry_with_its_pipeline(config: Path, tmp_path: Path) -> None:
    config.write_text(TWO_PIPELINES)
    result = run(tmp_path / "data", "models", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["deep hybrid"]["pipeline"]["k"] == 8
    shallow = rows["shallow words"]["pipeline"]
    assert (shallow["k"], shallow["mode"], shallow["followup"], shallow["prompt"]) == (
        2,
        "lexical",
        "alone",
        "brief",
    )
    assert shallow["web"] == "off" and rows["deep hybrid"]["model"] == ""


def test_models_table_shows_each_pipeline_in_words(config: Path, tmp_path: Path) -> None:
    config.write_text(TWO_PIPELINES)
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "data"), "models"], terminal_width=200
    )
    out = result.output  # the column wraps between words
    assert "k=8 hybrid" in out and "k=2 lexical," in out and "follow-ups" in out


def test_ask_model_runs_one_pipeline_and_records_its_settings(config: Path, data_dir: Path) -> None:
    config.write_text(TWO_PIPELINES)
    result = run(
        data_dir, "ask", "How do I roll back a deploy?", "--model", "shallow words", "--json"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["model"] == "shallow words"
    assert len({c["source"] for c in payload["citations"]}) <= 2  # it read two passages
    with sqlite3.connect(data_dir / "parley.db") as db:
        (settings,) = db.execute(
            "SELECT s.settings FROM answers a JOIN pipeline_settings s ON s.hash = a.pipeline"
            " ORDER BY a.id DESC LIMIT 1"
        ).fetchone()
    assert json.loads(settings)["mode"] == "lexical"


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ('mode = "semantic"', "models[3].mode"),
        ('prompt = "pirate"', "models[3].prompt"),
        ('web = "sometimes"', "models[3].web"),
        ("k = 0", "models[3].k"),
    ],
)
def test_a_bad_pipeline_key_is_refused_in_one_line_naming_it(
    config: Path, tmp_path: Path, entry: str, key: str
) -> None:
    third = '\n[[models]]\nname = "bad"\nprovider = "offline-passages"\n'
    config.write_text(TWO_PIPELINES + third + entry + "\n")
    result = run(tmp_path / "data", "models")
    assert result.exit_code == 1
    assert key in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('[web]\nprovider = "bing"\n', "web.provider: unknown search backend 'bing'"),
        ('[web]\nprovider = "searxng"\n', "web: provider 'searxng' needs url"),
        ('[web]\nprovider = "brave"\ndeny = ["https://x.com/a"]\n', "web.deny"),
        ("", "models[3] ('web') sets web = 'fallback', but no search engine is set up"),
    ],
)
def test_a_bad_web_search_setting_is_refused_in_one_line(
    config: Path, tmp_path: Path, table: str, said: str
) -> None:
    web_entry = '\n[[models]]\nname = "web"\nprovider = "offline-passages"\nweb = "fallback"\n'
    config.write_text(TWO_PIPELINES + web_entry + "\n" + table)
    result = run(tmp_path / "data", "models")
    assert result.exit_code == 1, result.output
    assert said in result.output and len(result.output.strip().splitlines()) == 1


def test_a_typo_in_the_web_table_is_warned_about(config: Path, tmp_path: Path) -> None:
    config.write_text('[web]\nprovider = "brave"\nresluts = 4\n')
    result = run(tmp_path / "data", "models")
    assert result.exit_code == 0 and "unknown setting 'web.resluts'" in result.output


async def battles_between_two_pipelines(path: Path) -> None:
    store = await Store.open(path)
    try:
        roster = pipelines(pipeline("deep", k=6), pipeline("quick", k=1, mode="lexical"))
        service = service_over_fakes(store, roster, battle_share=1.0)
        for n in range(3):
            reply = await service.ask(Ask(f"question {n}?", "ana", "C1", None, "slack"))
            await service.vote(reply.battle_id, "ana", "a", platform="slack", channel="C1")
    finally:
        await store.close()


def test_leaderboard_details_and_json_show_each_pipeline(config: Path, tmp_path: Path) -> None:
    config.write_text("")
    data = tmp_path / "data"
    data.mkdir()
    asyncio.run(battles_between_two_pipelines(data / "parley.db"))
    table = CliRunner().invoke(cli, ["--data-dir", str(data), "leaderboard", "--details"])
    assert table.exit_code == 0, table.output
    details = table.output.split("Pipelines:")[1]
    assert "deep: fake, k=6 hybrid" in details and "quick: fake, k=1 lexical" in details
    assert "Pipelines:" not in run(data, "leaderboard").output
    rows = json.loads(run(data, "leaderboard", "--json").stdout)
    assert {row["model"]: row["pipeline"]["k"] for row in rows} == {"deep": 6, "quick": 1}


@pytest.mark.parametrize("command", [["ask", "How do I roll back?"], ["chat"]])
def test_with_no_model_ready_asking_says_which_key_is_missing(
    config: Path, data_dir: Path, monkeypatch, command: list[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config.write_text('[[models]]\nname = "gpt"\nprovider = "openai"\nmodel = "gpt-4o-mini"\n')
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), *command], input="How do I roll back?\n"
    )
    assert result.exit_code == 1 and result.exception is not None
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback
    assert "no model is ready to answer (gpt: set the OPENAI_API_KEY" in result.output


def test_chat_with_no_model_ready_stops_before_its_first_prompt(
    config: Path, data_dir: Path, monkeypatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config.write_text('[[models]]\nname = "gpt"\nprovider = "openai"\nmodel = "gpt-4o-mini"\n')
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "chat"], input="")
    assert result.exit_code == 1, result.output  # not the quiet exit of one who just left
    assert "no model is ready to answer (gpt: set the OPENAI_API_KEY" in result.output
    assert f"{messages.QUESTION_PROMPT}: " not in result.output  # never asked for a question
    assert messages.console_welcome().split(";")[0] not in result.output  # nor welcomed


def test_a_model_left_off_the_roster_is_said_in_one_line(
    config: Path, data_dir: Path, monkeypatch
) -> None:
    """README: "A model whose key is missing is left off the roster with one log line"."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config.write_text(
        '[[models]]\nname = "gpt"\nprovider = "openai"\nmodel = "gpt-4o-mini"\n'
        '[[models]]\nname = "local"\nprovider = "offline-sentences"\n'
    )
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "ask", "What is a SEV1?"])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.stderr.splitlines() if "left off" in x]
    assert line.endswith(
        "model gpt left off the roster: set the OPENAI_API_KEY environment variable"
    )


def test_models_names_a_changed_entry_as_the_leaderboard_will(config: Path, data_dir: Path) -> None:
    entry = '[[models]]\nname = "sent"\nprovider = "offline-sentences"\nk = {}\n'
    config.write_text(entry.format(4))
    assert run(data_dir, "ask", "How do I roll back a deploy?").exit_code == 0
    (row,) = json.loads(run(data_dir, "models", "--json").stdout)
    assert (row["name"], row["configured_name"]) == ("sent", "sent")
    config.write_text(entry.format(8))  # new settings: a new contestant, before it answers
    (row,) = json.loads(run(data_dir, "models", "--json").stdout)
    assert row["name"].startswith("sent #") and row["configured_name"] == "sent"
    answer = json.loads(run(data_dir, "ask", "How do I roll back?", "--json").stdout)
    assert answer["model"] == row["name"]
    table = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "models", "--check"], terminal_width=200
    )
    assert table.exit_code == 0, table.output  # the check finds the entry by that name
    assert f"{row['name']} " in table.output and "reachable" in table.output
    said = " ".join(table.output.split())  # the console wraps it at its width
    assert messages.rated_anew([(row["name"], "sent")]) in said


def test_models_reads_no_arena_where_there_is_none_and_creates_nothing(
    config: Path, tmp_path: Path
) -> None:
    config.write_text('[[models]]\nname = "sent"\nprovider = "offline-sentences"\n')
    (row,) = json.loads(run(tmp_path / "none", "models", "--json").stdout)
    assert row["name"] == "sent" and not (tmp_path / "none").exists()
