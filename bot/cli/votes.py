"""``leaderboard``: the models ranked from the votes."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from arena.files import replaced_whole

from .. import messages
from .base import channel_option, cli, json_option, run, settings_of

if TYPE_CHECKING:
    from arena.leaderboard import Intervals

    from ..service import Board

__all__ = ["board_json"]


@cli.command()
@channel_option
@json_option
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also draw a chart.")
@click.option(
    "--rounds",
    type=click.IntRange(min=1),
    help="Bootstrap rounds (default 100); implies --intervals bootstrap.",
)
@click.option(
    "--intervals",
    type=click.Choice(["sandwich", "bootstrap"]),
    help="Sandwich (robust) normal intervals, the default; or bootstrap percentiles.",
)
@click.option(
    "--style",
    is_flag=True,
    help="Style-controlled scores (length, markdown) in place of the rates.",
)
@click.option(
    "--judge", "with_judge", is_flag=True, help="Add the judge's grades in their own columns."
)
@click.option(
    "--details",
    is_flag=True,
    help="Show each model's pipeline: k, search mode, follow-ups, web search, prompt.",
)
@click.pass_context
def leaderboard(
    ctx: click.Context,
    channel: str | None,
    as_json: bool,
    png: Path | None,
    rounds: int | None,
    intervals: Intervals | None,
    style: bool,
    with_judge: bool,
    details: bool,
) -> None:
    """Rank the models from the votes: score, 95% interval, Elo, votes, win and thumbs rates.
    Each model is a pipeline; --details (and --json always) shows its settings."""
    from ..runtime import open_service
    from .leaderboard_table import board_table, pipeline_lines

    settings = settings_of(ctx)
    if rounds:
        if intervals == "sandwich":
            raise click.ClickException(messages.rounds_need_bootstrap())
        settings = settings.model_copy(update={"bootstrap_rounds": rounds})
    chosen: Intervals = intervals or ("bootstrap" if rounds else "sandwich")

    async def go() -> Board:
        async with open_service(settings, read_only=True) as service:
            return await service.leaderboard(
                channel, chart=png is not None, intervals=chosen, style=style, judge=with_judge
            )

    board = run(go())
    if png and board.chart_png:
        try:
            with replaced_whole(png) as partial:  # a failed write leaves the old chart
                partial.write_bytes(board.chart_png)
        except OSError as exc:
            raise click.ClickException(
                messages.chart_write_failed(png, str(exc.strerror or exc))
            ) from exc
    rows = [*board.rows, *board.leaderboard.unrated]
    if as_json:
        click.echo(json.dumps(board_json(board), indent=2))
        return
    if rows:
        width = shutil.get_terminal_size().columns
        click.echo(board_table(board.leaderboard, width=width, style=style, judged=board.judged))
        if details:
            click.echo("\n".join(["", *pipeline_lines(rows, board.pipelines, width)]))
    if not board.rows:
        click.echo(messages.no_votes_yet(channel))
        if png:
            click.echo(messages.chart_not_written(png), err=True)
    elif png:
        click.echo(messages.chart_written(png))


def board_json(board: Board) -> list[dict]:
    """``leaderboard --json``: every row, rated then unrated, as shown (a provisional
    model's intervals and ranks null, as on the table and the dashboard), each with
    ``pipeline``, the settings its answers were given (None for answers from before they
    were recorded); with ``--judge`` each has ``judge``, the model's judge summary
    (score, legacy score, graded, the share of its answers' sentences the support check
    flagged), or None when nothing was graded."""
    lines = [row.shown().as_dict() for row in [*board.rows, *board.leaderboard.unrated]]
    for line in lines:
        line["pipeline"] = board.pipelines.get(str(line["model"]))
        if board.judged is not None:
            summary = board.judged.get(line["model"])
            line["judge"] = asdict(summary) if summary else None
    return lines
