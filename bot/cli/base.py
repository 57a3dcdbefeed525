"""The ``parley`` group and what every command shares.

Every command reads one Settings object; Parley's own errors become a one-line
ClickException in one place (``ParleyGroup.invoke``), as JSON with ``--json``. A
command's module is imported only when that command runs (``COMMAND_MODULES``), and
heavy stacks (Chroma, onnxruntime) inside the commands that need them, so
``leaderboard`` and ``export`` start fast.
"""

from __future__ import annotations

import asyncio
import gc
import getpass
import importlib
import json
import logging
import sys
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import messages
from ..access import Requester
from ..config import Settings, load_settings
from ..errors import SAID_TO_USERS

__all__ = [
    "COMMAND_MODULES",
    "JSON_ERRORS",
    "DefaultCommandGroup",
    "ParleyGroup",
    "channel_option",
    "cli",
    "configure_logging",
    "json_option",
    "local_operator",
    "main",
    "run",
    "settings_of",
    "share_global_options",
]

T = TypeVar("T")


JSON_ERRORS = "parley.json_errors"  # set in Context.meta (shared by the chain) by --json


# the module under bot.cli that registers each command on ``cli``: imported when the
# command runs or ``parley --help`` lists it, so a command loads only its own stack
COMMAND_MODULES = {
    "ask": "answers",
    "models": "answers",
    "chat": "answers",
    "index": "documents",
    "judge": "grading",
    "audit": "grading",
    "search": "operator",
    "export": "operator",
    "import": "operator",
    "backup": "operator",
    "restore": "operator",
    "doctor": "operator",
    "db": "operator",
    "slack": "ops",
    "discord": "ops",
    "leaderboard": "votes",
    "web": "web",
}


class ParleyGroup(click.Group):
    """Loads each command's module on first use (``command_modules``, names to modules
    of this package), giving the command the global options as it comes; and turns
    Parley's errors into clean one-line messages instead of tracebacks: a command run
    with --json gets its error as JSON on stdout too, and exit code 1 either way."""

    def __init__(self, *args: Any, command_modules: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_modules = command_modules

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.command_modules})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.command_modules:
            importlib.import_module(f".{self.command_modules[cmd_name]}", __package__)
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            share_global_options(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SAID_TO_USERS as exc:
            error = click.ClickException(str(exc))
            error.__cause__ = exc
        except click.UsageError:
            raise
        except click.ClickException as exc:
            error = exc
        if ctx.meta.get(JSON_ERRORS):
            click.echo(json.dumps({"error": error.format_message()}, ensure_ascii=False))
            sys.exit(error.exit_code)
        raise error


class DefaultCommandGroup(click.Group):
    """A group whose first argument, when it names no subcommand, goes to a default one:
    ``parley judge CASES.jsonl`` is ``parley judge grade CASES.jsonl``."""

    def __init__(self, *args: Any, default_command: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_command = default_command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] != "--help":
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def settings_of(ctx: click.Context) -> Settings:
    """Settings built once per invocation, with ``--data-dir`` taking precedence."""
    root = ctx.find_root()
    if "settings" not in root.meta:
        overrides = {"data_dir": root.params["data_dir"]} if root.params.get("data_dir") else {}
        settings, warnings = load_settings(**overrides)
        for warning in warnings:
            click.echo(messages.config_warning(warning), err=True)
        root.meta["settings"] = settings
        root.meta["settings_warnings"] = warnings
    return root.meta["settings"]


def json_option(fn):
    def remember(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
        ctx.meta[JSON_ERRORS] = value
        return value

    return click.option(
        "--json", "as_json", is_flag=True, callback=remember, help="Print JSON instead of text."
    )(fn)


def channel_option(fn):
    return click.option("--channel", help="Only this channel's votes (default: all).")(fn)


DATA_DIR_HELP = "Where Parley keeps its index and database (default .parley, or PARLEY_DATA_DIR)."
VERBOSE_HELP = "Log what happens (and libraries' warnings)."


@click.group(cls=ParleyGroup, command_modules=COMMAND_MODULES)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help=DATA_DIR_HELP)
@click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
@click.version_option(package_name="parley")
def cli(data_dir: Path | None, verbose: bool) -> None:
    """Parley answers your team's questions from its knowledge base, with cited sources."""
    configure_logging(verbose)


class _GlobalOption(click.Option):
    """A global option repeated on a command, so it can follow the command's name."""


def share_global_options(command: click.Command) -> None:
    """Let ``command`` and every command under it take the global options after its name
    too (``parley search X --data-dir D``), as the docs promise; given in both places,
    the one after the command wins. Sharing twice adds nothing."""
    if not any(isinstance(param, _GlobalOption) for param in command.params):
        command.params += [
            _GlobalOption(
                ["--data-dir"],
                type=click.Path(file_okay=False, path_type=Path),
                expose_value=False,
                callback=_root_data_dir,
                help=DATA_DIR_HELP,
            ),
            _GlobalOption(
                ["-v", "--verbose"],
                is_flag=True,
                expose_value=False,
                callback=_verbose,
                help=VERBOSE_HELP,
            ),
        ]
    if isinstance(command, click.Group):
        for subcommand in command.commands.values():
            share_global_options(subcommand)


def _root_data_dir(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.find_root().params["data_dir"] = value


def _verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        configure_logging(True)


def configure_logging(verbose: bool) -> None:
    """Errors only by default: a file a library warns about (pypdf's "EOF marker not
    found") is already reported once, plainly, by Parley itself; -v shows everything.
    The one warning kept is the roster's: a model left off (its key unset) is said in
    one line, or a user would wonder why it never answers."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.getLogger("arena.roster").setLevel(logging.INFO if verbose else logging.WARNING)


def local_operator() -> Requester:
    """Whoever runs the CLI on this machine already has the files: an admin by right."""
    return Requester("cli", getpass.getuser(), platform_admin=True)


def main() -> None:
    """The ``parley`` script. Its process runs one command, and what the imports built
    (numpy, pydantic, click: most of its objects) lives until it exits, so it is set
    aside from the garbage collector, whose full collections (one at exit, at least)
    would walk all of it again for nothing: 0.04-0.05 s of a leaderboard's CPU."""
    gc.freeze()
    cli()
