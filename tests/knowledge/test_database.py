"""Reading an SQLite file without writing to it: a live database is read under its
locks (and sees what is still in its WAL), a closed one as it is, creating nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from knowledge.database import read_only_uri


def wal_database(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # commits stay in the -wal
    db.execute("CREATE TABLE t (v)")
    db.execute("INSERT INTO t VALUES (1)")
    return db


def read(path: Path) -> list[int]:
    with closing(sqlite3.connect(read_only_uri(path), uri=True)) as db:
        return [v for (v,) in db.execute("SELECT v FROM t ORDER BY v")]


def test_a_database_being_written_is_read_with_its_wal(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    with closing(wal_database(path)) as writer:
        writer.execute("INSERT INTO t VALUES (2)")
        assert "immutable" not in read_only_uri(path)
        assert read(path) == [1, 2]  # the second row is only in the -wal


def test_a_closed_database_is_read_without_a_file_made_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "closed.db"
    wal_database(path).close()  # the last connection checkpoints and removes the -wal
    assert read(path) == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["closed.db"]
