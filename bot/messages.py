"""Every text Parley shows a user or writes to its log, in one place (like bolt's
``logger/messages.py``), so wording stays consistent across CLI, console and chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from arena.types import Answer, Choice

__all__ = [
    "CHOICE_LABELS",
    "all_models_failed",
    "empty_question",
    "import_summary",
    "index_summary",
    "no_votes_yet",
    "nothing_found",
    "sources_lines",
    "thumb_recorded",
    "vote_recorded",
]

if TYPE_CHECKING:
    from knowledge.indexer import IndexReport

CHOICE_LABELS: dict[Choice, str] = {
    "a": "A is better",
    "b": "B is better",
    "tie": "Tie",
    "both_bad": "Both are bad",
}


def sources_lines(answer: Answer) -> list[str]:
    """The numbered sources under an answer; uncited fallbacks are marked as such."""
    if not answer.citations:
        return []
    heading = "Top passages (not cited by the model):" if answer.cited_fallback else "Sources:"
    lines = [heading]
    lines += [f"[{c.number}] {c.passage.label()}" for c in answer.citations]
    return lines


def empty_question() -> str:
    return "Ask me a question, for example: How do I roll back a deploy?"


def all_models_failed(errors: list[str]) -> str:
    return "No model could answer right now. " + " ".join(errors)


def vote_recorded(model_a: str, model_b: str, choice: Choice, replaced: bool) -> str:
    verb = "changed to" if replaced else "recorded:"
    return f"Vote {verb} {CHOICE_LABELS[choice]}. Model A was {model_a}, model B was {model_b}."


def thumb_recorded(model: str, value: int) -> str:
    return f"Thanks, {'👍' if value > 0 else '👎'} recorded for {model}."


def index_summary(report: IndexReport) -> str:
    return (
        f"Indexed in {report.seconds:.1f} s: {report.added} added, {report.changed} changed, "
        f"{report.removed} removed, {report.unchanged} unchanged, {len(report.skipped)} skipped; "
        f"{report.passages} passages in the index."
    )


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
    return f"Imported {imported} battles ({duplicates} already present, {errors} lines skipped)."
