"""What Slack and Discord users read that only chat has: the assistant panel, the reason
form, a channel's hints, a revealed battle as plain text."""

from __future__ import annotations

__all__ = [
    "ASSISTANT_GREETING",
    "ASSISTANT_PROMPTS",
    "ASSISTANT_STATUS",
    "REASON_FORM_FIELD",
    "REASON_FORM_TITLE",
    "ask_only_hint",
    "files_not_read",
    "invite_me",
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


def files_not_read() -> str:
    return (
        "I can't read attached files yet: ask your question in words and I'll answer"
        " from the knowledge base."
    )


def reveal_text(model_a: str, model_b: str) -> str:
    """The names a revealed battle shows, as plain text (notifications, screen readers)."""
    return f"Model A: {model_a}. Model B: {model_b}."
