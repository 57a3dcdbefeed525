"""A file written for the user is replaced whole, or left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.files import replaced_whole


def test_a_write_that_fails_halfway_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "export.jsonl"
    target.write_text("old\n")
    with pytest.raises(OSError), replaced_whole(target) as partial:
        partial.write_text("half")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.jsonl"]


def test_a_finished_write_replaces_the_file_and_a_new_one_appears_only_then(
    tmp_path: Path,
) -> None:
    target = tmp_path / "chart.png"
    with replaced_whole(target) as partial:
        assert partial.parent == tmp_path and partial != target
        partial.write_bytes(b"new")
        assert not target.exists()
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]
    target.write_bytes(b"older and longer")
    with replaced_whole(target) as partial:
        partial.write_bytes(b"new")
    assert target.read_bytes() == b"new"
