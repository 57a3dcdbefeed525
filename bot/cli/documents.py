"""Commands over the knowledge base: ``index`` (through the service) and ``search``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

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

__all__ = ["hit_json", "shorten"]


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
            async with open_service(settings) as service:
                return await service.reindex(local_operator(), list(paths), progress)

        report = run(go())
    for path, reason in report.skipped:
        console.print(f"[yellow]skipped[/] {path}: {reason}", highlight=False, soft_wrap=True)
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
    from ..runtime import open_knowledge

    if not query.strip():
        raise click.UsageError(messages.empty_search())
    settings = settings_of(ctx)
    no_file = not (settings.index_dir / "lexical.db").is_file()
    if no_file and not settings.database_url:  # a report creates nothing
        raise click.ClickException(messages.no_index(settings.index_dir))
    kb = open_knowledge(settings)
    try:
        hits = kb.search(query, k or settings.top_k, mode=mode)
    finally:
        kb.close()
    if as_json:
        click.echo(json.dumps([hit_json(h) for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        console.print(messages.nothing_found())
    for rank, hit in enumerate(hits, 1):
        p = hit.passage
        console.print(
            f"[bold]{rank}.[/] {p.label()}  [dim]score {hit.score:.3f}[/]", highlight=False
        )
        console.print(f"   {shorten(p.text)}", highlight=False, soft_wrap=True)


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
