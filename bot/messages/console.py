"""The terminal chat's (``parley chat``) own words: its welcome, prompts and goodbye."""

from __future__ import annotations

from .answers import THUMB_REASONS

__all__ = [
    "ANSWER_BEING_WRITTEN",
    "QUESTION_PROMPT",
    "console_goodbye",
    "console_welcome",
    "feedback_prompt",
    "reason_prompt",
    "vote_prompt",
]


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
