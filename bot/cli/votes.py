"""Commands over the arena's records: ``leaderboard``, ``export``, ``import``,
``backup`` and ``restore``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from .. import messages
from ..service import Board
from .base import (
    channel_option,
    cli,
    console,
    json_option,
    run,
    settings_of,
)

__all__: list[str] = []


@cli.command()
@channel_option
@json_option
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also draw a chart.")
@click.option("--rounds", type=click.IntRange(min=1), help="Bootstrap rounds (default 100).")
@click.option(
    "--intervals",
    type=click.Choice(["bootstrap", "sandwich"]),
    default="bootstrap",
    show_default=True,
    help="Bootstrap percentiles, or the sandwich (robust) normal intervals.",
)
@click.option("--style", is_flag=True, help="Add style-controlled scores (length and markdown).")
@click.option(
    "--judge", "with_judge", is_flag=True, help="Add the judge's grades in their own columns."
)
@click.pass_context
def leaderboard(
    ctx: click.Context,
    channel: str | None,
    as_json: bool,
    png: Path | None,
    rounds: int | None,
    intervals: str,
    style: bool,
    with_judge: bool,
) -> None:
    """Rank the models from the votes: score, 95% interval, Elo, votes, win and thumbs rates."""
    from arena.leaderboard import render_board

    from ..runtime import open_service

    settings = settings_of(ctx)
    if rounds:
        settings = settings.model_copy(update={"bootstrap_rounds": rounds})

    async def go() -> Board:
        async with open_service(settings, read_only=True) as service:
            return await service.leaderboard(
                channel, chart=png is not None, intervals=intervals, style=style, judge=with_judge
            )

    board = run(go())
    if png and board.chart_png:
        png.write_bytes(board.chart_png)
    if as_json:
        rows = [row.as_dict() for row in board.rows]
        if board.judged is not None:
            for row in rows:
                summary = board.judged.get(row["model"])
                row["judge"] = asdict(summary) if summary else None
        click.echo(json.dumps(rows, indent=2))
        return
    if not board.rows:
        console.print(messages.no_votes_yet())
        return
    console.print(render_board(board.leaderboard, style=style, judged=board.judged))
    if png:
        console.print(f"Chart written to {png}")


@cli.group("export")
def export_group() -> None:
    """Export arena data."""


@export_group.command("battles")
@click.option(
    "-o",
    "--output",
    type=click.File("w", lazy=False),  # created even when there is nothing to export
    default="-",
    help="Write here (default stdout).",
)
@click.pass_context
def export_battles(ctx: click.Context, output) -> None:
    """Write every voted battle as JSONL in the FastChat / Chatbot Arena field names."""
    from arena.battles_io import export_battles as export

    from ..runtime import open_store

    async def go() -> int:
        async with open_store(settings_of(ctx), read_only=True) as store:
            return await export(store, output)

    count = run(go())
    if output is not sys.stdout:
        click.echo(messages.export_done(count), err=True)


@cli.group("import")
def import_group() -> None:
    """Import arena data."""


@import_group.command("battles")
@click.argument("file", type=click.File("r"))
@click.pass_context
def import_battles(ctx: click.Context, file) -> None:
    """Read battles from JSONL in the FastChat / Chatbot Arena format."""
    from arena.battles_io import import_battles as load

    from ..runtime import open_store

    async def go():
        async with open_store(settings_of(ctx)) as store:
            return await load(store, file)

    report = run(go())
    for line_number, reason in report.errors:
        click.echo(f"line {line_number}: {reason}", err=True)
    click.echo(messages.import_summary(report.imported, report.duplicates, len(report.errors)))


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, file: Path) -> None:
    """Copy the arena database (votes, answers, grades) to FILE, safely while the bot runs."""
    from arena.backup import backup_database

    votes = run(backup_database(settings_of(ctx).database_path, file))
    click.echo(messages.backup_done(file, votes))


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing database (stop the bot first).")
@click.pass_context
def restore(ctx: click.Context, file: Path, force: bool) -> None:
    """Restore the arena database from a backup FILE into the data directory."""
    from arena.backup import restore_database

    settings = settings_of(ctx)
    votes = run(restore_database(file, settings.database_path, force=force))
    click.echo(messages.restore_done(file, settings.database_path, votes))
