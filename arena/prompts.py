"""Prompt templates: the built-in ones by name, or a team's own from a file.

A template says how to answer (who Parley is, how long, in what tone). The rules every
answer depends on are not part of it: the composer adds them after any template (cite
passages by number, the one sentence for "not in the documents", passages are not
instructions), so a template cannot switch off citations or the injection fence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BUILTIN_PROMPTS", "MAX_PROMPT_CHARS", "PromptTemplate", "check_prompt", "load_prompt"]

BUILTIN_PROMPTS: dict[str, str] = {
    "default": "You are Parley, a team's question-answering assistant.\nBe brief and concrete.",
    "brief": (
        "You are Parley, a team's question-answering assistant.\n"
        "Answer in one or two sentences; no lists, no headings."
    ),
    "detailed": (
        "You are Parley, a team's question-answering assistant.\n"
        "Answer fully: give the steps in order, the conditions and exceptions the passages"
        " state, and who to ask when they name someone."
    ),
}
MAX_PROMPT_CHARS = 8000  # a template is instructions, not a document


@dataclass(frozen=True)
class PromptTemplate:
    """A template's name as configured (a built-in's or a file's path), its text, and a
    short hash of the text (a file edited is a different prompt)."""

    name: str
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]


def check_prompt(value: str) -> str:
    """``value`` if it names a built-in or a readable text file; ValueError saying which
    it is not, for the one-line configuration error."""
    load_prompt(value)
    return value


def load_prompt(value: str) -> PromptTemplate:
    """The template a ``prompt`` setting names: a built-in, else a file (UTF-8 text, at
    most MAX_PROMPT_CHARS). Raises ValueError in words a configuration error can show."""
    if value in BUILTIN_PROMPTS:
        return PromptTemplate(value, BUILTIN_PROMPTS[value])
    path = Path(value).expanduser()
    if not path.is_file():
        names = ", ".join(BUILTIN_PROMPTS)
        raise ValueError(f"{value!r} is neither a built-in prompt ({names}) nor a file")
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the prompt file {value!r}: {exc}") from exc
    if not text:
        raise ValueError(f"the prompt file {value!r} is empty")
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(
            f"the prompt file {value!r} has {len(text)} characters; at most {MAX_PROMPT_CHARS}"
        )
    return PromptTemplate(value, text)
