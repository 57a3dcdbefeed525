"""Model providers, registered by id: ``provider = "..."`` in a roster entry picks one.

Hosted providers are imported only when a roster names them, so commands that need
no model start without the SDKs.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from arena.types import ModelSpec

from .base import Completion, Prompt, Provider, StructuredProvider

__all__ = [
    "LOCAL_PROVIDERS",
    "PROVIDERS",
    "STRUCTURED_PROVIDERS",
    "Completion",
    "Prompt",
    "Provider",
    "StructuredProvider",
    "provider_factory",
]

# provider id -> "module:class" inside this package
PROVIDERS: dict[str, str] = {
    "openai": "openai:OpenAIProvider",
    "anthropic": "anthropic:AnthropicProvider",
    "offline-sentences": "offline:SentenceAnswerer",
    "offline-passages": "offline:PassageAnswerer",
}
# providers whose answers are CPU work on this machine: they take ``processes`` (worker
# processes to compose in) when the running bot has a pool for them
LOCAL_PROVIDERS = frozenset({"offline-sentences", "offline-passages"})
# providers that reply in a JSON schema (``StructuredProvider``): only these can judge.
# Known without importing a hosted SDK, so settings can be checked before any is loaded
STRUCTURED_PROVIDERS = frozenset({"openai", "anthropic"})


def provider_factory(provider: str) -> Callable[[ModelSpec], Provider] | None:
    """The class registered for ``provider``, or None when no such provider exists."""
    target = PROVIDERS.get(provider)
    if target is None:
        return None
    module, name = target.split(":")
    return getattr(import_module(f"{__name__}.{module}"), name)
