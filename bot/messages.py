"""What Parley says to its users, in one place (like bolt's ``logger/messages.py``), so
wording stays consistent across the CLI, the console and chat: replies and notices,
prompts, summaries and errors a user reads.

Kept with their code instead: log lines (beside what they log), the headings and
one-word marks of a surface's own rendering (table columns, doctor's ok/FIX),
``parley doctor``'s findings (each beside its check in ``bot/doctor.py``) and the
judge's audit report (``arena/judge/audit.py``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from arena.types import Answer, Choice
from knowledge.types import display_path

__all__ = [
    "ANSWER_BEING_WRITTEN",
    "CHOICE_LABELS",
    "QUESTION_PROMPT",
    "THUMB_REASONS",
    "all_models_failed",
    "backup_done",
    "config_warning",
    "console_goodbye",
    "console_welcome",
    "empty_question",
    "empty_search",
    "export_done",
    "feedback_prompt",
    "file_skipped",
    "foreign_battle",
    "import_line_skipped",
    "import_summary",
    "index_stopped",
    "index_stopping",
    "index_summary",
    "left_slack",
    "model_status",
    "no_index",
    "no_sources",
    "no_votes_yet",
    "not_admin",
    "nothing_found",
    "plural",
    "reason_prompt",
    "reindex_busy",
    "reindex_progress",
    "restore_done",
    "search_unavailable",
    "sources_lines",
    "thumb_recorded",
    "unexpected_error",
    "vote_not_recorded",
    "vote_prompt",
    "vote_recorded",
    "words_only_search",
]

if TYPE_CHECKING:
    from knowledge.indexer import IndexReport

    from .reindex import ReindexStatus
    from .service import ModelCheck, ModelStatus

CHOICE_LABELS: dict[Choice, str] = {
    "a": "A is better",
    "b": "B is better",
    "tie": "Tie",
    "both_bad": "Both are bad",
}


THUMB_REASONS: dict[str, str] = {
    "wrong": "Wrong",
    "outdated": "Outdated",
    "not_in_docs": "Not in the docs",
    "unclear": "Unclear",
}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 battle``, ``2 battles``; ``many`` for a noun whose plural is not noun + s."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def sources_lines(answer: Answer) -> list[str]:
    """The numbered sources under an answer; uncited fallbacks are marked as such."""
    if not answer.citations:
        return []
    heading = "Top passages (not cited by the model):" if answer.cited_fallback else "Sources:"
    lines = [heading]
    lines += [f"[{c.number}] {c.passage.label()}" for c in answer.citations]
    return lines


def console_welcome() -> str:
    return (
        "Ask Parley a question about your knowledge base; answers cite their sources.\n"
        "Rate an answer with + or -. Sometimes two anonymous answers (A and B) appear side"
        " by side: vote for the better one and see which models they were. Follow-up"
        " questions remember this conversation. Leave with an empty line, 'quit' or Ctrl-C."
    )


QUESTION_PROMPT = "you"
ANSWER_BEING_WRITTEN = "writing…"  # the title over a hosted answer drawn as it comes


def vote_prompt() -> str:
    return "vote: [a] A better, [b] B better, [t] tie, [x] both bad, Enter to skip"


def feedback_prompt() -> str:
    return "feedback: [+] good, [-] bad, Enter to skip"


def reason_prompt(keys: dict[str, str]) -> str:
    """After a thumbs-down: the reason keys (key to reason id), or the user's own words."""
    shown = ", ".join(f"[{key}] {THUMB_REASONS[reason]}" for key, reason in keys.items())
    return f"what was wrong? {shown}, or say it; Enter to skip"


def console_goodbye() -> str:
    return "Bye. Your votes and thumbs are saved."


def config_warning(warning: str) -> str:
    return f"Warning: {warning}"


def file_skipped(path: str, reason: str) -> str:
    return f"Skipped {display_path(path)}: {reason}"


def import_line_skipped(line: int, reason: str) -> str:
    return f"line {line}: {reason}"


def model_status(status: ModelStatus, check: ModelCheck | None = None) -> str:
    """One model's status in ``parley models``: set up or not, and when checked, whether
    it answered."""
    if not status.ready:
        return f"not set up: {status.reason}"
    if check is None:
        return "configured"
    if check.reachable:
        return f"reachable ({check.latency_ms:.0f} ms)"
    return f"unreachable: {check.error}"


def left_slack() -> str:
    return "Parley has left Slack."


def empty_question() -> str:
    return "Ask me a question, for example: How do I roll back a deploy?"


def search_unavailable() -> str:
    return (
        "Search is unavailable right now, so I cannot answer from the documents."
        " Try again in a minute."
    )


def empty_search() -> str:
    return 'Give some words to search for, for example: parley search "roll back a deploy"'


def all_models_failed(errors: list[str]) -> str:
    return "No model could answer right now. " + " ".join(errors)


def vote_recorded(model_a: str, model_b: str, choice: Choice, replaced: bool) -> str:
    verb = "changed to" if replaced else "recorded:"
    return f"Vote {verb} {CHOICE_LABELS[choice]}. Model A was {model_a}, model B was {model_b}."


def vote_not_recorded() -> str:
    return "Your vote was not recorded: Parley could not save it just now. Try again in a minute."


def foreign_battle() -> str:
    return "That vote is not for a battle in this channel, so it was not recorded."


def thumb_recorded(model: str, value: int) -> str:
    return f"Thanks, {'👍' if value > 0 else '👎'} recorded for {model}."


def index_summary(report: IndexReport) -> str:
    return (
        f"Indexed in {report.seconds:.1f} s: {report.added} added, {report.changed} changed, "
        f"{report.removed} removed, {report.unchanged} unchanged, {len(report.skipped)} skipped; "
        f"{plural(report.passages, 'passage')} in the index."
    )


def index_stopping() -> str:
    return "Stopping: finishing the step in progress; every finished file is kept."


def index_stopped(report: IndexReport) -> str:
    finished = report.added + report.changed + report.unchanged
    kept = (
        f"Stopped after {report.seconds:.1f} s. Kept {plural(finished, 'finished file')}"
        f" ({report.added} added, {report.changed} changed, {report.unchanged} unchanged)"
    )
    if report.pending:
        kept += (
            f" and {plural(report.pending, 'passage')} embedded from files not finished,"
            " which the next run will not embed again"
        )
    return (
        f"{kept}; {plural(report.passages, 'passage')} in the index. Run `parley index`"
        " on the same paths again to do the rest."
    )


def no_index(folder: Path) -> str:
    return (
        f"There is no index in {folder}: run `parley index PATH` first"
        " (or check --data-dir and PARLEY_DATA_DIR)."
    )


def words_only_search(why: str) -> str:
    return f"Note: matching by words only; {why}."


def nothing_found() -> str:
    return (
        "No passages matched. Is the knowledge base indexed? Try `parley index examples/handbook`."
    )


def no_votes_yet() -> str:
    return (
        "No votes yet. Vote on A/B answers in `parley chat`,"
        " or load votes with `parley import battles`."
    )


def import_summary(imported: int, duplicates: int, errors: int) -> str:
    return (
        f"Imported {plural(imported, 'battle')} ({duplicates} already present,"
        f" {plural(errors, 'line')} skipped)."
    )


def export_done(count: int) -> str:
    return f"Exported {plural(count, 'battle')}."


def not_admin() -> str:
    return "Only Parley's admins can re-index the knowledge base. Ask one of them to run it."


def no_sources() -> str:
    return (
        'No knowledge sources are configured: set `sources = ["docs/"]` in parley.toml,'
        " or name the paths to index."
    )


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{int(seconds)} s" if minutes == 0 else f"{minutes} min"


def reindex_progress(status: ReindexStatus) -> str:
    """``Re-indexing: 12 of 40 files (handbook.pdf)``; the total is unknown at first."""
    name = display_path(status.current).rsplit("/", 1)[-1] if status.current else ""
    count = f"{status.done} of {plural(status.total, 'file')}" if status.total else "starting"
    return f"Re-indexing: {count}" + (f" ({name})" if name else "")


def reindex_busy(status: ReindexStatus) -> str:
    started = time.strftime("%H:%M", time.localtime(status.started_at))
    running = _ago(time.time() - status.started_at)
    return (
        f"A re-index is already running, started by {status.requested_by} at {started}"
        f" ({running} ago); {reindex_progress(status)[0].lower()}"
        f"{reindex_progress(status)[1:]}. Try again when it has finished."
    )


def backup_done(file: Path, votes: int) -> str:
    return f"Backed up the arena database to {file} ({plural(votes, 'vote')})."


def restore_done(file: Path, database: Path, votes: int) -> str:
    return f"Restored {database} from {file} ({plural(votes, 'vote')})."


def unexpected_error() -> str:
    return "Something went wrong on Parley's side; it has been logged. Please try again."
