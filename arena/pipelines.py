"""A contestant's pipeline: how it retrieves, whether it searches the web, its prompt.

The settings that shape an answer are recorded with every answer (``settings``, hashed
by ``settings_hash``), so the arena rates a pipeline, not a name: when an entry's
settings change, its answers go to a new contestant (see ``arena.pipeline_records``).
Left out on purpose: what changes how, not what, a model answers (timeouts, retries,
concurrency, prices, the key's variable, the server's address).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from arena.errors import ConfigError
from arena.prompts import BUILTIN_PROMPTS, PromptTemplate, load_prompt
from arena.types import FollowUp, ModelSpec, WebUse
from knowledge.types import Mode

__all__ = [
    "DEFAULT_TOP_K",
    "Pipeline",
    "Retrieval",
    "pipeline_of",
    "settings_hash",
]

DEFAULT_TOP_K = 5  # passages read, for an entry that does not set its own ``k``


@dataclass(frozen=True)
class Retrieval:
    """What one search of the knowledge base needs: contestants whose retrieval is the
    same share one search and its passages."""

    k: int
    mode: Mode
    followup: FollowUp


@dataclass(frozen=True)
class Pipeline:
    """An entry's effective settings, defaults filled in."""

    retrieval: Retrieval
    web: WebUse
    web_backend: str | None  # the search engine when ``web`` is on
    prompt: PromptTemplate

    def settings(self, spec: ModelSpec) -> dict[str, object]:
        """What is recorded with every answer of ``spec`` on this pipeline."""
        settings: dict[str, object] = {
            "provider": spec.provider,
            "model": spec.model,
            "temperature": spec.temperature,
            "max_tokens": spec.max_tokens,
            "k": self.retrieval.k,
            "mode": self.retrieval.mode,
            "followup": self.retrieval.followup,
            "web": self.web,
            "prompt": self.prompt.name,
        }
        if self.web != "off":
            settings["web_backend"] = self.web_backend
        if self.prompt.name not in BUILTIN_PROMPTS:  # a file: its text, as it was read
            settings["prompt_sha256"] = self.prompt.digest
        return settings


def pipeline_of(
    spec: ModelSpec, *, top_k: int = DEFAULT_TOP_K, web_backend: str | None = None
) -> Pipeline:
    """``spec``'s pipeline, ``top_k`` standing in for an unset ``k``. Raises ConfigError
    for web search without a search engine, or a prompt file that cannot be read."""
    if spec.web != "off" and not web_backend:
        raise ConfigError(
            f"model {spec.name!r}: web = {spec.web!r} needs web search set up"
            " (a [web] table with a provider)"
        )
    try:
        prompt = load_prompt(spec.prompt)
    except ValueError as exc:
        raise ConfigError(f"model {spec.name!r}: prompt: {exc}") from exc
    retrieval = Retrieval(spec.k or top_k, spec.mode, spec.followup)
    return Pipeline(retrieval, spec.web, web_backend if spec.web != "off" else None, prompt)


def settings_hash(settings: Mapping[str, object]) -> str:
    """A stable hash of recorded settings (canonical JSON, keys sorted)."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
