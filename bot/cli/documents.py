"""Commands over the knowledge base: ``index`` (through the service) and ``search``."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import textwrap
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from knowledge.indexer import IndexReport

from .. import messages
from ..reindex import ReindexStatus
from .base import (
    cli,
    console,
    json_option,
    local_operator,
    run,
    settings_of,
)

__all__ = ["INTERRUPTED", "hit_json", "hit_lines", "shorten"]

INTERRUPTED = 128 + signal.SIGINT  # the exit code of a run stopped by Ctrl-C, as shells use


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Index files and folders (default: the configured sources); unchanged files are
    skipped, removed files dropped."""
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
        disable=not console.is_terminal,  # piped output gets the summary alone
    ) as bar:
        task = bar.add_task("", total=None)
        # a second bar for the passages of a file too long for one embedding batch
        within = bar.add_task("", total=None, visible=False)

        async def progress(status: ReindexStatus) -> None:
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
                    return await service.reindex(local_operator(), list(paths), progress, stop=stop)
            finally:
                loop.remove_signal_handler(signal.SIGINT)

        report = run(go())
    for path, reason in report.skipped:
        console.print(f"[yellow]skipped[/] {path}: {reason}", highlight=False, soft_wrap=True)
    if report.stopped:
        console.print(messages.index_stopped(report), highlight=False, soft_wrap=True)
        sys.exit(INTERRUPTED)
    console.print(messages.index_summary(report), highlight=False, soft_wrap=True)


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
    from ..runtime import open_knowledge, require_index

    if not query.strip():
        raise click.UsageError(messages.empty_search())
    settings = settings_of(ctx)
    require_index(settings)
    with open_knowledge(settings, read_only=True) as kb:  # a report writes nothing
        if kb.dense_unavailable and mode == "hybrid":
            click.echo(messages.words_only_search(kb.dense_unavailable), err=True)
        hits = kb.search(query, k or settings.top_k, mode=mode)
    if as_json:
        click.echo(json.dumps([hit_json(h) for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        console.print(messages.nothing_found())
    for rank, hit in enumerate(hits, 1):
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
