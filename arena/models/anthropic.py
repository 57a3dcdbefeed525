"""Anthropic's Messages API (the system prompt is a top-level field there)."""

from __future__ import annotations

from arena.types import ModelSpec

from .base import Completion, Prompt
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
        async with self._limit:
            try:
                response = await self._client.messages.create(
                    model=self.spec.model,
                    system=prompt.system,
                    messages=prompt.messages,
                    max_tokens=self.spec.max_tokens,
                    # newer SDKs dropped the argument; the API still takes it when set
                    extra_body=temperature_field(self.spec),
                )
            except self._sdk.APIError as exc:  # the SDK's errors become ours; our bugs stay bugs
                raise map_sdk_error(self.spec.name, exc, self._sdk) from exc
            with malformed_reply(self.spec.name):
                text = "".join(b.text for b in response.content if b.type == "text")
                usage = response.usage
        return Completion(text, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)
