"""What a newcomer hits first: bad configuration, wrong folders, --json errors, empty
searches, noisy libraries. Each is one clear line, never a traceback."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.conftest import HANDBOOK
from tests.fakes.http_server import Scripted


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):
    return CliRunner().invoke(cli, list(args), env=env, input=input)


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "parley.toml"
    monkeypatch.setenv("PARLEY_CONFIG", str(path))
    return path


def test_invalid_toml_names_the_file_and_line(config: Path, tmp_path: Path) -> None:
    config.write_text("[[models]\n")
    result = run("--data-dir", str(tmp_path), "models")
    assert result.exit_code == 1
    assert f"{config}: not valid TOML" in result.output and "line 1" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_a_named_config_file_that_is_missing_is_an_error_for_every_command(
    config: Path, tmp_path: Path
) -> None:
    for command in (["doctor", "--no-models"], ["models"], ["search", "roll back"]):
        result = run("--data-dir", str(tmp_path), *command)
        assert result.exit_code == 1, command
        assert result.output == f"Error: PARLEY_CONFIG names {config}: no such file\n"
    result = run("--data-dir", str(tmp_path), "models", "--json")
    assert json.loads(result.stdout) == {"error": f"PARLEY_CONFIG names {config}: no such file"}


def test_the_default_config_file_stays_optional(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PARLEY_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no parley.toml here
    result = run("--data-dir", str(tmp_path), "doctor", "--no-models")
    assert "configuration: read from defaults (no parley.toml)" in result.output


def test_invalid_values_are_one_line_each(config: Path, tmp_path: Path) -> None:
    config.write_text("top_k = 0\nbattle_share = 2\n")
    result = run("--data-dir", str(tmp_path), "models")
    assert result.exit_code == 1
    assert "top_k: Input should be greater than 0" in result.output
    assert "battle_share" in result.output and "errors.pydantic.dev" not in result.output


def test_unknown_keys_are_warned_about(config: Path, tmp_path: Path) -> None:
    config.write_text(
        'battle_shares = 0.5\n[[models]]\nname = "x"\nprovider = "offline-passages"\nmodle = "y"\n'
    )
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "models", "--json"])
    assert result.exit_code == 0
    assert "unknown setting 'battle_shares'" in result.stderr
    assert "unknown setting 'models[1].modle'" in result.stderr
    assert [row["name"] for row in json.loads(result.stdout)] == ["x"]


def test_a_mistyped_data_dir_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    wrong = tmp_path / "typo"
    for command in (["leaderboard"], ["export", "battles"]):
        result = run("--data-dir", str(wrong), *command)
        assert result.exit_code == 1 and "no Parley data directory" in result.output
    result = run("--data-dir", str(wrong), "search", "roll back")
    assert result.exit_code == 1 and "There is no index" in result.output
    assert not wrong.exists()


def test_asking_a_mistyped_data_dir_says_there_is_no_index_and_creates_nothing(
    tmp_path: Path,
) -> None:
    wrong = tmp_path / "typo"
    for command in (["ask", "What is a SEV1?"], ["chat"], ["ask", "x", "--json"]):
        result = run("--data-dir", str(wrong), *command, input="What is a SEV1?\n")
        assert result.exit_code == 1, result.output
        assert f"There is no index in {wrong / 'index'}" in result.output
        assert "run `parley index PATH` first" in result.output
    assert not wrong.exists()
    models = run("--data-dir", str(wrong), "models", "--json")  # needs no data directory
    assert models.exit_code == 0 and not wrong.exists()


def test_reports_on_a_data_dir_without_a_database_create_nothing(tmp_path: Path) -> None:
    assert json.loads(run("--data-dir", str(tmp_path), "leaderboard", "--json").stdout) == []
    out = tmp_path / "battles.jsonl"
    result = run("--data-dir", str(tmp_path), "export", "battles", "-o", str(out))
    assert result.exit_code == 0 and out.read_text() == ""  # the file exists, empty
    assert sorted(p.name for p in tmp_path.iterdir()) == ["battles.jsonl"]


def test_a_failed_export_leaves_the_target_as_it_was(tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    old.write_text('{"old":1}\n')
    result = run("--data-dir", str(tmp_path / "typo"), "export", "battles", "-o", str(old))
    assert result.exit_code == 1 and "no Parley data directory" in result.output
    new = tmp_path / "new.jsonl"
    run("--data-dir", str(tmp_path / "typo"), "export", "battles", "-o", str(new))
    assert old.read_text() == '{"old":1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.jsonl"]  # no new, no partial


def test_an_export_that_fails_halfway_loses_nothing_and_one_that_ends_replaces_whole(
    tmp_path: Path, monkeypatch
) -> None:
    battle = {"model_a": "a", "model_b": "b", "winner": "tie", "tstamp": 1, "judge": "u"}
    source = tmp_path / "battles.jsonl"
    source.write_text(json.dumps(battle) + "\n")
    data = tmp_path / "d"
    assert run("--data-dir", str(data), "import", "battles", str(source)).exit_code == 0
    target = tmp_path / "out.jsonl"
    target.write_text("old export\n" * 50)

    async def dies_halfway(store, out) -> int:
        out.write("half a line")
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr("bot.operator.write_battles", dies_halfway)
        failed = run("--data-dir", str(data), "export", "battles", "-o", str(target))
    assert failed.exit_code == 1 and "No space left on device" in failed.output
    assert "Traceback" not in failed.output
    assert target.read_text() == "old export\n" * 50
    result = run("--data-dir", str(data), "export", "battles", "-o", str(target))
    assert result.exit_code == 0 and "Exported 1 battle" in result.output
    assert [json.loads(line)["model_a"] for line in target.read_text().splitlines()] == ["a"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["battles.jsonl", "d", "out.jsonl"]
    stdout = run("--data-dir", str(data), "export", "battles", "-o", "-")
    assert stdout.exit_code == 0 and json.loads(stdout.stdout)["model_b"] == "b"


def test_a_data_dir_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("--data-dir", str(blocker / "data"), "index", str(tmp_path))
    assert result.exit_code == 1
    assert f"cannot create the data directory {blocker / 'data'}" in result.output
    assert "Traceback" not in result.output


def test_ask_json_errors_are_json(config: Path, data_dir: Path, fake_api) -> None:
    config.write_text(
        f'[[models]]\nname = "m"\nprovider = "openai"\nmodel = "x"\nmax_retries = 0\n'
        f'base_url = "{fake_api.url}/v1"\n'
    )
    fake_api.route("POST", "/v1/chat/completions", Scripted(503, {"error": {"message": "x"}}))
    result = run("--data-dir", str(data_dir), "ask", "How do I roll back?", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "error": "No model could answer right now. Model m is unavailable right now"
        " (service unavailable)."
    }
    unknown = run("--data-dir", str(data_dir), "ask", "hi", "--model", "nope", "--json")
    assert unknown.exit_code == 1 and "nope" in json.loads(unknown.stdout)["error"]


def test_an_empty_search_says_so(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path), "search", "  ")
    assert result.exit_code == 2 and "Give some words to search for" in result.output
    assert "indexed" not in result.output


def test_library_warnings_stay_in_the_log(tmp_path: Path) -> None:
    broken = tmp_path / "docs" / "broken.pdf"
    broken.parent.mkdir()
    broken.write_bytes(b"%PDF-1.4 this file ends here")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "index", str(broken)])
    assert result.exit_code == 0
    assert result.stdout.startswith("Skipped")  # no blank line before the report
    assert "EOF marker" not in result.stderr and "invalid pdf header" not in result.stderr


def test_parley_index_is_refused_while_a_bot_holds_the_index(tmp_path: Path) -> None:
    """A running bot holds the embedded index; another process must not write under it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nThe answer is forty-two.\n")
    holder = textwrap.dedent(
        f"""
        import asyncio, sys
        from bot.config import Settings
        from bot.runtime import serve_service

        async def main():
            settings = Settings(data_dir={str(tmp_path / "data")!r})
            async with serve_service(settings):
                print("holding", flush=True)
                sys.stdin.readline()

        asyncio.run(main())
        """
    )
    bot = subprocess.Popen(
        [sys.executable, "-c", holder],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert bot.stdout is not None and bot.stdout.readline().strip() == "holding"
        result = run("--data-dir", str(tmp_path / "data"), "index", str(docs))
        assert result.exit_code == 1
        assert "re-index through the bot" in result.output
        assert "Traceback" not in result.output
    finally:
        bot.communicate("\n", timeout=30)
    assert bot.returncode == 0


def test_an_index_built_by_another_embedder_is_named_by_ask_search_and_index(
    data_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"  # the index records another embedder than the one Parley has
    shutil.copytree(data_dir, copy)
    with sqlite3.connect(copy / "index" / "lexical.db") as db:
        db.execute("UPDATE index_state SET value = 'bge-small-en' WHERE name = 'embedder'")
        db.execute("UPDATE index_state SET value = '768' WHERE name = 'embedder_dim'")
    where = ["--data-dir", str(copy)]
    mismatch = "was built with the embedder bge-small-en (768 dimensions)"
    for command in (["ask", "How do I roll back a deploy?"], ["search", "roll back"]):
        result = run(*where, *command)
        assert result.exit_code == 1, result.output
        assert mismatch in result.output and f"delete {copy / 'index'}" in result.output
        assert "Try again" not in result.output and "Traceback" not in result.output
        assert "configure" not in result.output  # no setting chooses the embedder
    indexed = run(*where, "index", str(HANDBOOK))  # every file unchanged: refused all the same
    assert indexed.exit_code == 1 and mismatch in indexed.output
    assert "unchanged" not in indexed.output
