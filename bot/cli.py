"""The ``parley`` command line: index, search, ask, models, leaderboard, export, import, chat,
slack.

Every command reads one Settings object; Parley's own errors become a one-line
ClickException in one place (``ParleyGroup.invoke``). Heavy stacks (Chroma, onnxruntime)
are imported inside the commands that need them, so ``leaderboard`` and ``export`` start fast.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Coroutine
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from arena.errors import ArenaError
from knowledge.errors import KnowledgeError
from knowledge.indexer import IndexReport

from . import messages
from .access import Requester
from .config import Settings, load_settings
from .errors import BotError
from .reindex import ReindexStatus
from .service import Board, ModelCheck, ModelStatus

__all__ = [
    "JSON_ERRORS",
    "DefaultCommandGroup",
    "ParleyGroup",
    "answer_json",
    "channel_option",
    "configure_logging",
    "grade_lines",
    "hit_json",
    "json_option",
    "local_operator",
    "main",
    "roster_row",
    "run",
    "settings_of",
    "shorten",
    "status_text",
]

T = TypeVar("T")
console = Console()


JSON_ERRORS = "parley.json_errors"  # set in Context.meta (shared by the chain) by --json


class ParleyGroup(click.Group):
    """Turns Parley's errors into clean one-line messages instead of tracebacks; a command
    run with --json gets its error as JSON on stdout too, and exit code 1 either way."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KnowledgeError, ArenaError, BotError) as exc:
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
            click.echo(f"Warning: {warning}", err=True)
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


@click.group(cls=ParleyGroup)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where Parley keeps its index and database (default .parley, or PARLEY_DATA_DIR).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (and libraries' warnings).")
@click.version_option(package_name="parley")
def cli(data_dir: Path | None, verbose: bool) -> None:
    """Parley answers your team's questions from its knowledge base, with cited sources."""
    configure_logging(verbose)


def configure_logging(verbose: bool) -> None:
    """Errors only by default: a file a library warns about (pypdf's "EOF marker not
    found") is already reported once, plainly, by Parley itself; -v shows everything."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )


def local_operator() -> Requester:
    """Whoever runs the CLI on this machine already has the files: an admin by right."""
    return Requester("cli", getpass.getuser(), platform_admin=True)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Index files and folders (default: the configured sources); unchanged files are
    skipped, removed files dropped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from .runtime import open_service

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
    from .runtime import open_knowledge

    if not query.strip():
        raise click.UsageError(messages.empty_search())
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
@click.option("--check", is_flag=True, help="Send each model a tiny request: reachable or not.")
@click.pass_context
def models(ctx: click.Context, as_json: bool, check: bool) -> None:
    """List the configured models; with --check, send each a tiny request."""
    from .runtime import open_service

    async def go() -> tuple[list[ModelStatus], dict[str, ModelCheck]]:
        async with open_service(settings_of(ctx)) as service:
            checks = await service.check_models() if check else []
            return service.models(), {c.name: c for c in checks}

    statuses, checks = run(go())
    rows = [roster_row(s, checks.get(s.name)) for s in statuses]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("model", "provider", "model id", "status")
    for row in rows:
        table.add_row(row["name"], row["provider"], row["model"] or "-", status_text(row))
    console.print(table)


def roster_row(status: ModelStatus, check: ModelCheck | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": status.name,
        "provider": status.provider,
        "model": status.model,
        "configured": status.ready,
    }
    if not status.ready:
        row["reason"] = status.reason
    if check is not None:
        row["reachable"] = check.reachable
        row["latency_ms"] = round(check.latency_ms, 1)
        if check.error:
            row["error"] = check.error
    return row


def status_text(row: dict[str, Any]) -> str:
    if not row["configured"]:
        return f"[red]not set up[/]: {escape(row['reason'])}"
    if "reachable" not in row:
        return "configured"
    if row["reachable"]:
        return f"[green]reachable[/] ({row['latency_ms']:.0f} ms)"
    return f"[red]unreachable[/]: {escape(row.get('error', ''))}"


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

    from .runtime import open_service

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

    from .runtime import open_store

    async def go() -> int:
        async with open_store(settings_of(ctx), read_only=True) as store:
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


@cli.command()
@click.option("--no-models", is_flag=True, help="Skip sending each model a tiny request.")
@json_option
@click.pass_context
def doctor(ctx: click.Context, no_models: bool, as_json: bool) -> None:
    """Check the configuration, data directory, index, database and models; say what to fix."""
    from .doctor import diagnose

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
        return [f"[bold]{number}.[/] unmeasured ({escape(grade.judge)}): {escape(grade.error)}"]
    lines = [
        f"[bold]{number}.[/] score {grade.score:.0f}/100 (legacy {grade.legacy_score:.0f})"
        f"  [dim]{escape(grade.judge)}, {grade.latency_ms:.0f} ms, ${grade.cost_usd:.4f}[/]"
    ]
    for name, judged in [*grade.criteria.items(), ("context", grade.context_relevance)]:
        lines.append(f"   {name:<13} {judged.level:<9} [dim]{escape(judged.reason)}[/]")
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
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="At most this many answers not yet audited (thumbs-down first).",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="Only answers given since this date (local time).",
)
@click.option("--judge", "judge_name", help="Roster model to judge with (default: configured).")
@click.option("--report", "latest", is_flag=True, help="Show the latest stored report instead.")
@json_option
@click.pass_context
def audit(
    ctx: click.Context,
    sample: int,
    since: datetime | None,
    judge_name: str | None,
    latest: bool,
    as_json: bool,
) -> None:
    """Grade recent answers with the judge, with canaries; print and store the report."""
    from .runtime import open_service

    async def go() -> dict | None:
        async with open_service(settings_of(ctx), read_only=latest) as service:
            if latest:
                return await service.latest_audit()
            return await service.audit(
                sample=sample, since=since.timestamp() if since else 0.0, judge=judge_name
            )

    report = run(go())
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    if report is None:
        click.echo("No audit has run yet: run `parley audit`.")
        return
    from arena.judge.audit import report_lines

    summary, details = report_lines(report)
    console.print(escape(summary), highlight=False, soft_wrap=True)
    for line in details:
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


@cli.command()
@click.option("--channel", default="console", show_default=True, help="Channel name to record.")
@click.pass_context
def chat(ctx: click.Context, channel: str) -> None:
    """Talk to Parley in the terminal: answers, thumbs and A/B votes, stored as in chat."""
    from .console import run_console

    run(run_console(settings_of(ctx), channel=channel, console=console))


@cli.command()
@click.option("--http", "http_mode", is_flag=True, help="Serve the Events API over HTTP.")
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.pass_context
def slack(ctx: click.Context, http_mode: bool, port: int, host: str) -> None:
    """Run Parley in Slack: Socket Mode (SLACK_BOT_TOKEN, SLACK_APP_TOKEN), or with
    --http the Events API at /slack/events (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)."""
    from .slack.run import run_slack

    try:
        run(run_slack(settings_of(ctx), http=http_mode, host=host, port=port))
    except KeyboardInterrupt:
        click.echo("Parley has left Slack.")


@cli.command("discord")
@click.option(
    "--invite-url",
    "application_id",
    type=int,
    metavar="APPLICATION_ID",
    help="Print the URL that invites this application to a server, and exit.",
)
@click.pass_context
def discord_command(ctx: click.Context, application_id: int | None) -> None:
    """Run Parley as a Discord bot (token in DISCORD_TOKEN); see docs/discord.md."""
    from .discord import invite_url, run_discord

    if application_id is not None:
        click.echo(invite_url(application_id))
        return
    run(run_discord(settings_of(ctx)))


def main() -> None:
    cli()
