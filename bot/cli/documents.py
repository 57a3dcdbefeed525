"""``index``: bring the knowledge base in line with the documents, through the service."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from knowledge.indexer import IndexReport
from knowledge.types import IndexProgress

from .. import messages
from ..streaming import Throttled
from .base import cli, local_operator, run, settings_of
from .output import console

__all__ = ["INTERRUPTED"]

INTERRUPTED = 128 + signal.SIGINT  # the exit code of a run stopped by Ctrl-C, as shells use
PIPED_EVERY = 30.0  # seconds between progress lines when the output is not a terminal


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Parse and embed every file again, unchanged ones too (after an embedder"
    " upgrade, or when search results look wrong for files that did not change).",
)
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...], force: bool) -> None:
    """Index files and folders (default: the configured sources); unchanged files are
    skipped (unless --force), removed files dropped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ..runtime import open_service

    settings = settings_of(ctx)
    with Progress(
        TextColumn("[bold]Indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # piped: progress lines on stderr (``progress``)
    ) as bar:
        task = bar.add_task("", total=None)
        # a second bar for the passages of a file too long for one embedding batch
        within = bar.add_task("", total=None, visible=False)
        piped = Throttled(_to_stderr, PIPED_EVERY)  # a log (CI, cron): a line now and then

        async def progress(status: IndexProgress) -> None:
            if not console.is_terminal:
                await piped(messages.reindex_progress(status))
                return
            bar.update(
                task,
                completed=status.done,
                total=status.total or None,
                description=Path(status.current).name,
            )

            if status.passages_total:  # a file too long for one embedding batch
                bar.update(
                    within,
                    completed=status.passages_done,
                    total=status.passages_total,
                    description=f"{Path(status.current).name}: passages embedded",
                    visible=status.passages_done < status.passages_total,
                )

        async def go() -> IndexReport:
            stop = asyncio.Event()

            def interrupted() -> None:  # Ctrl-C: stop at the next step, keep what is done
                if not stop.is_set():
                    stop.set()
                    bar.update(task, description="stopping…")
                    console.print(messages.index_stopping(), highlight=False)

            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGINT, interrupted)
            try:
                async with open_service(settings) as service:
                    return await service.reindex(
                        local_operator(), list(paths), progress, stop=stop, force=force
                    )
            finally:
                loop.remove_signal_handler(signal.SIGINT)

        report = run(go())
    for path, reason in report.skipped:
        skipped = messages.file_skipped(path, reason)
        console.print(skipped, style="yellow", highlight=False, soft_wrap=True)
    if report.stopped:
        console.print(messages.index_stopped(report), highlight=False, soft_wrap=True)
        sys.exit(INTERRUPTED)
    console.print(messages.index_summary(report), highlight=False, soft_wrap=True)


async def _to_stderr(line: str) -> None:
    click.echo(line, err=True)
