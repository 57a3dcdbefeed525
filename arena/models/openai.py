"""OpenAI Chat Completions, and any server that speaks it (Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

from arena.types import ModelSpec

from .base import Completion, Prompt
from .hosted import HostedProvider, malformed_reply, map_sdk_error, temperature_field

__all__ = ["OpenAIProvider"]


class OpenAIProvider(HostedProvider):
    default_key_env = "OPENAI_API_KEY"

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__(spec)
        import openai

        self._sdk = openai
        self._client = openai.AsyncOpenAI(
            api_key=self.api_key,
            base_url=spec.base_url,
            timeout=spec.timeout,
            max_retries=spec.max_retries,
        )

    async def complete(self, prompt: Prompt) -> Completion:
        messages = [{"role": "system", "content": prompt.system}, *prompt.messages]
        async with self._limit:
            try:
                response = await self._client.chat.completions.create(
                    model=self.spec.model,
                    messages=messages,
                    max_tokens=self.spec.max_tokens,
                    extra_body=temperature_field(self.spec),
                )
            except self._sdk.APIError as exc:  # the SDK's errors become ours; our bugs stay bugs
                raise map_sdk_error(self.spec.name, exc, self._sdk) from exc
            with malformed_reply(self.spec.name):
                text = response.choices[0].message.content or ""
                usage = response.usage
        return Completion(
            text,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
        )
