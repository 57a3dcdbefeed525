"""The judge's commands: ``judge`` (grade cases, compare judges) and ``audit``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from rich.markup import escape

from .. import messages
from .base import (
    DefaultCommandGroup,
    cli,
    json_option,
    run,
    settings_of,
)
from .output import console

__all__ = ["grade_lines"]


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
        grade_cases(
            loaded,
            judge_name or settings.judge,
            settings.models,
            settings.judge_timeout,
            top_k=settings.top_k,
            web_backend=settings.web.provider,
        )
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
@click.option(
    "--with-authors",
    is_flag=True,
    help="Count votes by judges named author_N too (MT-Bench's own authors; FastChat's"
    " published agreement leaves them out).",
)
@json_option
def judge_agreement(first: Path, second: Path, with_authors: bool, as_json: bool) -> None:
    """Agreement and Cohen's kappa of two sets of pairwise verdicts (battle JSONL), with and
    without ties, as FastChat's llm_judge computes them; the same file twice compares its
    judges with each other."""
    from arena.judge.agreement import agreement, experts_only, read_verdicts

    def read(path: Path) -> list:
        verdicts = read_verdicts(path)
        return verdicts if with_authors else experts_only(verdicts)

    one = read(first)
    same = first.resolve() == second.resolve()
    turns = agreement(one) if same else agreement(one, read(second))
    if as_json:
        click.echo(json.dumps([t.as_dict() for t in turns], indent=2))
        return
    if not turns:
        click.echo(messages.no_match_judged_in_both())
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
    from ..runtime import open_service

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
        click.echo(messages.no_audit_yet())
        return
    from ..audit_report import report_lines

    summary, details = report_lines(report)
    console.print(escape(summary), highlight=False, soft_wrap=True)
    for line in details:
        console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
