"""What the OpenAI and Anthropic providers share: keys, limits and error mapping.

Retries are the SDKs' own (exponential backoff with jitter on 408/409/429/5xx and
connection errors, honouring ``Retry-After``; never on other 4xx), bounded by the
spec's ``max_retries``. SDK errors become ours here, at the boundary.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from arena.errors import (
    MissingKey,
    ProviderError,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
    ProviderUnreachable,
    RateLimited,
)
from arena.types import ModelSpec

__all__ = ["LOCAL_KEY", "HostedProvider", "malformed_reply", "map_sdk_error", "temperature_field"]

LOCAL_KEY = "not-needed"  # OpenAI-compatible local servers (Ollama, vLLM) take any key


class HostedProvider:
    """A model behind an HTTP API: a key, a concurrency limit, an SDK client."""

    default_key_env: str

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.api_key = self._key()
        self._limit = asyncio.Semaphore(spec.concurrency)

    def _key(self) -> str:
        """The key from ``api_key_env``; a local ``base_url`` with no key env needs none."""
        env = self.spec.api_key_env or (None if self.spec.base_url else self.default_key_env)
        if env is None:
            return LOCAL_KEY
        key = os.environ.get(env)
        if not key:
            raise MissingKey(self.spec.name, f"set the {env} environment variable")
        return key

    async def aclose(self) -> None:
        """Close the SDK client's connections while the event loop still runs: left to the
        garbage collector, the client schedules its close on whatever loop is running
        then (or none) and logs a traceback."""
        await self._client.close()  # type: ignore[attr-defined]  # set by each subclass


def map_sdk_error(model: str, exc: Exception, sdk: ModuleType) -> ProviderError:
    """One of our ProviderErrors for an ``openai`` or ``anthropic`` SDK exception."""
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderTimeout(model)
    if type(exc) is sdk.APIError or (
        isinstance(exc, sdk.APIStatusError) and exc.status_code < 400
    ):  # an error event inside a stream that had begun with 200 OK
        return ProviderUnavailable(model, "failed mid-stream")
    if isinstance(exc, sdk.APIStatusError):
        code = exc.status_code
        if code == 429:
            return RateLimited(model, "HTTP 429")
        if code >= 500:
            return ProviderUnavailable(model, f"HTTP {code}")
        return ProviderRefused(model, f"HTTP {code}")
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderUnreachable(model, _connection_failure(exc))
    return ProviderUnavailable(model, f"malformed response: {type(exc).__name__}")  # validation


def _connection_failure(exc: BaseException) -> str:
    """What the operating system said ("connection refused", "name or service not
    known"), from the errors the SDK's error was raised from."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            # asyncio words a refusal "Connect call failed (address)": the errno says more
            said = seen.strerror if seen.errno < 0 else os.strerror(seen.errno)  # < 0: DNS
            if said:
                return said[:1].lower() + said[1:]
        seen = seen.__cause__ or seen.__context__
    return "connection failed"


@contextmanager
def malformed_reply(model: str) -> Iterator[None]:
    """Reading a reply's fields: a body of the wrong shape is the server's fault.

    Only the attribute walk over the SDK's response object is guarded, so a bug in
    Parley's own code is never reported as "malformed response".
    """
    try:
        yield
    except (AttributeError, IndexError, KeyError, TypeError) as exc:
        raise ProviderUnavailable(model, f"malformed response: {type(exc).__name__}") from exc


def temperature_field(spec: ModelSpec) -> dict[str, float]:
    """``temperature`` only when the roster sets it, so each model keeps its own default."""
    return {} if spec.temperature is None else {"temperature": spec.temperature}
