"""Battle hygiene: a battle whose answer names its own model or vendor does not count.

Votes in a battle are meant for two anonymous answers. When one says "As Claude, ..."
or "I am GPT-4o", the voter knows who is who, so, as Chatbot Arena does, the battle is
kept and can be voted on but is left out of the ratings (``Store.record_battle(...,
excluded=reason)``; exports and the leaderboard's counts mark it).

Identity words are configurable per model; by default a model's words are its roster
name, its provider's model id, and the names of its vendor and the vendor's model
families (``VENDOR_WORDS``). A word matches case-insensitively where it is not part of
a longer word: "gpt" matches "I am GPT-4o." but "claude" does not match "Claudette".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from arena.types import ModelSpec

__all__ = [
    "NAMES_MODEL",
    "VENDOR_WORDS",
    "battle_exclusion",
    "default_identity_words",
    "names_itself",
]

NAMES_MODEL = "names_model"  # the reason stored on such battles

# per provider id: the vendor and its model families, as answers name themselves
VENDOR_WORDS: dict[str, tuple[str, ...]] = {
    "openai": ("OpenAI", "ChatGPT", "GPT"),
    "anthropic": ("Anthropic", "Claude"),
}


def default_identity_words(specs: Iterable[ModelSpec]) -> dict[str, list[str]]:
    """Per model name: its name, its model id and its vendor's words (offline answerers
    have only their name)."""
    words: dict[str, list[str]] = {}
    for spec in specs:
        found = [spec.name, spec.model, *VENDOR_WORDS.get(spec.provider, ())]
        words[spec.name] = list(dict.fromkeys(w for w in found if w.strip()))
    return words


@lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for the words: each whole, case-insensitive, longest first."""
    words = tuple(sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True))
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in words)
    # not inside a longer word: "GPT" matches "GPT-4o" but "Claude" not "Claudette"
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W\d_])", re.IGNORECASE)


def names_itself(text: str, words: Sequence[str]) -> str | None:
    """The first identity word the text contains, or None."""
    pattern = _pattern(tuple(words))
    found = pattern.search(text) if pattern else None
    return found.group(0) if found else None


def battle_exclusion(
    answers: Sequence[tuple[str, str]], identity_words: Mapping[str, Sequence[str]]
) -> str | None:
    """``NAMES_MODEL`` when any (model, text) answer names its own model or vendor,
    else None; pass it to ``Store.record_battle(..., excluded=...)``. A model without
    configured words is checked against its own name."""
    for model, text in answers:
        if names_itself(text, identity_words.get(model, [model])):
            return NAMES_MODEL
    return None
