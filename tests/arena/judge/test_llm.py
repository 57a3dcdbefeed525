"""The LLM judge at the wire: structured-output requests and what becomes of each reply."""

from __future__ import annotations

import json

import pytest

from arena.judge.grades import GRADE_SCHEMA, Case
from arena.judge.llm import LLMJudge
from arena.judge.pairwise import judge_pair
from arena.roster import build_roster
from arena.types import ModelSpec
from tests.fakes.http_server import Scripted
from tests.fakes.providers import anthropic_reply, openai_reply

CASE = Case(
    "How long do refunds take?",
    ["Refunds are paid within 14 days.", "Meals are capped at 60 EUR."],
    "Refunds take 30 days.",
)


def grade_json(faithfulness: str = "Worse", **levels: str) -> dict:
    reply = {
        c: {"reason": f"{c} reason", "level": levels.get(c, "Excellent")}
        for c in GRADE_SCHEMA["required"]
    }
    reply["faithfulness"] = {"reason": "30 days is not in the passages", "level": faithfulness}
    return reply


def make_judge(closing, fake_api, monkeypatch, provider: str, **spec) -> LLMJudge:
    monkeypatch.setenv("TEST_KEY", "sk-test")
    model = ModelSpec(
        name=f"{provider}-judge",
        provider=provider,
        model=f"{provider}-id",
        base_url=fake_api.url + ("/v1" if provider == "openai" else ""),
        api_key_env="TEST_KEY",
        price_in=1.0,
        price_out=2.0,
        max_retries=0,
        **spec,
    )
    return LLMJudge(
        closing(build_roster([model])).get(model.name), timeout=spec.get("timeout", 10.0)
    )


@pytest.fixture
def openai_judge(closing, fake_api, monkeypatch) -> LLMJudge:
    return make_judge(closing, fake_api, monkeypatch, "openai")


async def test_valid_grade_uses_a_strict_schema_at_temperature_zero(openai_judge, fake_api):
    fake_api.reply(Scripted(body=openai_reply(json.dumps(grade_json()), 1000, 500)))
    grade = await openai_judge.grade(CASE)
    (seen,) = fake_api.requests
    assert seen.path == "/v1/chat/completions" and seen.body["temperature"] == 0
    assert seen.body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "grade", "strict": True, "schema": GRADE_SCHEMA},
    }
    assert "Refunds are paid within 14 days." in seen.body["messages"][1]["content"]
    assert not grade.unmeasured
    assert grade.criteria["faithfulness"].level == "Worse"
    assert grade.legacy_score == pytest.approx(84) and grade.score == 20
    assert grade.cost_usd == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    assert json.loads(grade.raw) == grade_json() and grade.latency_ms > 0


async def test_invalid_reply_is_sent_back_once_with_the_error(openai_judge, fake_api):
    bad = grade_json()
    bad["clarity"]["level"] = "Superb"
    fake_api.reply(
        Scripted(body=openai_reply(json.dumps(bad))),
        Scripted(body=openai_reply(json.dumps(grade_json("Good")))),
    )
    grade = await openai_judge.grade(CASE)
    assert not grade.unmeasured and grade.criteria["faithfulness"].level == "Good"
    _, second = fake_api.requests
    retry = second.body["messages"]
    assert retry[2] == {"role": "assistant", "content": json.dumps(bad)}
    assert "clarity.level" in retry[3]["content"]
    assert grade.cost_usd == pytest.approx(2 * (120 * 1.0 + 30 * 2.0) / 1e6)  # both calls


async def test_invalid_twice_is_unmeasured_never_a_score(openai_judge, fake_api):
    fake_api.reply(
        Scripted(body=openai_reply("Relevance: 4/5. Faithfulness: good.")),
        Scripted(body=openai_reply('{"relevance": "Excellent"}')),
    )
    grade = await openai_judge.grade(CASE)
    assert grade.unmeasured and grade.score is None and grade.legacy_score is None
    assert "invalid reply twice" in grade.error and grade.raw == '{"relevance": "Excellent"}'
    assert len(fake_api.requests) == 2


async def test_timeout_is_unmeasured(fake_api, monkeypatch, closing):
    judge = make_judge(closing, fake_api, monkeypatch, "openai", timeout=0.3)
    fake_api.reply(Scripted(body=openai_reply(json.dumps(grade_json())), delay=1.5))
    grade = await judge.grade(CASE)
    assert grade.unmeasured and grade.score is None
    assert "timed out" in grade.error or "no reply" in grade.error
    assert grade.latency_ms < 1200


async def test_json_object_fallback_is_remembered(openai_judge, fake_api):
    refusal = {"error": {"message": "response_format json_schema is not supported"}}
    fake_api.reply(
        Scripted(status=400, body=refusal),
        Scripted(body=openai_reply(json.dumps(grade_json()))),
        Scripted(body=openai_reply(json.dumps(grade_json("Good")))),
    )
    first = await openai_judge.grade(CASE)
    second = await openai_judge.grade(CASE)
    assert first.score == 20 and second.score == 80
    formats = [r.body["response_format"] for r in fake_api.requests]
    assert formats[0]["type"] == "json_schema"
    assert formats[1] == {"type": "json_object", "schema": GRADE_SCHEMA}
    assert formats[2]["type"] == "json_object"  # the model is not asked the failing way again


async def test_anthropic_forced_tool(fake_api, monkeypatch, closing):
    judge = make_judge(closing, fake_api, monkeypatch, "anthropic")
    body = anthropic_reply("")
    body["content"] = [
        {"type": "tool_use", "id": "toolu_1", "name": "grade", "input": grade_json()}
    ]
    body["stop_reason"] = "tool_use"
    fake_api.reply(Scripted(body=body))
    grade = await judge.grade(CASE)
    (seen,) = fake_api.requests
    assert seen.path == "/v1/messages" and seen.body["temperature"] == 0
    assert seen.body["tools"][0]["name"] == "grade"
    assert seen.body["tools"][0]["input_schema"] == GRADE_SCHEMA
    assert seen.body["tool_choice"] == {"type": "tool", "name": "grade"}
    assert grade.score == 20 and grade.criteria["relevance"].level == "Excellent"


async def test_pairwise_both_orders_over_the_wire(fake_api, monkeypatch, closing):
    # one at a time, so the scripted replies meet the orders in sequence: (A, B) then (B, A)
    openai_judge = make_judge(closing, fake_api, monkeypatch, "openai", concurrency=1)

    def verdict(winner: str) -> Scripted:
        return Scripted(body=openai_reply(json.dumps({"reason": "r", "winner": winner})))

    fake_api.reply(verdict("A"), verdict("A"))  # position bias: A wins in both orders
    biased = await judge_pair(openai_judge, CASE, Case(CASE.question, CASE.passages, "14 days."))
    assert biased.winner == "tie"
    fake_api.reply(verdict("B"), verdict("A"))  # the second answer wins in both orders
    fair = await judge_pair(openai_judge, CASE, Case(CASE.question, CASE.passages, "14 days."))
    assert fair.winner == "model_b"
    assert fake_api.requests[0].body["response_format"]["json_schema"]["name"] == "verdict"
