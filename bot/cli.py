"""The ``parley`` command line: index, search, ask, models, leaderboard, export, import, chat.

Every command reads one Settings object; Parley's own errors become a one-line
ClickException in one place (``ParleyGroup.invoke``). Heavy stacks (Chroma, onnxruntime)
are imported inside the commands that need them, so ``leaderboard`` and ``export`` start fast.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console

from arena.errors import ArenaError
from knowledge.errors import KnowledgeError

from . import messages
from .config import Settings
from .errors import BotError

__all__ = [
    "DefaultCommandGroup",
    "ParleyGroup",
    "answer_json",
    "channel_option",
    "grade_lines",
    "hit_json",
    "json_option",
    "main",
    "roster_row",
    "run",
    "settings_of",
    "shorten",
]

T = TypeVar("T")
console = Console()


class ParleyGroup(click.Group):
    """Turns Parley's errors into clean one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KnowledgeError, ArenaError, BotError) as exc:
            raise click.ClickException(str(exc)) from exc
        except ValidationError as exc:
            raise click.ClickException(f"invalid configuration: {exc}") from exc


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
        try:
            root.meta["settings"] = Settings(**overrides)
        except ValidationError as exc:
            raise click.ClickException(f"invalid configuration: {exc}") from exc
    return root.meta["settings"]


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(fn)


def channel_option(fn):
    return click.option("--channel", help="Only this channel's votes (default: all).")(fn)


@click.group(cls=ParleyGroup)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where Parley keeps its index and database (default .parley, or PARLEY_DATA_DIR).",
)
@click.version_option(package_name="parley")
def cli(data_dir: Path | None) -> None:
    """Parley answers your team's questions from its knowledge base, with cited sources."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Index files and folders; unchanged files are skipped, removed files dropped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    settings = settings_of(ctx)
    with (
        Progress(
            TextColumn("[bold]Indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("", total=None)

        def progress(path: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=Path(path).name)

        from .runtime import open_knowledge

        kb = open_knowledge(settings)
        try:
            report = kb.index(list(paths), progress=progress)
        finally:
            kb.close()
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
    from .runtime import open_knowledge

    settings = settings_of(ctx)
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


@cli.command()
@click.argument("question")
@click.option("--model", help="Answer with this roster model (see `parley models`).")
@json_option
@click.pass_context
def ask(ctx: click.Context, question: str, model: str | None, as_json: bool) -> None:
    """Answer QUESTION from the knowledge base, with numbered citations."""
    from .runtime import open_service
    from .service import Ask

    settings = settings_of(ctx)

    async def go():
        async with open_service(settings) as service:
            chosen = model or service.default_model
            return await service.ask(
                Ask(question, getpass.getuser(), "cli", None, "cli"), model=chosen
            )

    reply = run(go())
    if not reply.answers:
        raise click.ClickException(" ".join(reply.notices))
    answer = reply.answers[0].answer
    if as_json:
        click.echo(json.dumps(answer_json(answer), indent=2, ensure_ascii=False))
        return
    console.print(answer.text, highlight=False, soft_wrap=True)
    for line in messages.sources_lines(answer):
        console.print(line, highlight=False, soft_wrap=True, style="dim")


def answer_json(answer) -> dict[str, Any]:
    return {
        "answer": answer.text,
        "model": answer.model,
        "citations": [
            {"number": c.number, "source": c.passage.display_source, "location": c.passage.place}
            for c in answer.citations
        ],
        "cited_fallback": answer.cited_fallback,
        "latency_ms": round(answer.latency_ms, 1),
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "cost_usd": answer.cost_usd,
    }


@cli.command()
@json_option
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List the roster and whether each model is ready to answer."""
    from arena.roster import build_roster

    roster = build_roster(settings_of(ctx).models)
    rows = [roster_row(c) for c in roster.entries]
    rows += [{"name": n, "ready": False, "reason": why} for n, why in roster.skipped]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("model", "provider", "model id", "ready")
    for row in rows:
        ready = "[green]ready[/]" if row["ready"] else f"[red]no[/]: {row['reason']}"
        table.add_row(row["name"], row.get("provider", ""), row.get("model", ""), ready)
    console.print(table)


def roster_row(contestant) -> dict[str, Any]:
    spec = contestant.spec
    return {"name": spec.name, "provider": spec.provider, "model": spec.model, "ready": True}


@cli.command()
@channel_option
@json_option
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also draw a chart.")
@click.option("--rounds", type=click.IntRange(min=1), help="Bootstrap rounds (default 100).")
@click.pass_context
def leaderboard(
    ctx: click.Context, channel: str | None, as_json: bool, png: Path | None, rounds: int | None
) -> None:
    """Rank the models from the votes: score, 95% interval, votes, win and thumbs rates."""
    from arena.leaderboard import build_leaderboard, render_table, write_chart

    from .runtime import open_store

    settings = settings_of(ctx)

    async def go():
        async with open_store(settings) as store:
            return await build_leaderboard(
                store,
                channel=channel,
                rounds=rounds or settings.bootstrap_rounds,
                provisional_votes=settings.provisional_votes,
            )

    rows = run(go())
    if png:
        write_chart(rows, png)
    if as_json:
        click.echo(json.dumps([row.as_dict() for row in rows], indent=2))
        return
    if not rows:
        console.print(messages.no_votes_yet())
        return
    console.print(render_table(rows))
    if png:
        console.print(f"Chart written to {png}")


@cli.group("export")
def export_group() -> None:
    """Export arena data."""


@export_group.command("battles")
@click.option(
    "-o", "--output", type=click.File("w"), default="-", help="Write here (default stdout)."
)
@click.pass_context
def export_battles(ctx: click.Context, output) -> None:
    """Write every voted battle as JSONL in the FastChat / Chatbot Arena field names."""
    from arena.battles_io import export_battles as export

    from .runtime import open_store

    async def go() -> int:
        async with open_store(settings_of(ctx)) as store:
            return await export(store, output)

    count = run(go())
    if output is not sys.stdout:
        click.echo(f"Exported {count} battles.", err=True)


@cli.group("import")
def import_group() -> None:
    """Import arena data."""


@import_group.command("battles")
@click.argument("file", type=click.File("r"))
@click.pass_context
def import_battles(ctx: click.Context, file) -> None:
    """Read battles from JSONL in the FastChat / Chatbot Arena format."""
    from arena.battles_io import import_battles as load

    from .runtime import open_store

    async def go():
        async with open_store(settings_of(ctx)) as store:
            return await load(store, file)

    report = run(go())
    for line_number, reason in report.errors:
        click.echo(f"line {line_number}: {reason}", err=True)
    click.echo(messages.import_summary(report.imported, report.duplicates, len(report.errors)))


@cli.group("judge", cls=DefaultCommandGroup, default_command="grade")
def judge_group() -> None:
    """Grade answers with the judge (`parley judge CASES.jsonl`), or compare two judges."""


@judge_group.command("grade")
@click.argument("cases", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--judge",
    "judge_name",
    help="Roster model to judge with (default: the configured judge, else the offline one).",
)
@json_option
@click.pass_context
def judge_grade(ctx: click.Context, cases: Path, judge_name: str | None, as_json: bool) -> None:
    """Grade each case of CASES (JSONL: question, context, answer), in input order."""
    from arena.judge.cases import grade_cases, read_cases

    settings = settings_of(ctx)
    loaded = read_cases(cases)
    grades = run(
        grade_cases(loaded, judge_name or settings.judge, settings.models, settings.judge_timeout)
    )
    if as_json:
        click.echo(json.dumps([g.as_dict() for g in grades], indent=2, ensure_ascii=False))
        return
    for number, grade in enumerate(grades, 1):
        for line in grade_lines(number, grade):
            console.print(line, highlight=False, soft_wrap=True)


def grade_lines(number: int, grade) -> list[str]:
    """A grade as text: the scores, then one line per criterion with its reason."""
    if grade.unmeasured:
        return [f"[bold]{number}.[/] unmeasured ({grade.judge}): {grade.error}"]
    lines = [
        f"[bold]{number}.[/] score {grade.score:.0f}/100 (legacy {grade.legacy_score:.0f})"
        f"  [dim]{grade.judge}, {grade.latency_ms:.0f} ms, ${grade.cost_usd:.4f}[/]"
    ]
    for name, judged in [*grade.criteria.items(), ("context", grade.context_relevance)]:
        lines.append(f"   {name:<13} {judged.level:<9} [dim]{judged.reason}[/]")
    return lines


@judge_group.command("agreement")
@click.argument("first", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("second", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def judge_agreement(first: Path, second: Path, as_json: bool) -> None:
    """Agreement and Cohen's kappa of two sets of pairwise verdicts (battle JSONL), with and
    without ties, as FastChat's llm_judge computes them; the same file twice compares its
    judges with each other."""
    from arena.judge.agreement import agreement, read_verdicts

    one = read_verdicts(first)
    same = first.resolve() == second.resolve()
    turns = agreement(one) if same else agreement(one, read_verdicts(second))
    if as_json:
        click.echo(json.dumps([t.as_dict() for t in turns], indent=2))
        return
    if not turns:
        click.echo("No match was judged in both sets.")
    for t in turns:
        for label, figures in (("with ties", t.with_ties), ("without ties", t.without_ties)):
            ratio = "-" if figures.ratio is None else f"{figures.ratio:.1%}"
            kappa = "-" if figures.kappa is None else f"{figures.kappa:.3f}"
            click.echo(
                f"turn {t.turn} {label:<12} agreement {ratio:>6}"
                f" ({figures.agree}/{figures.total})  kappa {kappa}"
            )


@cli.command()
@click.option("--channel", default="console", show_default=True, help="Channel name to record.")
@click.pass_context
def chat(ctx: click.Context, channel: str) -> None:
    """Talk to Parley in the terminal: answers, thumbs and A/B votes, stored as in chat."""
    from .console import run_console

    run(run_console(settings_of(ctx), channel=channel, console=console))


def main() -> None:
    cli()
