"""Commands that ask: ``ask``, ``models`` (the roster and its reachability) and ``chat``."""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from arena.types import Citation

from .. import messages
from ..attachments import Attachment
from ..errors import DownloadFailed
from ..render import flags_note, marked_text
from ..service import ModelCheck, ModelStatus, ShownAnswer
from .base import (
    cli,
    json_option,
    run,
    settings_of,
)
from .output import console

__all__ = ["answer_json", "citation_json", "file_attachment", "roster_row"]


@cli.command()
@click.argument("question")
@click.option(
    "--model", help="Answer with this roster entry, a whole pipeline (see `parley models`)."
)
@click.option(
    "--attach",
    "attached",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Answer from this document too (PDF, DOCX, Markdown, ...), its passages ranked"
    " with the knowledge base's; not indexed. Repeatable.",
)
@json_option
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    model: str | None,
    attached: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Answer QUESTION from the knowledge base (and any --attach documents), with
    numbered citations."""
    from ..console import ask_live
    from ..runtime import open_service, require_index
    from ..service import Ask

    settings = settings_of(ctx)
    require_index(settings)

    async def go():
        async with open_service(settings) as service:
            chosen = model or service.default_model
            files = tuple(file_attachment(p, settings.attachment_max_bytes) for p in attached)
            asked = Ask(question, getpass.getuser(), "cli", None, "cli", files)
            if as_json:  # stdout carries the JSON alone
                return await service.ask(asked, model=chosen)
            return await ask_live(console, service, asked, model=chosen)

    reply = run(go())
    if not reply.answers:
        raise click.ClickException(" ".join(reply.notices))
    for notice in reply.notices:  # a file not read, a model that failed: on stderr
        click.echo(notice, err=True)
    shown = reply.answers[0]
    if as_json:
        payload = answer_json(shown, reply.notices)
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    console.print(marked_text(shown.answer.text, shown.flags), highlight=False, soft_wrap=True)
    note = flags_note(shown.flags)
    for line in [*messages.sources_lines(shown.answer), *([note] if note else [])]:
        console.print(line, highlight=False, soft_wrap=True, style="dim")


def file_attachment(path: Path, max_bytes: int) -> Attachment:
    """A file named by ``--attach``, read when the service asks for it: a regular file
    alone (a device such as /dev/zero never ends, a named pipe blocks), and only to one
    byte past ``max_bytes``, so a file that grew since its size was taken is too large
    rather than read whole."""
    from knowledge.indexer import not_regular

    async def fetch() -> bytes:
        try:
            return await asyncio.to_thread(_head, path, max_bytes + 1)
        except OSError as exc:
            raise DownloadFailed(exc.strerror or str(exc)) from exc

    stat = path.stat()
    return Attachment(path.name, stat.st_size, fetch, withheld=not_regular(stat.st_mode) or "")


def _head(path: Path, size: int) -> bytes:
    with path.open("rb") as file:
        return file.read(size)


def answer_json(shown: ShownAnswer, notices: Sequence[str] = ()) -> dict[str, Any]:
    """``ask --json``: the answer, its citations (a web page or attached file marked) and
    accounting, the note of a failed web search, ``sentences``: each claim sentence with
    its support (None when it was not checked; docs/bot.md), and the reply's ``notices``
    (a file not read or cut short), so a script sees what stderr says."""
    answer = shown.answer
    return {
        "answer": answer.text,
        "model": answer.model,
        "citations": [citation_json(c) for c in answer.citations],
        "cited_fallback": answer.cited_fallback,
        "source_note": answer.source_note,
        "latency_ms": round(answer.latency_ms, 1),
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "cost_usd": answer.cost_usd,
        "sentences": None if shown.flags is None else [f.as_dict() for f in shown.flags],
        "notices": list(notices),
    }


def citation_json(citation: Citation) -> dict[str, Any]:
    """A source as ``ask --json`` lists it; a web page is marked ``web`` and has its URL,
    a file attached to the question is marked ``attached``."""
    passage = citation.passage
    row: dict[str, Any] = {
        "number": citation.number,
        "source": passage.display_source,
        "location": passage.place,
        "web": passage.is_web,
        "attached": passage.is_attached,
    }
    if passage.is_web:
        row["url"] = passage.source
        row["title"] = passage.title
    return row


@cli.command()
@json_option
@click.option("--check", is_flag=True, help="Send each model a tiny request: reachable or not.")
@click.pass_context
def models(ctx: click.Context, as_json: bool, check: bool) -> None:
    """List the configured models; with --check, send each a tiny request (exit code 1
    when one cannot answer: unreachable, or not set up)."""
    from ..runtime import open_service

    async def go() -> tuple[list[ModelStatus], dict[str, ModelCheck]]:
        settings = settings_of(ctx)
        async with open_service(settings, in_memory=True, rated_names=True) as service:
            checks = await service.check_models() if check else []
            return await service.models(), {c.name: c for c in checks}

    statuses, checks = run(go())
    rows = [roster_row(s, checks.get(s.name)) for s in statuses]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        from rich.table import Table
        from rich.text import Text

        from .leaderboard_table import pipeline_text

        table = Table("model", "provider", "model id", "pipeline", "status")
        for status, row in zip(statuses, rows, strict=True):
            said = messages.model_status(status, checks.get(status.name))
            answers = row.get("reachable", status.ready)
            colour = "red" if not answers else "green" if check else ""
            settings = {k: v for k, v in status.pipeline.items() if k not in ("provider", "model")}
            table.add_row(
                status.name,
                status.provider,
                status.model or "-",
                pipeline_text(settings),
                Text(said, colour),
            )
        console.print(table)
        renamed = [(s.name, s.configured_name) for s in statuses if s.name != s.configured_name]
        if renamed:
            console.print(messages.rated_anew(renamed))
    if check and not all(row.get("reachable") for row in rows):
        sys.exit(1)  # a check is for scripts too: some model cannot answer


def roster_row(status: ModelStatus, check: ModelCheck | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": status.name,
        "configured_name": status.configured_name,
        "provider": status.provider,
        "model": status.model,
        "configured": status.ready,
        "pipeline": status.pipeline,
    }
    if not status.ready:
        row["reason"] = status.reason
    if check is not None:
        row["reachable"] = check.reachable
        row["latency_ms"] = round(check.latency_ms, 1)
        if check.error:
            row["error"] = check.error
    return row


@cli.command()
@click.option("--channel", default="console", show_default=True, help="Channel name to record.")
@click.pass_context
def chat(ctx: click.Context, channel: str) -> None:
    """Talk to Parley in the terminal: answers, thumbs and A/B votes, stored as in chat."""
    from ..console import run_console
    from ..runtime import require_index

    settings = settings_of(ctx)
    require_index(settings)
    run(run_console(settings, channel=channel, console=console))
