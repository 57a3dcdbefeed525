"""A model provider that replies from a list, registered exactly as real ones are."""

from __future__ import annotations

import asyncio
import json

from arena.models.base import Completion, OnDelta, Prompt
from arena.pipelines import pipeline_of
from arena.roster import Contestant, Roster, build_roster
from arena.types import ModelSpec
from knowledge.types import Hit, Passage
from tests.fakes.http_server import Scripted

__all__ = [
    "HITS",
    "FakeProvider",
    "anthropic_reply",
    "anthropic_stream",
    "fake",
    "hosted",
    "openai_reply",
    "openai_stream",
    "pipeline",
    "pipelines",
    "roster",
    "sse",
    "streaming",
]


# what a fake search returns: one handbook passage, as the fake models' "[1]" cites
HITS = [Hit(Passage("p1", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.9)]


class FakeProvider:
    """Replies from a list (an Exception in the list is raised) and keeps every prompt.

    ``delay`` seconds pass before each reply, to test timeouts and concurrency.
    """

    def __init__(self, spec: ModelSpec, replies: list[str | Exception], delay: float = 0.0) -> None:
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


class StreamingFake(FakeProvider):
    """A FakeProvider that also streams: its reply word by word, ``pause`` s apart."""

    def __init__(self, spec: ModelSpec, replies: list[str | Exception], pause: float) -> None:
        super().__init__(spec, replies)
        self.pause = pause

    async def stream(self, prompt: Prompt, on_delta: OnDelta) -> Completion:
        completion = await self.complete(prompt)
        for word in completion.text.split(" "):
            await asyncio.sleep(self.pause)
            await on_delta(word + " ")
        return completion


def streaming(name: str, *replies: str | Exception, pause: float = 0.0) -> StreamingFake:
    return StreamingFake(ModelSpec(name=name, provider="fake"), list(replies), pause)


def fake(name: str, *replies: str | Exception, delay: float = 0.0) -> FakeProvider:
    return FakeProvider(ModelSpec(name=name, provider="fake"), list(replies), delay)


def hosted(name: str, url: str) -> Roster:
    """A roster of one real OpenAI provider whose server is the FakeServer at ``url``."""
    spec = ModelSpec(name=name, provider="openai", model="gpt-test", base_url=url + "/v1")
    return build_roster([spec])


def roster(*providers: FakeProvider) -> Roster:
    return Roster(entries=[Contestant(p.spec, p) for p in providers])


def pipeline(name: str, *replies: str | Exception, model: str = "", **settings) -> FakeProvider:
    """A fake model on a pipeline of its own: ``k``, ``mode``, ``followup``, ``web``,
    ``prompt`` as a ``[[models]]`` entry sets them."""
    return FakeProvider(
        ModelSpec(name=name, provider="fake", model=model, **settings), list(replies)
    )


def pipelines(*providers: FakeProvider, top_k: int = 5, web_backend: str | None = None) -> Roster:
    """A roster of pipelines, built as ``build_roster`` builds one."""
    entries = [
        Contestant(p.spec, p, pipeline_of(p.spec, top_k=top_k, web_backend=web_backend))
        for p in providers
    ]
    return Roster(entries=entries, top_k=top_k, web_backend=web_backend)


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


# --- wire shapes of the hosted APIs' streamed replies (Server-Sent Events) ------------


def sse(events: list[tuple[str | None, dict | str]], pace: float = 0.0) -> Scripted:
    """A ``text/event-stream`` reply: each (event name or None, data) becomes one event,
    sent ``pace`` seconds apart."""
    lines = []
    for name, data in events:
        if name:
            lines.append(f"event: {name}")
        lines.append(f"data: {data if isinstance(data, str) else json.dumps(data)}\n")
    return Scripted(body="\n".join(lines) + "\n", content_type="text/event-stream", pace=pace)


def openai_stream(
    pieces: list[str],
    prompt_tokens: int = 120,
    completion_tokens: int = 30,
    error: bool = False,
    pace: float = 0.0,
) -> Scripted:
    """Chat Completions chunks, one per piece, then the usage chunk and ``[DONE]``; with
    ``error`` an error event replaces the usage (a failure after some text)."""

    def chunk(delta: dict, usage: dict | None = None, finish: str | None = None) -> dict:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta else []
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": "gpt-test",
            "choices": choices,
            "usage": usage,
        }

    events: list[tuple[str | None, dict | str]] = [(None, chunk({"role": "assistant"}))]
    events += [(None, chunk({"content": piece})) for piece in pieces]
    if error:
        events.append((None, {"error": {"message": "overloaded", "type": "server_error"}}))
        return sse(events, pace)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    events += [(None, chunk({}, usage)), (None, "[DONE]")]
    return sse(events, pace)


def anthropic_stream(
    pieces: list[str], input_tokens: int = 150, output_tokens: int = 40, error: bool = False
) -> Scripted:
    """Messages API events: start, one text delta per piece, stop with the usage; with
    ``error`` an ``overloaded_error`` event follows the text instead."""
    start = {**anthropic_reply("", input_tokens, 1), "content": [], "stop_reason": None}
    events: list[tuple[str | None, dict | str]] = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    events += [
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
        )
        for p in pieces
    ]
    if error:
        failure = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        return sse([*events, ("error", failure)])
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return sse(events)
