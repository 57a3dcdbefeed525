"""Errors raised by the arena package.

    ArenaError
    ├── ProviderError          a model provider failed; ``user_message`` is safe to show
    │   ├── MissingKey         the key's environment variable is not set
    │   ├── ProviderTimeout    no answer within the timeout
    │   ├── RateLimited        429 after the allowed retries
    │   ├── ProviderRefused    4xx that retrying will not change (401, 403, 400, ...)
    │   └── ProviderUnavailable 5xx, malformed bodies, a stream that broke
    │       └── ProviderUnreachable no connection at all (refused, unknown host)
    ├── StoreError             the SQLite store failed (a fault: retrying may help)
    ├── VoteRefused            the user's mistake: a vote on an unknown battle, a bad choice
    ├── ConfigError            the roster or another arena setting is invalid
    └── InputError             a file of cases or verdicts is malformed (lines named)

SDK and aiosqlite errors are turned into these at the boundary with ``from exc``.
"""

from __future__ import annotations

__all__ = [
    "ArenaError",
    "ConfigError",
    "InputError",
    "MissingKey",
    "ProviderError",
    "ProviderRefused",
    "ProviderTimeout",
    "ProviderUnavailable",
    "ProviderUnreachable",
    "RateLimited",
    "StoreError",
    "VoteRefused",
]


class ArenaError(Exception):
    """Base class for every error the arena package raises."""


class ConfigError(ArenaError):
    """The roster or another arena setting is invalid."""


class InputError(ArenaError):
    """A file handed to the arena (judge cases, pairwise verdicts) is malformed."""


class ProviderError(ArenaError):
    """A model provider failed. ``model`` names the roster entry."""

    reason = "failed"

    def __init__(self, model: str, detail: str = "") -> None:
        self.model = model
        self.detail = detail
        super().__init__(f"{model}: {self.reason}" + (f" ({detail})" if detail else ""))

    @property
    def user_message(self) -> str:
        """One line a chat user can read: no stack trace, no secrets."""
        return f"Model {self.model} is unavailable right now ({self.reason})."


class MissingKey(ProviderError):
    reason = "no API key configured"


class ProviderTimeout(ProviderError):
    reason = "timed out"


class RateLimited(ProviderError):
    reason = "rate limited"


class ProviderRefused(ProviderError):
    reason = "request refused"


class ProviderUnavailable(ProviderError):
    reason = "service unavailable"


class ProviderUnreachable(ProviderUnavailable):
    """Nothing answered at the model's address: a server that is not running, a wrong
    ``base_url``; not the service saying it is unavailable."""

    reason = "cannot connect"


class StoreError(ArenaError):
    """The SQLite store failed."""


class VoteRefused(ArenaError):
    """A vote or thumb that cannot count: unknown battle or answer, failed answer, bad
    choice. The user's mistake, not a storage fault, so adapters show it as such."""
