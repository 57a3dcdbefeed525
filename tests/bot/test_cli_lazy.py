"""A command loads only its own stack: ``parley leaderboard`` starts without the
answering, indexing and judging code, and without any model's SDK, while ``parley
--help`` still lists every command with its short help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from bot.cli import cli
from bot.cli.base import COMMAND_MODULES
from tests.conftest import ROOT

# what a leaderboard needs none of: the other commands, rich's console, retrieval and
# indexing, the tokenizer, the judge, the offline answerers, the dashboard's reads, the
# models' SDKs
NOT_FOR_A_LEADERBOARD = (
    "rich.console",
    "tokenizers",
    "bot.cli.answers",
    "bot.cli.documents",
    "bot.cli.grading",
    "bot.cli.operator",
    "bot.cli.ops",
    "bot.cli.web",
    "bot.insights",
    "arena.judge.audit",
    "arena.judge.grades",
    "arena.models.offline",
    "arena.models.openai",
    "knowledge.embed",
    "knowledge.indexer",
    "knowledge.lexical",
    "knowledge.loaders",
    "snowballstemmer",
    "openai",
    "chromadb",
    "onnxruntime",
)

# runs the command given after -c's code, then names every module it loaded
LOADED = (
    "import sys; from bot.cli import cli;"
    "cli.main(sys.argv[1:], standalone_mode=False);"
    "print('MODULES', *sorted(sys.modules))"
)


def loaded_by(*args: str, env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """A fresh interpreter's output for ``parley ARGS``, and the modules it imported."""
    out = subprocess.run(
        [sys.executable, "-c", LOADED, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    ).stdout
    shown, _, modules = out.partition("MODULES ")
    return shown, set(modules.split())


def test_a_leaderboard_loads_only_what_it_shows(tmp_path: Path) -> None:
    battles = tmp_path / "battles.jsonl"
    battles.write_text(
        "".join(
            json.dumps({"model_a": a, "model_b": b, "winner": "model_a", "tstamp": n}) + "\n"
            for n, (a, b) in enumerate([("m1", "m2"), ("m2", "m3"), ("m3", "m1")] * 10)
        )
    )
    data = tmp_path / "data"
    imported = CliRunner().invoke(cli, ["--data-dir", str(data), "import", "battles", str(battles)])
    assert imported.exit_code == 0, imported.output
    # a configured hosted model whose key is set: building the roster would load its SDK
    config = tmp_path / "parley.toml"
    config.write_text(
        '[[models]]\nname = "gpt"\nprovider = "openai"\nmodel = "gpt-4o-mini"\n'
        'api_key_env = "PARLEY_TEST_LAZY_KEY"\n'
    )
    env = {"PARLEY_CONFIG": str(config), "PARLEY_TEST_LAZY_KEY": "sk-test"}
    shown, modules = loaded_by("--data-dir", str(data), "leaderboard", "--json", env=env)
    assert {row["model"] for row in json.loads(shown)} == {"m1", "m2", "m3"}
    assert "bot.cli.votes" in modules and "arena.leaderboard" in modules
    loaded = [name for name in NOT_FOR_A_LEADERBOARD if name in modules]
    assert not loaded, loaded


def test_each_command_module_registers_the_commands_named_for_it() -> None:
    """COMMAND_MODULES is the only list of commands: one missing there is unreachable.
    Every module of the package is imported, so a command registered by a module the
    list does not name is found too."""
    code = (
        "import importlib, json, pkgutil, bot.cli; from bot.cli import cli; found = {}\n"
        "for module in sorted(m.name for m in pkgutil.iter_modules(bot.cli.__path__)):\n"
        "    before = set(cli.commands)\n"
        "    importlib.import_module('bot.cli.' + module)\n"
        "    found[module] = sorted(set(cli.commands) - before)\n"
        "print(json.dumps(found))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    registered = {module: names for module, names in json.loads(out).items() if names}
    expected: dict[str, list[str]] = {}
    for name, module in COMMAND_MODULES.items():
        expected.setdefault(module, []).append(name)
    assert registered == {module: sorted(names) for module, names in expected.items()}


def test_help_lists_every_command_with_its_short_help() -> None:
    result = CliRunner().invoke(cli, ["--help"], terminal_width=1000)
    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:")[1]
    ctx = click.Context(cli)
    for name in COMMAND_MODULES:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert f"  {name}  " in listed and command.get_short_help_str(limit=1000) in listed, name


def test_a_command_loaded_twice_keeps_one_copy_of_the_global_options() -> None:
    ctx = click.Context(cli)
    for _ in range(2):
        command = cli.get_command(ctx, "judge")
        assert command is not None
    for each in (command, *command.commands.values()):
        names = [opt for param in each.params for opt in param.opts]
        assert names.count("--data-dir") == 1 and names.count("--verbose") == 1, each.name


def test_each_command_runs_from_a_fresh_start_through_the_lazy_group() -> None:
    """Every command, reached only by its name, loads its module then and runs (its
    --help: the options it was given, the global ones among them)."""
    code = (
        "import json, sys; from click.testing import CliRunner; from bot.cli import cli;"
        " from bot.cli.base import COMMAND_MODULES; ran = {}\n"
        "for name, module in sorted(COMMAND_MODULES.items()):\n"
        "    before = 'bot.cli.' + module in sys.modules\n"
        "    result = CliRunner().invoke(cli, [name, '--help'], terminal_width=1000)\n"
        "    ran[name] = [before, result.exit_code, result.output]\n"
        "print(json.dumps(ran))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    ran = json.loads(out)
    assert sorted(ran) == sorted(COMMAND_MODULES)
    first_of_its_module = {module: name for name, module in sorted(COMMAND_MODULES.items())[::-1]}
    for name, (loaded_before, exit_code, output) in ran.items():
        assert exit_code == 0, (name, output)
        assert output.startswith(f"Usage: cli {name} "), output
        assert "--data-dir" in output and "--verbose" in output, name
        if first_of_its_module[COMMAND_MODULES[name]] == name:
            assert not loaded_before, f"{name}: its module was loaded before it was asked for"
