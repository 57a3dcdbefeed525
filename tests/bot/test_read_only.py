"""A data directory Parley may only read (a copy for reporting, a backup mount): the
reports, search, backup, doctor and restore work there and write nothing, in it or
beside it.

Root ignores file permissions, so ``chmod a-w`` alone proves nothing when the tests run
as root. The commands run in a child process instead, which as root first gives up the
capabilities that override permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
CAP_FOWNER, dropped from its bounding set before exec): to SQLite, Chroma and
``os.access`` a folder without write permission is then what a read-only mount is.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.conftest import ROOT

PR_CAPBSET_DROP = 24
OVERRIDING_PERMISSIONS = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER


def _as_a_reader() -> None:
    """In the child before exec: as root, give up the rights that ignore permissions."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in OVERRIDING_PERMISSIONS:
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "cannot drop a capability")


def parley(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PARLEY_CONFIG": os.devnull}
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_as_a_reader,
    )


def make_read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def contents(folder: Path) -> dict[str, str]:
    """Every file under the folder and a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def read_only_data(data_dir: Path, tmp_path_factory) -> Iterator[Path]:
    """A copy of the handbook's data directory with two votes, made read-only."""
    votes = tmp_path_factory.mktemp("votes") / "votes.jsonl"
    votes.write_text(
        "".join(
            json.dumps({"model_a": "alpha", "model_b": "beta", "winner": w, "tstamp": n}) + "\n"
            for n, w in enumerate(["model_a", "tie"])
        )
    )
    imported = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "import", "battles", str(votes)]
    )
    assert imported.exit_code == 0, imported.output
    folder = tmp_path_factory.mktemp("mount") / "data"
    shutil.copytree(data_dir, folder)
    make_read_only(folder)
    try:
        probe = parley(
            "--data-dir", str(folder), "index", str(ROOT / "README.md"), cwd=folder.parent
        )
        writable = probe.returncode == 0
    except subprocess.SubprocessError:  # the capability could not be dropped
        writable = True
    if writable:
        make_writable(folder)
        pytest.skip("cannot make a folder this process may not write (no capability to drop)")
    yield folder
    make_writable(folder)


def test_reports_search_and_backup_read_a_read_only_folder_and_write_nothing(
    read_only_data: Path, tmp_path: Path
) -> None:
    before = contents(read_only_data)
    where = ["--data-dir", str(read_only_data)]

    board = parley(*where, "leaderboard", "--json", cwd=tmp_path)
    assert board.returncode == 0, board.stderr
    assert {row["model"]: row["votes"] for row in json.loads(board.stdout)} == {
        "alpha": 2,
        "beta": 2,
    }

    exported = parley(*where, "export", "battles", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert [json.loads(line)["winner"] for line in exported.stdout.splitlines()] == [
        "model_a",
        "tie",
    ]

    found = parley(*where, "search", "roll back a deploy", "--json", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert "matching by words only" in found.stderr  # Chroma cannot open a read-only folder
    assert "deploys-and-rollbacks.md" in json.loads(found.stdout)[0]["source"]
    dense = parley(*where, "search", "roll back", "--mode", "dense", cwd=tmp_path)
    assert dense.returncode == 1 and "read-only" in dense.stderr
    assert "Traceback" not in dense.stderr

    copy = tmp_path / "copy.db"
    backed_up = parley(*where, "backup", str(copy), cwd=tmp_path)
    assert backed_up.returncode == 0, backed_up.stderr
    assert "(2 votes)" in backed_up.stdout

    assert contents(read_only_data) == before


def test_doctor_finds_a_read_only_database_sound(read_only_data: Path, tmp_path: Path) -> None:
    result = parley(
        "--data-dir", str(read_only_data), "doctor", "--json", "--no-models", cwd=tmp_path
    )
    findings = {f["check"]: f for f in json.loads(result.stdout)}
    assert findings["arena database"]["ok"], findings["arena database"]
    assert "sound, 2 votes" in findings["arena database"]["detail"]
    assert "restore" not in json.dumps(findings)
    assert findings["index"]["ok"] and findings["index"]["detail"].startswith("37 passages")
    # the one true finding: nothing can be written there
    assert not findings["data directory"]["ok"]


def test_restore_reads_a_backup_on_a_read_only_mount(read_only_data: Path, tmp_path: Path) -> None:
    mount = read_only_data.parent
    target = tmp_path / "fresh"
    result = parley(
        "--data-dir", str(target), "restore", str(read_only_data / "parley.db"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "(2 votes)" in result.stdout
    assert (target / "parley.db").is_file()
    assert sorted(p.name for p in mount.iterdir()) == ["data"]


def test_a_restore_leaves_nothing_beside_the_backup(data_dir: Path, tmp_path: Path) -> None:
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    backup = shelf / "parley-backup.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["--data-dir", str(data_dir), "backup", str(backup)]).exit_code == 0
    restored = runner.invoke(cli, ["--data-dir", str(tmp_path / "new"), "restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    assert [p.name for p in shelf.iterdir()] == ["parley-backup.db"]  # no -wal, no -shm
