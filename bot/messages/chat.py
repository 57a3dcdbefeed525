"""What Slack and Discord users read that only chat has: the assistant panel, the reason
form, a channel's hints, a ``/ask`` question's root message, a long answer's cut, a
battle's last vote and its names as plain text."""

from __future__ import annotations

__all__ = [
    "ANSWER_CUT_NOTE",
    "ASSISTANT_GREETING",
    "ASSISTANT_PROMPTS",
    "ASSISTANT_STATUS",
    "REASON_FORM_CHOICE",
    "REASON_FORM_DETAIL",
    "REASON_FORM_FIELD",
    "REASON_FORM_TITLE",
    "ask_only_hint",
    "asked",
    "invite_me",
    "last_vote",
    "reveal_text",
    "switched_off",
    "topic_prompt",
    "which_channel",
]


ASSISTANT_GREETING = "Hi! Ask me anything about the team's docs; I answer with the sources I used."
ASSISTANT_STATUS = "is looking through the docs…"  # Slack shows it after the app's name
ASSISTANT_PROMPTS = [  # when the knowledge base has no titles to suggest from
    {"title": "What can you answer?", "message": "What do our docs cover?"},
    {"title": "Getting started", "message": "How does a new team member get set up?"},
]
REASON_FORM_TITLE = "What was wrong?"
REASON_FORM_FIELD = "What was wrong? (optional)"
REASON_FORM_CHOICE = "The answer was"  # Slack's form: the reasons as choices, then words
REASON_FORM_DETAIL = "Anything else? (optional)"
ANSWER_CUT_NOTE = "… (cut here: the answer is too long to show in full)"
_TOPIC_TITLE_CHARS = 60


def topic_prompt(title: str) -> dict[str, str]:
    """A suggested question about one of the knowledge base's documents."""
    return {
        "title": f"About {title[:_TOPIC_TITLE_CHARS]}",
        "message": f"What should I know about {title}?",
    }


def ask_only_hint() -> str:
    return "In this channel I answer through `/ask`: try `/ask your question`."


def switched_off() -> str:
    return "Parley is switched off in this channel."


def invite_me() -> str:
    return "I'm not in this channel yet: invite me with `/invite @Parley`, then ask again."


def which_channel() -> str:
    return "Name a channel with #, like `/leaderboard #support`, or leave it out for all."


def reveal_text(model_a: str, model_b: str) -> str:
    """The names a revealed battle shows, as plain text (notifications, screen readers)."""
    return f"Model A: {model_a}. Model B: {model_b}."


def asked(who: str, question: str) -> str:
    """The root message of a ``/ask`` question, which its answer's thread hangs from."""
    return f"{who} asked: {question}"


def last_vote(choice_label: str) -> str:
    """Under a revealed battle whose buttons stay: the last vote, and that it can change."""
    return (
        f"Last vote: {choice_label}. Each person's vote counts once; click again to change yours."
    )
