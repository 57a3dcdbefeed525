"""One contestant answers one Question: compose, call, cite, account.

Provider failures never escape as exceptions: the Answer carries a message the user
can read, and the log keeps the detail.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from arena.errors import ProviderError, ProviderTimeout
from arena.types import Answer, Question

from .citations import resolve_citations
from .compose import NOT_FOUND, compose
from .models.base import Completion, Prompt, StreamingProvider
from .roster import Contestant

__all__ = ["OnText", "answer_question", "cost_usd", "deadline"]

OnText = Callable[[str], Awaitable[None]]

log = logging.getLogger(__name__)


def deadline(contestant: Contestant) -> float:
    """The longest one answer may take: every try's timeout, so a provider that hangs
    (a stuck connection, a local server that never replies) cannot hold a user forever."""
    return contestant.spec.timeout * (contestant.spec.max_retries + 1)


def cost_usd(contestant: Contestant, input_tokens: int, output_tokens: int) -> float:
    """Prices are USD per million tokens, as providers publish them."""
    spec = contestant.spec
    return (input_tokens * spec.price_in + output_tokens * spec.price_out) / 1_000_000


async def _complete(contestant: Contestant, prompt: Prompt, on_text: OnText | None) -> Completion:
    """The whole completion; a streaming provider shows ``on_text`` the text so far meanwhile."""
    provider = contestant.provider
    if on_text is None or not isinstance(provider, StreamingProvider):
        return await provider.complete(prompt)
    parts: list[str] = []

    async def grew(delta: str) -> None:
        parts.append(delta)
        await on_text("".join(parts))

    return await provider.stream(prompt, grew)


async def answer_question(
    contestant: Contestant, question: Question, on_text: OnText | None = None
) -> Answer:
    """The contestant's Answer; with ``on_text``, hosted models also show it as it grows.

    The Answer is the same either way: citations are resolved on the whole text.
    """
    assert contestant.pipeline is not None
    prompt = compose(question, instructions=contestant.pipeline.prompt.text)
    shown = [hit.passage for hit in prompt.passages]
    started = time.perf_counter()
    limit = deadline(contestant)
    try:
        completion = await asyncio.wait_for(_complete(contestant, prompt, on_text), timeout=limit)
    except (ProviderError, TimeoutError) as exc:  # TimeoutError: it hung past every try
        failure = (
            exc
            if isinstance(exc, ProviderError)
            else ProviderTimeout(contestant.name, f"no answer within {limit:.0f} s")
        )
        log.warning("model %s failed: %s", contestant.name, failure)
        return Answer(
            model=contestant.name,
            error=failure.user_message,
            latency_ms=(time.perf_counter() - started) * 1000,
            shown=shown,
            source_note=question.source_note,
        )
    latency_ms = (time.perf_counter() - started) * 1000
    text, citations, fallback = resolve_citations(completion.text, prompt.passages)
    if NOT_FOUND.lower() in text.lower():
        citations, fallback = [], False
    return Answer(
        model=contestant.name,
        text=text,
        citations=citations,
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        latency_ms=latency_ms,
        cost_usd=cost_usd(contestant, completion.input_tokens, completion.output_tokens),
        cited_fallback=fallback,
        shown=shown,
        source_note=question.source_note,
    )
