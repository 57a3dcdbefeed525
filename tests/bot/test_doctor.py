"""`parley doctor` finds what is wrong and says how to fix it, without changing anything."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from knowledge.store import VectorStore
from tests.conftest import HANDBOOK


def doctor(data_dir: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), "doctor", "--json", *args])


def findings(result) -> dict[str, dict]:
    return {f["check"]: f for f in json.loads(result.stdout)}


def test_a_sound_installation_passes(data_dir: Path) -> None:
    result = doctor(data_dir)
    found = findings(result)
    assert result.exit_code == 0, found
    assert found["index"]["ok"] and found["embedder"]["ok"]
    assert found["model offline-sentences"]["ok"] and found["model offline-passages"]["ok"]


def test_a_damaged_database_and_disagreeing_stores_are_found(
    data_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy)
    with sqlite3.connect(copy / "index" / "lexical.db") as db:  # a passage lost its vector
        (first,) = db.execute("SELECT id FROM passages LIMIT 1").fetchone()
        db.execute("DELETE FROM passages WHERE id = ?", (first,))
    (copy / "parley.db").write_bytes(b"this is no database" * 64)
    result = doctor(copy, "--no-models")
    found = findings(result)
    assert result.exit_code == 1
    assert not found["index"]["ok"] and "disagree" in found["index"]["detail"]
    assert "parley index" in found["index"]["fix"]
    assert not found["arena database"]["ok"] and "restore" in found["arena database"]["fix"]
    assert not any(k.startswith("model") for k in found)


def test_a_deleted_vector_store_is_found_and_a_plain_index_run_embeds_it_again(
    data_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"  # a writable data folder whose vectors were deleted
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("chroma"))
    result = doctor(copy, "--no-models")
    index = findings(result)["index"]
    assert result.exit_code == 1 and not index["ok"]
    assert "are missing" in index["detail"] and "read-only" not in index["detail"]
    assert "`parley index`" in index["fix"] and "--force" not in index["fix"]
    where = ["--data-dir", str(copy)]
    found = CliRunner().invoke(cli, [*where, "search", "roll back a deploy"])
    assert "matching by words only" in found.output and "are missing" in found.output
    assert "read-only" not in found.output
    indexed = CliRunner().invoke(cli, [*where, "index", str(HANDBOOK)])
    assert indexed.exit_code == 0, indexed.output
    assert "8 re-embedded" in indexed.output
    assert "had lost the vectors of 37 passages" in indexed.output
    assert findings(doctor(copy, "--no-models"))["index"] == {
        "check": "index",
        "ok": True,
        "detail": "37 passages, 37 vectors",
        "fix": "",
    }


def test_a_store_that_lost_some_vectors_is_found_with_the_forced_run_that_restores_them(
    data_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy)
    vectors = VectorStore.persistent(copy / "index" / "chroma")
    vectors.delete(sorted(vectors.ids())[:2])
    index = findings(doctor(copy, "--no-models"))["index"]
    assert not index["ok"] and "37 passages, 35 vectors" in index["detail"]
    assert "lost vectors" in index["detail"] and "`parley index --force`" in index["fix"]


def test_a_missing_index_says_to_index(tmp_path: Path) -> None:
    found = findings(doctor(tmp_path, "--no-models"))
    assert not found["index"]["ok"] and "parley index" in found["index"]["fix"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # it created nothing


def test_a_missing_data_dir_says_to_index_and_still_checks_the_models(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    result = doctor(missing)
    found = findings(result)
    assert result.exit_code == 1
    assert "check --data-dir" in found["data directory"]["fix"]
    assert "[[models]]" not in result.stdout  # the roster is fine: nothing to fix there
    assert found["model offline-sentences"]["ok"] and found["model offline-passages"]["ok"]
    assert not missing.exists()


def test_a_judge_the_roster_does_not_have_is_found_with_what_to_set(
    data_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    config = tmp_path / "parley.toml"
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    config.write_text('judge = "nosuch"\n')
    result = doctor(data_dir, "--no-models")
    judge = findings(result)["judge"]
    assert result.exit_code == 1 and not judge["ok"]
    assert "no model named 'nosuch'" in judge["detail"] and "'offline'" in judge["detail"]
    assert "set `judge` in parley.toml" in judge["fix"]
    config.write_text(
        'judge = "gpt-judge"\n[[models]]\nname = "gpt-judge"\nprovider = "openai"\nmodel = "x"\n'
    )
    result = doctor(data_dir, "--no-models")
    assert result.exit_code == 0 and findings(result)["judge"]["detail"].startswith("gpt-judge")
    config.write_text('judge = "offline-sentences"\n')  # an offline answerer cannot judge
    result = doctor(data_dir, "--no-models")
    judge = findings(result)["judge"]
    assert result.exit_code == 1 and not judge["ok"]
    assert judge["detail"].startswith("model 'offline-sentences' cannot judge")
    assert "openai or anthropic" in judge["fix"]
    config.write_text("")
    assert findings(doctor(data_dir, "--no-models"))["judge"]["detail"] == "the offline judge"
