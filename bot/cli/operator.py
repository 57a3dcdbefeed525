"""The operator commands: ``search``, ``export battles``, ``import battles``, ``backup``,
``restore``, ``db migrate`` and ``doctor``, run by whoever holds the data directory, on
its files.

They go through ``bot.operator`` (and ``bot.doctor``), not the service: no chat user can
reach them (see docs/architecture.md). This module only parses and renders; those are
imported inside the commands, so a command loads only what it uses.
"""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.text import Text

from .. import messages
from .base import cli, json_option, run, settings_of
from .output import console

__all__ = ["hit_json", "hit_lines", "shorten"]


@cli.command()
@click.argument("query")
@click.option("--k", "k", type=click.IntRange(min=1), help="How many passages (default top_k).")
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "dense", "lexical"]),
    default="hybrid",
    show_default=True,
    help="Retrieval method.",
)
@json_option
@click.pass_context
def search(ctx: click.Context, query: str, k: int | None, mode: str, as_json: bool) -> None:
    """Show the passages that best match QUERY, with source, location and score."""
    from .. import operator as operations

    if not query.strip():
        raise click.UsageError(messages.empty_search())
    found = operations.search(settings_of(ctx), query, k, mode)  # type: ignore[arg-type]
    if found.words_only:
        click.echo(messages.words_only_search(found.words_only), err=True)
    if as_json:
        click.echo(json.dumps([hit_json(h) for h in found.hits], indent=2, ensure_ascii=False))
        return
    if not found.hits:
        console.print(
            messages.nothing_found() if found.empty_index else messages.nothing_matched(mode)
        )
    for rank, hit in enumerate(found.hits, 1):
        for line in hit_lines(rank, hit, console.width):
            console.print(line, soft_wrap=True)  # wrapped here, by word


def hit_lines(rank: int, hit, width: int) -> list[Text]:
    """A hit as lines that fit ``width`` without breaking a word: ``1. source, heading
    score 0.812`` (the label wraps under itself, so the score stays on the first line),
    then the passage, indented."""
    prefix, score = f"{rank}. ", f"  score {hit.score:.3f}"
    words = {"break_long_words": False, "break_on_hyphens": False}
    room = max(width - len(prefix) - len(score), 20)
    label = textwrap.wrap(hit.passage.label(), room, **words) or [""]
    lines = [Text.assemble((prefix, "bold"), label[0], (score, "dim"))]
    lines += [Text(" " * len(prefix) + rest) for rest in label[1:]]
    indent = {"initial_indent": "   ", "subsequent_indent": "   "}
    body = textwrap.wrap(shorten(hit.passage.text), max(width, 24), **words, **indent)
    return lines + [Text(line) for line in body]


def hit_json(hit) -> dict[str, Any]:
    p = hit.passage
    return {
        "source": p.display_source,
        "title": p.title,
        "location": p.place,
        "score": round(hit.score, 6),
        "text": p.text,
    }


def shorten(text: str, width: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@cli.group("export")
def export_group() -> None:
    """Export arena data."""


@export_group.command("battles")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default="-",
    help="Write here (default stdout); replaced only once the export is whole.",
)
@click.pass_context
def export_battles(ctx: click.Context, output: Path) -> None:
    """Write every voted battle as JSONL in the FastChat / Chatbot Arena field names."""
    from arena.files import replaced_whole

    from .. import operator as operations

    settings = settings_of(ctx)
    if str(output) == "-":
        run(operations.export_battles(settings, sys.stdout))
        return
    try:  # a failed export, even halfway, leaves the file as it was
        with replaced_whole(output) as partial, partial.open("w", encoding="utf-8") as out:
            count = run(operations.export_battles(settings, out))
    except OSError as exc:
        raise click.ClickException(
            messages.export_write_failed(output, str(exc.strerror or exc))
        ) from exc
    click.echo(messages.export_done(count), err=True)


@cli.group("import")
def import_group() -> None:
    """Import arena data."""


@import_group.command("battles")
@click.argument("file", type=click.File("r"))
@click.pass_context
def import_battles(ctx: click.Context, file) -> None:
    """Read battles from JSONL in the FastChat / Chatbot Arena format."""
    from .. import operator as operations

    report = run(operations.import_battles(settings_of(ctx), file))
    for line_number, reason in report.errors:
        click.echo(messages.import_line_skipped(line_number, reason), err=True)
    click.echo(messages.import_summary(report.imported, report.duplicates, len(report.errors)))


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@click.pass_context
def backup(ctx: click.Context, file: Path, force: bool) -> None:
    """Copy the arena database (votes, answers, grades) to FILE, safely while the bot runs."""
    from .. import operator as operations

    votes = run(operations.backup(settings_of(ctx), file, force=force))
    click.echo(messages.backup_done(file, votes))


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing database (stop the bot first).")
@click.pass_context
def restore(ctx: click.Context, file: Path, force: bool) -> None:
    """Restore the arena database from a backup FILE into the data directory."""
    from .. import operator as operations

    settings = settings_of(ctx)
    votes = run(operations.restore(settings, file, force=force))
    click.echo(messages.restore_done(file, settings.database_path, votes))


@cli.group("db")
def db_group() -> None:
    """Move the arena between databases."""


@db_group.command("migrate")
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL_OR_FILE",
    help="A postgresql:// URL, or the path of an SQLite file; it must hold no arena yet.",
)
@click.pass_context
def db_migrate(ctx: click.Context, target: str) -> None:
    """Copy the arena (questions, answers, votes, grades, everything) to another database,
    checking every table's row count afterwards: from the data directory's SQLite file
    to PostgreSQL, or, with database_url set, from PostgreSQL back to a file."""
    from .. import operator as operations

    report = run(operations.copy_database(settings_of(ctx), target))
    for line in messages.arena_copied(report.source, report.target, report.rows, report.to_server):
        click.echo(line)


@cli.command()
@click.option("--no-models", is_flag=True, help="Skip sending each model a tiny request.")
@json_option
@click.pass_context
def doctor(ctx: click.Context, no_models: bool, as_json: bool) -> None:
    """Check the configuration, data directory, index, database and models; say what to fix."""
    from ..doctor import diagnose

    settings = settings_of(ctx)
    warnings = ctx.find_root().meta["settings_warnings"]
    findings = run(diagnose(settings, warnings, check_models=not no_models))
    if as_json:
        click.echo(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        for f in findings:
            mark = "[green]ok[/]  " if f.ok else "[red]FIX[/] "
            console.print(f"{mark} {f.check}: {escape(f.detail)}", highlight=False, soft_wrap=True)
            if f.fix:
                console.print(f"      → {escape(f.fix)}", highlight=False, soft_wrap=True)
    if not all(f.ok for f in findings):
        sys.exit(1)
