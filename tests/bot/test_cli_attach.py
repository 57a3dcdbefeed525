"""``parley ask --attach``: a document on disk answered from, offline, on the handbook."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.cli.answers import file_attachment

CONTRACT = """# Vendor contract with Acme Hosting

## Term and renewal

The contract renews automatically on 1 March 2027 unless either party gives ninety
days' written notice.

## Fees

The annual fee is 12,000 euros, invoiced each January.
"""


def ask(data_dir: Path, *args: str):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "ask", *args])
    assert result.exit_code == 0, result.output
    return result


def test_an_attached_document_answers_and_is_cited(data_dir: Path, tmp_path: Path) -> None:
    contract = tmp_path / "contract.md"
    contract.write_text(CONTRACT)
    question = "When does the vendor contract renew?"
    payload = json.loads(ask(data_dir, question, "--attach", str(contract), "--json").stdout)
    assert "1 March 2027" in payload["answer"]
    assert payload["citations"][0]["source"] == "contract.md (attached)"
    assert payload["citations"][0]["attached"] is True and payload["notices"] == []
    assert not any(c["attached"] for c in payload["citations"][1:])  # the handbook's
    plain = ask(data_dir, question, "--attach", str(contract)).stdout
    assert "contract.md (attached)" in plain
    without = json.loads(ask(data_dir, question, "--json").stdout)
    assert "1 March 2027" not in without["answer"]  # not indexed: nothing kept of it


def test_a_file_parley_cannot_read_is_named_and_the_question_answered(
    data_dir: Path, tmp_path: Path
) -> None:
    photo = tmp_path / "scan.png"
    photo.write_bytes(b"\x89PNG\r\n")
    result = ask(data_dir, "How do I roll back a deploy?", "--attach", str(photo), "--json")
    assert "I can't read scan.png" in result.stderr
    payload = json.loads(result.stdout)
    assert "shipit rollback" in payload["answer"]
    assert [n.split(":")[0] for n in payload["notices"]] == ["I can't read scan.png"]


@pytest.mark.parametrize("kind", ["device", "named pipe"])
def test_only_a_regular_file_is_read(data_dir: Path, tmp_path: Path, kind: str) -> None:
    """A link to /dev/zero would be read until memory ran out, a named pipe block for
    ever: neither is opened."""
    odd = tmp_path / "zero.md"
    if kind == "device":
        odd.symlink_to("/dev/zero")
    else:
        os.mkfifo(odd)
    result = ask(data_dir, "How do I roll back a deploy?", "--attach", str(odd), "--json")
    assert f"I can't open zero.md: not a regular file (a {kind})" in result.stderr
    assert "Traceback" not in result.output
    payload = json.loads(result.stdout)  # a script is told too
    assert "shipit rollback" in payload["answer"]
    assert payload["notices"] == [f"I can't open zero.md: not a regular file (a {kind})."]


def test_a_file_is_read_no_further_than_one_byte_past_the_limit(tmp_path: Path) -> None:
    """A file that grows after its size was taken is read only far enough to be too large."""
    growing = tmp_path / "log.txt"
    growing.write_bytes(b"x" * 5)
    attachment = file_attachment(growing, max_bytes=10)
    growing.write_bytes(b"x" * 1000)
    assert attachment.size == 5
    assert asyncio.run(attachment.fetch()) == b"x" * 11
