"""OpenAI Chat Completions, and any server that speaks it (Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

import logging
from typing import Any

from arena.errors import ProviderRefused, ProviderUnavailable
from arena.types import ModelSpec

from .base import Completion, OnDelta, Prompt
from .hosted import HostedProvider, malformed_reply, map_sdk_error, temperature_field

__all__ = ["OpenAIProvider"]

log = logging.getLogger(__name__)


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
        # Some OpenAI-compatible servers (llama.cpp's Python server) refuse ``json_schema``
        # and take only ``json_object`` with a ``schema``; once one does, this model keeps
        # asking the way that worked.
        self.json_mode = "json_schema"

    async def complete(self, prompt: Prompt) -> Completion:
        return await self._chat(prompt, extra_body=temperature_field(self.spec))

    async def stream(self, prompt: Prompt, on_delta: OnDelta) -> Completion:
        """The answer as Server-Sent Events; the last chunk carries the usage."""
        messages = [{"role": "system", "content": prompt.system}, *prompt.messages]
        parts: list[str] = []
        usage = None
        chunks_seen = 0
        async with self._limit:
            try:
                chunks = await self._client.chat.completions.create(
                    model=self.spec.model,
                    messages=messages,
                    max_tokens=self.spec.max_tokens,
                    stream=True,
                    stream_options={"include_usage": True},
                    extra_body=temperature_field(self.spec),
                )
                async for chunk in chunks:
                    chunks_seen += 1
                    with malformed_reply(self.spec.name):
                        delta = chunk.choices[0].delta.content if chunk.choices else None
                        usage = chunk.usage or usage
                    if delta:
                        parts.append(delta)
                        await on_delta(delta)
            except self._sdk.APIError as exc:  # an error event mid-stream arrives as one too
                raise map_sdk_error(self.spec.name, exc, self._sdk) from exc
        if not chunks_seen:  # e.g. a server that ignored stream=True and sent JSON whole
            raise ProviderUnavailable(self.spec.name, "malformed response: no stream events")
        return Completion(
            "".join(parts),
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
        )

    async def complete_json(self, prompt: Prompt, schema: dict, name: str) -> Completion:
        """A reply constrained to ``schema``, at temperature 0."""
        try:
            return await self._chat_json(prompt, schema, name, self.json_mode)
        except ProviderRefused:
            if self.json_mode != "json_schema":
                raise
            completion = await self._chat_json(prompt, schema, name, "json_object")
            log.info("model %s takes json_object, not json_schema; using it", self.spec.name)
            self.json_mode = "json_object"
            return completion

    async def _chat_json(self, prompt: Prompt, schema: dict, name: str, mode: str) -> Completion:
        if mode == "json_schema":
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": schema},
            }
        else:
            response_format = {"type": "json_object", "schema": schema}
        return await self._chat(
            prompt, response_format=response_format, extra_body={"temperature": 0}
        )

    async def _chat(self, prompt: Prompt, **options: Any) -> Completion:
        messages = [{"role": "system", "content": prompt.system}, *prompt.messages]
        async with self._limit:
            try:
                response = await self._client.chat.completions.create(
                    model=self.spec.model,
                    messages=messages,
                    max_tokens=self.spec.max_tokens,
                    **options,
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
