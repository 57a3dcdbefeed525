"""The values the arena passes around: questions, answers, votes and roster entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from knowledge.types import Hit, Mode, Passage

from .prompts import check_prompt

__all__ = [
    "CHOICES",
    "FOLLOWUPS",
    "WEB_USES",
    "Answer",
    "Choice",
    "Citation",
    "FollowUp",
    "ModelSpec",
    "Question",
    "Role",
    "Turn",
    "WebUse",
]

Role = Literal["user", "assistant"]
Choice = Literal["a", "b", "tie", "both_bad"]
CHOICES: tuple[Choice, ...] = ("a", "b", "tie", "both_bad")
# how a question asked in a thread is searched: alone and after the thread's previous
# question with the rankings fused, after the previous question only, or alone only
FollowUp = Literal["fused", "joined", "alone"]
FOLLOWUPS: tuple[FollowUp, ...] = ("fused", "joined", "alone")
# web search: never, only when the knowledge base has nothing relevant, or always beside it
WebUse = Literal["off", "fallback", "blend"]
WEB_USES: tuple[WebUse, ...] = ("off", "fallback", "blend")


@dataclass(frozen=True)
class Turn:
    """One earlier message in the thread the question was asked in."""

    role: Role
    text: str


@dataclass(frozen=True)
class Question:
    """What a contestant answers: the text, the thread so far, and the passages its
    pipeline retrieved (the same for every contestant whose retrieval settings are the
    same: a battle between two models on one pipeline compares the models alone)."""

    text: str
    hits: list[Hit] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)
    # why the passages are fewer than the pipeline reads (a web search that failed)
    source_note: str | None = None


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
    # why the answer had fewer sources than its pipeline reads (a web search that
    # failed or timed out), shown under its sources
    source_note: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class ModelSpec(BaseModel):
    """One ``[[models]]`` table of ``parley.toml``: a contestant on the roster, which is
    a whole pipeline: the model, and how it retrieves (``k`` passages read, ``mode``,
    ``followup``), whether it searches the web, and its prompt template (a built-in
    name or a file). Two entries may share a model and differ only in pipeline."""

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
    k: int | None = Field(default=None, gt=0, le=50)  # None: the top-level top_k
    mode: Mode = "hybrid"
    followup: FollowUp = "fused"
    web: WebUse = "off"
    prompt: str = "default"

    @field_validator("prompt")
    @classmethod
    def _known_prompt(cls, value: str) -> str:
        return check_prompt(value)
