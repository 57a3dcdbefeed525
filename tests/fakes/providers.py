"""A model provider that replies from a list, registered exactly as real ones are."""

from __future__ import annotations

import asyncio

from arena.models.base import Completion, Prompt
from arena.roster import Contestant, Roster
from arena.types import ModelSpec

__all__ = ["FakeProvider", "anthropic_reply", "fake", "openai_reply", "roster"]


class FakeProvider:
    """Replies from a list (an Exception in the list is raised) and keeps every prompt.

    ``delay`` seconds pass before each reply, to test timeouts and concurrency.
    """

    def __init__(
        self, spec: ModelSpec, replies: list[str | Exception], delay: float = 0.0
    ) -> None:
        self.spec = spec
        self.replies = list(replies)
        self.prompts: list[Prompt] = []
        self.delay = delay

    async def complete(self, prompt: Prompt) -> Completion:
        self.prompts.append(prompt)
        if self.delay:
            await asyncio.sleep(self.delay)
        reply = self.replies.pop(0) if self.replies else "Run shipit rollback [1]."
        if isinstance(reply, Exception):
            raise reply
        return Completion(reply, input_tokens=10, output_tokens=5)


def fake(name: str, *replies: str | Exception, delay: float = 0.0) -> FakeProvider:
    return FakeProvider(ModelSpec(name=name, provider="fake"), list(replies), delay)


def roster(*providers: FakeProvider) -> Roster:
    return Roster(entries=[Contestant(p.spec, p) for p in providers])


# --- wire shapes of the hosted APIs' successful replies --------------------------------


def openai_reply(text: str, prompt_tokens: int = 120, completion_tokens: int = 30) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-test",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def anthropic_reply(text: str, input_tokens: int = 150, output_tokens: int = 40) -> dict:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
