"""``leaderboard``: the models ranked from the votes."""

from __future__ import annotations

import json
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
