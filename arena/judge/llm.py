"""A roster model as judge, through structured output only.

OpenAI-style servers get ``response_format`` with a strict JSON schema (or, where a
server refuses that, ``json_object`` with the schema; the provider remembers which
worked); Anthropic gets a forced tool whose input schema is the grade. Temperature is
0 and every reason comes before its level. A reply that does not validate is sent back
once with the validation error; a second bad reply, a timeout or a provider failure
makes the grade unmeasured. The raw reply, latency and cost are kept with every grade.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from arena.answers import cost_usd
from arena.errors import ConfigError, ProviderError
from arena.models import Prompt
from arena.roster import Contestant
from arena.types import Question

from .grades import GRADE_SCHEMA, Case, Grade, GradeReply
from .pairwise import PAIR_SCHEMA, PairReply, Preference

__all__ = ["DEFAULT_GRADE_TIMEOUT", "GRADE_SYSTEM", "PAIR_SYSTEM", "LLMJudge"]

DEFAULT_GRADE_TIMEOUT = 60.0  # seconds for one grade, both attempts included

GRADE_SYSTEM = """You grade the answers of a team's question-answering assistant.
You get a question, the numbered passages the assistant was shown, and its answer.
Grade each criterion Excellent, Good, Fair, Bad or Worse; write a one-line reason first,
then the level that follows from it.
- context_relevance: are the passages about the question? (this grades the retrieval)
- relevance: does the answer address the question that was asked?
- faithfulness: is every number, name and claim in the answer stated in the passages?
  Judge against the passages only, not your own knowledge. One number, name or claim the
  passages do not contain, or one that negates what they say, makes it Bad or Worse,
  however fluent and on topic the answer is.
- completeness: does it give everything the question asks for that the passages hold?
- clarity: is it easy to read?
- conciseness: is it free of padding and repetition?
A refusal ("I could not find this") is faithful; it is relevant and complete only when
the passages really do not answer the question.
Reply with JSON only, in the schema given."""

PAIR_SYSTEM = """You compare two answers of a team's question-answering assistant.
You get a question, the numbered passages both answers were shown, and answers A and B.
Prefer the answer that is faithful to the passages (no number, name or claim they do
not support), then the one that answers the question more completely and clearly.
Length alone is no merit, and the order the answers are shown in means nothing.
Write a short reason first, then the winner: A, B or tie.
Reply with JSON only, in the schema given."""


def _passages_text(passages: list[str]) -> str:
    return "\n\n".join(f"[{n}] {text}" for n, text in enumerate(passages, 1)) or "(none)"


def _grade_request(case: Case) -> str:
    return (
        f"Question:\n{case.question}\n\nPassages:\n{_passages_text(case.passages)}"
        f"\n\nAnswer:\n{case.answer}"
    )


def _pair_request(first: Case, second: Case) -> str:
    return (
        f"Question:\n{first.question}\n\nPassages:\n{_passages_text(first.passages)}"
        f"\n\nAnswer A:\n{first.answer}\n\nAnswer B:\n{second.answer}"
    )


def _first_errors(exc: ValidationError, limit: int = 3) -> str:
    """The validation errors in a line or two, as the judge model is told them."""
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in exc.errors()[:limit]
    ]
    return "; ".join(parts)


class LLMJudge:
    """Grades with one roster model. Grades run under the model's concurrency limit, and
    each grade's timeout starts when it gets a slot, so a queue never times out."""

    def __init__(self, contestant: Contestant, timeout: float = DEFAULT_GRADE_TIMEOUT) -> None:
        if not hasattr(contestant.provider, "complete_json"):
            raise ConfigError(
                f"model {contestant.name!r} cannot judge: provider {contestant.spec.provider!r}"
                " has no structured output (use an OpenAI, OpenAI-compatible or Anthropic model)"
            )
        self.name = contestant.name
        self._contestant = contestant
        self._timeout = timeout
        self._limit = asyncio.Semaphore(contestant.spec.concurrency)

    async def grade(self, case: Case) -> Grade:
        reply, accounting = await self._ask(
            GRADE_SYSTEM, _grade_request(case), GRADE_SCHEMA, "grade", GradeReply
        )
        if isinstance(reply, GradeReply):
            return Grade.from_reply(self.name, reply, **accounting)
        return Grade.failed(self.name, reply, **accounting)

    async def grade_many(self, cases: list[Case]) -> list[Grade]:
        """Grades in input order, run concurrently under the limit."""
        return list(await asyncio.gather(*(self.grade(case) for case in cases)))

    async def prefer(self, first: Case, second: Case) -> Preference | None:
        request = _pair_request(first, second)
        reply, _ = await self._ask(PAIR_SYSTEM, request, PAIR_SCHEMA, "verdict", PairReply)
        if not isinstance(reply, PairReply):
            return None
        return {"A": "first", "B": "second", "tie": "tie"}[reply.winner]

    async def _ask(
        self, system: str, request: str, schema: dict, name: str, shape: type[BaseModel]
    ) -> tuple[BaseModel | str, dict[str, Any]]:
        """The validated reply, or why there is none; with raw text, latency and cost."""
        provider = self._contestant.provider
        messages = [{"role": "user", "content": request}]
        accounting: dict[str, Any] = {"raw": "", "cost_usd": 0.0, "latency_ms": 0.0}
        async with self._limit:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self._timeout):
                    for attempt in range(2):
                        prompt = Prompt(system, messages, [], Question(request))
                        completion = await provider.complete_json(prompt, schema, name)
                        accounting["raw"] = completion.text
                        accounting["cost_usd"] += cost_usd(
                            self._contestant, completion.input_tokens, completion.output_tokens
                        )
                        try:
                            reply: BaseModel | str = shape.model_validate_json(completion.text)
                            break
                        except ValidationError as exc:
                            reply = f"invalid reply twice; last: {_first_errors(exc)}"
                            if attempt == 0:
                                messages = [
                                    *messages,
                                    {"role": "assistant", "content": completion.text},
                                    {
                                        "role": "user",
                                        "content": "That reply does not fit the schema "
                                        f"({_first_errors(exc)}). Reply again, JSON only.",
                                    },
                                ]
            except TimeoutError:
                reply = f"no reply within {self._timeout:g} s"
            except ProviderError as exc:
                reply = str(exc)
            accounting["latency_ms"] = (time.perf_counter() - started) * 1000
        return reply, accounting
