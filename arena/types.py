"""The values the arena passes around: questions, answers, votes and roster entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from knowledge.types import Hit, Passage

__all__ = [
    "CHOICES",
    "Answer",
    "Choice",
    "Citation",
    "ModelSpec",
    "Question",
    "Role",
    "Turn",
]

Role = Literal["user", "assistant"]
Choice = Literal["a", "b", "tie", "both_bad"]
CHOICES: tuple[Choice, ...] = ("a", "b", "tie", "both_bad")


@dataclass(frozen=True)
class Turn:
    """One earlier message in the thread the question was asked in."""

    role: Role
    text: str


@dataclass(frozen=True)
class Question:
    """What every contestant answers: the text, the thread so far, and the passages
    retrieved once for all of them (so a battle compares models, not retrievals)."""

    text: str
    hits: list[Hit] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)


@dataclass(frozen=True)
class Citation:
    """``[number]`` in an answer's text points at ``passage``."""

    number: int
    passage: Passage


@dataclass
class Answer:
    """One model's reply to a Question, with its accounting.

    ``error`` holds a user-facing message when the model failed; the text is then empty.
    ``cited_fallback`` is true when the model cited nothing and ``citations`` lists the
    top passages instead, so the reader can tell the difference. ``shown`` holds the
    passages the prompt carried, numbered as the model saw them, so the store keeps
    exactly the context an answer was given.
    """

    model: str
    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    error: str | None = None
    cited_fallback: bool = False
    shown: list[Passage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


class ModelSpec(BaseModel):
    """One ``[[models]]`` table of ``parley.toml``: a contestant on the roster."""

    name: str
    provider: str
    model: str = ""
    base_url: str | None = None
    api_key_env: str | None = None
    temperature: float | None = None  # None: the provider's default
    max_tokens: int = Field(default=512, gt=0)
    price_in: float = Field(default=0.0, ge=0)
    price_out: float = Field(default=0.0, ge=0)
    enabled: bool = True
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    concurrency: int = Field(default=4, gt=0)
