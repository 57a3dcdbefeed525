"""`parley backup` while votes arrive, and `parley restore` into a fresh data directory:
the same votes and the same leaderboard."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.backup import backup_database
from arena.store import BattleRecord, Store
from bot.cli import cli


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def votes(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return sorted(db.execute("SELECT battle_id, user, choice FROM votes"))


async def back_up_during_a_write(live: Path, backup: Path) -> int:
    store = await Store.open(live / "parley.db")
    try:
        records = [
            BattleRecord("alpha", "beta", "a" if n % 3 else "b", float(n), "eng", f"u{n}")
            for n in range(300)
        ]
        await store.bulk_record_battles(records[:200])
        writer = asyncio.create_task(store.bulk_record_battles(records[200:]))
        copied = await backup_database(live / "parley.db", backup)
        await writer
    finally:
        await store.close()
    return copied


def test_backup_while_votes_arrive_then_restore_gives_the_same_board(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    copied = asyncio.run(back_up_during_a_write(live, tmp_path / "backup.db"))
    assert copied in (200, 300)  # one consistent snapshot: before or after the batch
    fresh = tmp_path / "fresh"
    result = invoke("--data-dir", str(fresh), "restore", str(tmp_path / "backup.db"))
    assert result.exit_code == 0 and f"({copied} votes)" in result.output
    if copied == 300:
        assert votes(fresh / "parley.db") == votes(live / "parley.db")
    board = invoke("--data-dir", str(fresh), "leaderboard", "--json").stdout
    assert sum(row["votes"] for row in json.loads(board)) == 2 * copied


def test_backup_and_restore_through_the_cli(tmp_path: Path) -> None:
    live, fresh = tmp_path / "live", tmp_path / "fresh"
    lines = "\n".join(
        json.dumps({"model_a": "x", "model_b": "y", "winner": "model_a", "tstamp": n})
        for n in range(5)
    )
    assert (
        "Imported 5"
        in CliRunner()
        .invoke(cli, ["--data-dir", str(live), "import", "battles", "-"], input=lines)
        .output
    )
    backup = tmp_path / "parley-backup.db"
    assert invoke("--data-dir", str(live), "backup", str(backup)).exit_code == 0
    assert invoke("--data-dir", str(fresh), "restore", str(backup)).exit_code == 0
    assert votes(fresh / "parley.db") == votes(live / "parley.db")
    before = invoke("--data-dir", str(live), "leaderboard", "--json").stdout
    after = invoke("--data-dir", str(fresh), "leaderboard", "--json").stdout
    assert json.loads(before) == json.loads(after)
    again = invoke("--data-dir", str(fresh), "restore", str(backup))
    assert again.exit_code == 1 and "already exists" in again.output  # never overwritten


def test_a_failed_backup_leaves_the_previous_backup_and_no_partial(tmp_path: Path) -> None:
    from arena.errors import StoreError

    database, backup = tmp_path / "parley.db", tmp_path / "backup.db"
    sqlite3.connect(database).close()  # a database without the arena's tables
    backup.write_bytes(b"yesterday's backup")
    with pytest.raises(StoreError, match="no such table: votes"):
        asyncio.run(backup_database(database, backup, force=True))  # fails after copying every page
    assert backup.read_bytes() == b"yesterday's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.db", "parley.db"]


def test_restore_refuses_a_file_that_is_not_a_parley_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = invoke("--data-dir", str(tmp_path / "d"), "restore", str(junk))
    assert result.exit_code == 1 and "not a Parley backup" in result.output
    assert not (tmp_path / "d" / "parley.db").exists()


def test_backup_refuses_an_existing_file_unless_forced(tmp_path: Path) -> None:
    data = tmp_path / "d"
    line = json.dumps({"model_a": "x", "model_b": "y", "winner": "model_a", "tstamp": 1})
    CliRunner().invoke(cli, ["--data-dir", str(data), "import", "battles", "-"], input=line)
    backup = tmp_path / "backup.db"
    backup.write_bytes(b"last week's backup")
    refused = invoke("--data-dir", str(data), "backup", str(backup))
    assert refused.exit_code == 1 and "--force" in refused.output
    assert len(refused.output.strip().splitlines()) == 1  # one line, no traceback
    assert backup.read_bytes() == b"last week's backup"
    forced = invoke("--data-dir", str(data), "backup", "--force", str(backup))
    assert forced.exit_code == 0 and "(1 vote)" in forced.output
    assert votes(backup) == votes(data / "parley.db")
