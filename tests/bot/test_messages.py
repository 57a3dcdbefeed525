"""Counts read right: one of a thing is singular wherever Parley counts for a user."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from click.testing import CliRunner

from bot import messages
from bot.cli import cli
from knowledge.indexer import IndexReport
from knowledge.types import IndexProgress


def test_one_of_a_thing_is_singular_and_more_are_plural() -> None:
    assert messages.export_done(1) == "Exported 1 battle."
    assert messages.export_done(2) == "Exported 2 battles."
    assert messages.import_summary(1, 0, 1) == (
        "Imported 1 battle (0 already present, 1 line skipped)."
    )
    assert messages.import_summary(0, 3, 2) == (
        "Imported 0 battles (3 already present, 2 lines skipped)."
    )
    assert messages.index_summary(IndexReport(added=1, passages=1)).endswith(
        "; 1 passage in the index."
    )
    status = IndexProgress("slack:U1", 0.0, done=0, total=1, current="/kb/a.md")
    assert messages.reindex_progress(status) == "Re-indexing: 0 of 1 file (a.md)"
    long = IndexProgress("cli", 0.0, 1, 2, "/kb/rota.csv", passages_done=1200, passages_total=20004)
    assert messages.reindex_progress(long) == (
        "Re-indexing: 1 of 2 files (rota.csv: 1,200 of 20,004 passages embedded)"
    )
    assert messages.backup_done(Path("b.db"), 1).endswith("(1 vote).")
    assert messages.plural(1, "analysis", "analyses") == "1 analysis"
    assert messages.plural(2, "analysis", "analyses") == "2 analyses"


def test_exporting_one_battle_says_one_battle(tmp_path: Path) -> None:
    line = {"model_a": "alpha", "model_b": "beta", "winner": "model_a", "tstamp": 1}
    battles = tmp_path / "one.jsonl"
    battles.write_text(json.dumps(line) + "\n")
    data = ["--data-dir", str(tmp_path / "data")]
    imported = CliRunner().invoke(cli, [*data, "import", "battles", str(battles)])
    assert "Imported 1 battle (0 already present, 0 lines skipped)." in imported.output
    exported = CliRunner().invoke(cli, [*data, "export", "battles", "-o", str(tmp_path / "o")])
    assert exported.exit_code == 0 and "Exported 1 battle." in exported.stderr


SURFACES = ["console.py", "cli/answers.py", "cli/base.py", "cli/documents.py", "cli/operator.py"]
SURFACES += ["cli/ops.py", "cli/votes.py", "cli/web.py"]
SAYING = {"echo", "print", "prompt", "_read", "ClickException", "UsageError"}
MARKUP = re.compile(r"\[/?[a-z ]*\]")  # rich's [bold], [/], [green] ...
WORD = re.compile(r"[A-Za-z]{4,}")


def said_in_place(path: Path) -> list[str]:
    """Text literals handed straight to the user (echo, print, a prompt, an error)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name not in SAYING:
            continue
        for arg in node.args:
            parts = arg.values if isinstance(arg, ast.JoinedStr) else [arg]
            texts = [
                p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)
            ]
            found += [
                f"{path.name}:{node.lineno} {t!r}" for t in texts if WORD.search(MARKUP.sub("", t))
            ]
    return found


def test_the_console_and_the_cli_say_nothing_of_their_own() -> None:
    """What they say comes from bot.messages, so wording is changed in one place."""
    bot = Path(messages.__file__).parents[1]
    assert [text for module in SURFACES for text in said_in_place(bot / module)] == []
