"""What a question's asker reads on every surface: an answer's sources and faithfulness
marks, vote and thumb labels and their receipts, and why no answer came."""

from __future__ import annotations

from arena.types import Answer, Choice
from knowledge.types import Passage

from .counting import plural

__all__ = [
    "BATTLE_QUESTION",
    "CHOICE_LABELS",
    "EMPTY_ANSWER",
    "FLAG_MARKS",
    "THUMB_REASONS",
    "UNNAMED_ANSWER",
    "WEB_MARK",
    "all_models_failed",
    "answered_by",
    "empty_question",
    "flags_note",
    "foreign_battle",
    "no_answer",
    "search_unavailable",
    "source_text",
    "sources_heading",
    "sources_lines",
    "thumb_recorded",
    "unexpected_error",
    "vote_not_recorded",
    "vote_recorded",
    "web_search_failed",
]


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


WEB_MARK = "[Web]"  # before a source that is a web page, on every surface


def sources_heading(answer: Answer) -> str:
    return "Top passages (not cited by the model)" if answer.cited_fallback else "Sources"


def source_text(passage: Passage) -> str:
    """A source as plain text: a document's file and place, or a web page marked as one,
    with its title and URL."""
    if passage.is_web:
        title = passage.title if passage.title != passage.source else ""
        return " ".join(p for p in (WEB_MARK, title, passage.source) if p)
    return passage.label()


def sources_lines(answer: Answer) -> list[str]:
    """The numbered sources under an answer (uncited fallbacks are marked as such), then
    the note on what its sources lack, if any."""
    lines = []
    if answer.citations:
        lines.append(f"{sources_heading(answer)}:")
        lines += [f"[{c.number}] {source_text(c.passage)}" for c in answer.citations]
    if answer.source_note:
        lines.append(answer.source_note)
    return lines


def web_search_failed(reason: str) -> str:
    """Under an answer whose pipeline searches the web, when the search did not work."""
    return f"Web search failed ({reason}), so this answer comes from the documents alone."


# the mark a flagged sentence carries where a citation would stand (bot.render): "[!]"
# conflicts with the sources, "[?]" states a number or name they never do
FLAG_MARKS = {"contradicted": "[!]", "unverifiable": "[?]"}


def flags_note(contradicted: int, unstated: int) -> str | None:
    """The line under an answer that explains its marks; None when nothing is marked (a
    clean answer gets no line: the check finds words, it does not vouch for truth)."""
    parts = []
    if contradicted:
        verb = "conflicts" if contradicted == 1 else "conflict"
        parts.append(
            f"{FLAG_MARKS['contradicted']} {plural(contradicted, 'sentence')} {verb}"
            " with the sources"
        )
    if unstated:
        states = "states" if unstated == 1 else "state"
        counted = plural(unstated, "sentence") if not parts else str(unstated)
        where = "the sources" if not parts else "them"
        parts.append(
            f"{FLAG_MARKS['unverifiable']} {counted} {states} a number or name not in {where}"
        )
    return " · ".join(parts) or None


def empty_question() -> str:
    return "Ask me a question, for example: How do I roll back a deploy?"


def search_unavailable() -> str:
    return (
        "Search is unavailable right now, so I cannot answer from the documents."
        " Try again in a minute."
    )


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


def unexpected_error() -> str:
    return "Something went wrong on Parley's side; it has been logged. Please try again."


EMPTY_ANSWER = "(empty answer)"  # a model that answered with nothing
UNNAMED_ANSWER = "this answer"  # a thumb's receipt when the answer's label is lost
BATTLE_QUESTION = "Which answer is better? The model names show after a vote."


def no_answer() -> str:
    """When no answer came and the service gave no notice saying why."""
    return "No answer this time."


def answered_by(label: str) -> str:
    return f"Answered by {label}"
