"""Anthropic's Messages API (the system prompt is a top-level field there)."""

from __future__ import annotations

import json
from typing import Any

from arena.errors import ProviderUnavailable
from arena.types import ModelSpec

from .base import Completion, OnDelta, Prompt
from .hosted import HostedProvider, malformed_reply, map_sdk_error, temperature_field

__all__ = ["AnthropicProvider"]


class AnthropicProvider(HostedProvider):
    default_key_env = "ANTHROPIC_API_KEY"

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        import anthropic

        self._sdk = anthropic
        self._client = anthropic.AsyncAnthropic(
            api_key=self.api_key,
            base_url=spec.base_url,
            timeout=spec.timeout,
            max_retries=spec.max_retries,
        )

    async def complete(self, prompt: Prompt) -> Completion:
        # newer SDKs dropped the argument; the API still takes it when set
        return await self._messages(prompt, extra_body=temperature_field(self.spec))

    async def stream(self, prompt: Prompt, on_delta: OnDelta) -> Completion:
        """The answer as Server-Sent Events: text deltas, then the usage in the final message."""
        parts: list[str] = []
        async with self._limit:
            try:
                async with self._client.messages.stream(
                    model=self.spec.model,
                    system=prompt.system,
                    messages=prompt.messages,
                    max_tokens=self.spec.max_tokens,
                    extra_body=temperature_field(self.spec),
                ) as events:
                    async for delta in events.text_stream:
                        parts.append(delta)
                        await on_delta(delta)
                    try:
                        final = await events.get_final_message()
                    except AssertionError as exc:  # the SDK found no message_start event
                        raise ProviderUnavailable(
                            self.spec.name, "malformed response: no stream events"
                        ) from exc
            except self._sdk.APIError as exc:  # an error event mid-stream arrives as one too
                raise map_sdk_error(self.spec.name, exc, self._sdk) from exc
            with malformed_reply(self.spec.name):
                usage = final.usage
                tokens = (usage.input_tokens, usage.output_tokens)
        return Completion("".join(parts), input_tokens=tokens[0], output_tokens=tokens[1])

    async def complete_json(self, prompt: Prompt, schema: dict, name: str) -> Completion:
        """A forced tool call whose input schema is ``schema``; its input is the reply."""
        tool = {"name": name, "description": f"Record the {name}.", "input_schema": schema}
        return await self._messages(
            prompt,
            tools=[tool],
            tool_choice={"type": "tool", "name": name},
            extra_body={"temperature": 0},
        )

    async def _messages(self, prompt: Prompt, **options: Any) -> Completion:
        async with self._limit:
            try:
                response = await self._client.messages.create(
                    model=self.spec.model,
                    system=prompt.system,
                    messages=prompt.messages,
                    max_tokens=self.spec.max_tokens,
                    **options,
                )
            except self._sdk.APIError as exc:  # the SDK's errors become ours; our bugs stay bugs
                raise map_sdk_error(self.spec.name, exc, self._sdk) from exc
            with malformed_reply(self.spec.name):
                tool_inputs = [b.input for b in response.content if b.type == "tool_use"]
                text = (
                    json.dumps(tool_inputs[0])
                    if tool_inputs
                    else "".join(b.text for b in response.content if b.type == "text")
                )
                usage = response.usage
        return Completion(text, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
