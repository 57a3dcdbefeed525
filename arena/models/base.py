"""What every contestant implements, and what it is handed.

A provider turns a composed Prompt into a Completion. Citations, cost and error
handling live above it (``arena.answers``), so a new provider is a small class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

from arena.types import ModelSpec, Question
from knowledge.types import Hit

__all__ = [
    "Completion",
    "OnDelta",
    "Prompt",
    "Provider",
    "StreamingProvider",
    "StructuredProvider",
]

OnDelta = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Prompt:
    """A grounded prompt: chat messages for hosted models, the parts for offline ones.

    ``passages[n - 1]`` is the passage cited as ``[n]``. ``today`` is the date the
    question is answered on, so "this week" means the same to every contestant.
    """

    system: str
    messages: list[dict[str, str]]
    passages: list[Hit]
    question: Question
    today: date = field(default_factory=date.today)


@dataclass(frozen=True)
class Completion:
    """A provider's raw answer with the usage its API reported."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0


class Provider(Protocol):
    """One model behind one API; raises ``ProviderError`` subclasses on failure."""

    spec: ModelSpec

    async def complete(self, prompt: Prompt) -> Completion: ...


class StructuredProvider(Provider, Protocol):
    """A provider that can be made to reply in a JSON schema (the judge needs one).

    ``Completion.text`` is then the JSON the model produced, not yet validated.
    """

    async def complete_json(self, prompt: Prompt, schema: dict, name: str) -> Completion: ...


@runtime_checkable
class StreamingProvider(Provider, Protocol):
    """A provider that can hand its answer over as it is generated (hosted models).

    ``stream`` awaits ``on_delta`` with each new piece of text and returns the same
    Completion ``complete`` would, usage included; errors are the same too.
    """

    async def stream(self, prompt: Prompt, on_delta: OnDelta) -> Completion: ...
