"""The CLI's arena commands on both engines (import, leaderboard, export, backup, doctor),
and ``parley db migrate`` from an SQLite file to PostgreSQL and back, counts checked."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from bot.cli import cli

pytestmark = pytest.mark.both_engines

BATTLES = [("alpha", "beta", "model_a"), ("beta", "gamma", "tie"), ("gamma", "alpha", "model_b")]


@pytest.fixture
def arena_env(store_engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict:
    """The environment of a user whose arena is on the engine under test."""
    env = {"PARLEY_CONFIG": os.devnull, "PARLEY_DATA_DIR": str(tmp_path / "d")}
    if store_engine == "postgresql":
        env["PARLEY_DATABASE_URL"] = request.getfixturevalue("pg_url")
    return env


def parley(env: dict, *args: str, code: int = 0):
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def battles_file(folder: Path, rounds: int = 20) -> Path:
    lines = [
        json.dumps({"model_a": a, "model_b": b, "winner": w, "tstamp": n, "judge": f"u{n}"})
        for n, (a, b, w) in enumerate(BATTLES * rounds)
    ]
    path = folder / "battles.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_leaderboard_and_export_on_either_engine(arena_env: dict, tmp_path: Path) -> None:
    source = battles_file(tmp_path)
    assert "Imported 60 battles" in parley(arena_env, "import", "battles", str(source)).output
    again = parley(arena_env, "import", "battles", str(source)).output
    assert "Imported 0 battles (60 already present" in again
    board = json.loads(parley(arena_env, "leaderboard", "--json").stdout)
    assert {row["model"]: row["votes"] for row in board} == {"alpha": 40, "beta": 40, "gamma": 40}
    exported = parley(arena_env, "export", "battles").stdout.splitlines()
    assert len(exported) == 60
    assert [json.loads(line)["winner"] for line in exported[:3]] == ["model_a", "tie", "model_b"]


def test_doctor_checks_the_arena_where_it_is(arena_env: dict, tmp_path: Path) -> None:
    parley(arena_env, "import", "battles", str(battles_file(tmp_path, rounds=1)))
    findings = json.loads(
        parley(arena_env, "doctor", "--json", "--no-models", code=1).stdout  # no index
    )
    (arena,) = [f for f in findings if f["check"] == "arena database"]
    assert arena["ok"] and "3 votes" in arena["detail"]


def test_backup_says_what_to_use_on_a_server(arena_env: dict, tmp_path: Path) -> None:
    parley(arena_env, "import", "battles", str(battles_file(tmp_path, rounds=1)))
    on_server = "PARLEY_DATABASE_URL" in arena_env
    result = parley(arena_env, "backup", str(tmp_path / "copy.db"), code=1 if on_server else 0)
    if on_server:
        assert result.output.strip().splitlines() == [
            "Error: The arena is on PostgreSQL (database_url): back it up with pg_dump and"
            " restore it with pg_restore; `parley db migrate --to FILE` copies it into an"
            " SQLite file."
        ]
    else:
        assert "3 votes" in result.output and (tmp_path / "copy.db").is_file()


def test_db_migrate_to_postgresql_and_back_keeps_every_row(pg_url: str, tmp_path: Path) -> None:
    local = {"PARLEY_CONFIG": os.devnull, "PARLEY_DATA_DIR": str(tmp_path / "d")}
    parley(local, "import", "battles", str(battles_file(tmp_path)))
    moved = parley(local, "db", "migrate", "--to", pg_url).output
    assert "60 questions, 60 battles, 60 votes" in moved
    assert "counted the same on both sides" in moved and "parley index" in moved
    with closing(psycopg.connect(pg_url)) as server:  # the planner knows the copied rows
        analyzed = "SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema()"
        assert server.execute(analyzed + " AND tablename = 'votes'").fetchone()[0] > 0
    again = parley(local, "db", "migrate", "--to", pg_url, code=1).output
    assert "already holds an arena" in again
    served = {**local, "PARLEY_DATABASE_URL": pg_url}
    board = json.loads(parley(served, "leaderboard", "--json").stdout)
    assert sum(row["votes"] for row in board) == 120  # two models a battle
    # the copy keeps the battle keys: importing the old export again adds nothing
    exported = tmp_path / "exported.jsonl"
    exported.write_text(parley(local, "export", "battles").stdout)
    assert (
        "0 battles (60 already present" in parley(served, "import", "battles", str(exported)).output
    )
    back = tmp_path / "back" / "parley.db"
    back.parent.mkdir()
    assert "60 votes" in parley(served, "db", "migrate", "--to", str(back)).output
    tables = ("questions", "answers", "battles", "votes", "pair_counts", "meta")
    with (
        closing(sqlite3.connect(back)) as copy,
        closing(sqlite3.connect(tmp_path / "d" / "parley.db")) as original,
    ):
        for table in tables:
            rows = f"SELECT * FROM {table} ORDER BY 1, 2"
            assert copy.execute(rows).fetchall() == original.execute(rows).fetchall(), table
    fresh = tmp_path / "fresh.jsonl"  # new rows on the copy: ids after the copied ones
    fresh.write_text(json.dumps({"model_a": "x", "model_b": "y", "winner": "tie"}) + "\n")
    assert "Imported 1 battle " in parley(served, "import", "battles", str(fresh)).output


def test_db_migrate_refuses_what_it_cannot_copy_to(tmp_path: Path) -> None:
    local = {"PARLEY_CONFIG": os.devnull, "PARLEY_DATA_DIR": str(tmp_path / "d")}
    nothing = parley(local, "db", "migrate", "--to", str(tmp_path / "x.db"), code=1).output
    assert "there is no arena database at" in nothing
    parley(local, "import", "battles", str(battles_file(tmp_path, rounds=1)))
    wrong = parley(local, "db", "migrate", "--to", "mysql://u:s3cret@db/x", code=1).output
    assert "--to takes a postgresql:// URL" in wrong and "s3cret" not in wrong
    itself = parley(local, "db", "migrate", "--to", str(tmp_path / "d" / "parley.db"), code=1)
    assert "already there" in itself.output
