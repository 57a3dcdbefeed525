"""OpenAI and Anthropic at the wire level, against a local server: answers, usage,
retries on 429 and 5xx, no retry on 401, timeouts and malformed bodies."""

from __future__ import annotations

import pytest

from arena.answers import answer_question
from arena.compose import compose
from arena.errors import ProviderUnavailable
from arena.roster import build_roster
from arena.types import ModelSpec, Question, Turn
from knowledge.types import Hit, Passage
from tests.fakes.http_server import Scripted
from tests.fakes.providers import anthropic_reply, anthropic_stream, openai_reply, openai_stream

HITS = [
    Hit(Passage("p1", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.9),
    Hit(
        Passage("p2", "Meals are capped at 60 EUR.", "/hb/expenses.pdf", "Expenses", (), "page 1"),
        0.5,
    ),
]
QUESTION = Question("How do I roll back?", HITS, [Turn("user", "hi"), Turn("assistant", "hello")])


@pytest.fixture(params=["openai", "anthropic"])
async def provider(request, fake_api, monkeypatch, closing):
    """(contestant, reply builder, expected path) for each provider, pointed at the fake."""
    monkeypatch.setenv("TEST_KEY", "sk-test-123")
    spec = ModelSpec(
        name=f"{request.param}-model",
        provider=request.param,
        model=f"{request.param}-id",
        base_url=fake_api.url + ("/v1" if request.param == "openai" else ""),
        api_key_env="TEST_KEY",
        temperature=0.1,
        max_tokens=200,
        price_in=1.0,
        price_out=2.0,
        timeout=2.0,
        max_retries=2,
    )
    contestant = closing(build_roster([spec])).get(spec.name)
    if request.param == "openai":
        return contestant, openai_reply, "/v1/chat/completions"
    return contestant, anthropic_reply, "/v1/messages"


async def test_answer_with_usage_cost_and_citations(provider, fake_api) -> None:
    contestant, reply, path = provider
    fake_api.reply(Scripted(body=reply("Run shipit rollback [1]. See also [7].", 1000, 500)))
    answer = await answer_question(contestant, QUESTION)
    assert answer.ok and answer.text == "Run shipit rollback [1]. See also."
    assert [c.passage.id for c in answer.citations] == ["p1"]
    assert (answer.input_tokens, answer.output_tokens) == (1000, 500)
    assert answer.cost_usd == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)
    (request,) = fake_api.requests
    assert request.path == path
    body = request.body
    assert body["model"] == contestant.spec.model
    assert body["max_tokens"] == 200 and body["temperature"] == 0.1
    if contestant.spec.provider == "openai":
        assert request.headers["authorization"] == "Bearer sk-test-123"
        assert body["messages"][0]["role"] == "system"
        messages = body["messages"][1:]
    else:
        # SDK releases differ in which header carries the key; one of them must
        sent = {request.headers.get("x-api-key"), request.headers.get("authorization")}
        assert sent & {"sk-test-123", "Bearer sk-test-123"}
        assert request.headers["anthropic-version"]
        assert "Cite the passages" in body["system"]
        messages = body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert "[1] (source:" in messages[-1]["content"]
    assert messages[-1]["content"].endswith("Question: How do I roll back?")


async def test_429_with_retry_after_is_retried_after_waiting(provider, fake_api) -> None:
    contestant, reply, _ = provider
    fake_api.reply(
        Scripted(
            429, {"error": {"type": "rate_limit", "message": "slow down"}}, {"retry-after": "1"}
        ),
        Scripted(body=reply("Done [1].")),
    )
    answer = await answer_question(contestant, QUESTION)
    assert answer.ok and answer.text == "Done [1]."
    first, second = fake_api.requests
    assert second.at - first.at >= 0.9


async def test_500_then_success(provider, fake_api) -> None:
    contestant, reply, _ = provider
    fake_api.reply(Scripted(500, {"error": {"message": "boom"}}), Scripted(body=reply("Ok [2].")))
    answer = await answer_question(contestant, QUESTION)
    assert answer.ok and [c.passage.id for c in answer.citations] == ["p2"]
    assert len(fake_api.requests) == 2


async def test_401_is_not_retried_and_reads_plainly(provider, fake_api) -> None:
    contestant, _, _ = provider
    fake_api.reply(Scripted(401, {"error": {"type": "authentication_error", "message": "bad key"}}))
    answer = await answer_question(contestant, QUESTION)
    assert not answer.ok and answer.text == ""
    assert answer.error == f"Model {contestant.name} is unavailable right now (request refused)."
    assert len(fake_api.requests) == 1


async def test_persistent_429_gives_up_after_bounded_retries(provider, fake_api) -> None:
    contestant, _, _ = provider
    fake_api.reply(*[Scripted(429, {"error": {}}, {"retry-after": "0"}) for _ in range(5)])
    answer = await answer_question(contestant, QUESTION)
    assert answer.error and "rate limited" in answer.error
    assert len(fake_api.requests) == 3  # the first try and max_retries=2


async def test_timeout_is_reported(provider, fake_api, closing) -> None:
    contestant, reply, _ = provider
    spec = contestant.spec.model_copy(update={"timeout": 0.3, "max_retries": 0})
    slow = closing(build_roster([spec])).get(spec.name)
    fake_api.reply(Scripted(body=reply("late"), delay=1.5))
    answer = await answer_question(slow, QUESTION)
    assert answer.error and "timed out" in answer.error


async def test_malformed_body_is_reported_as_unavailable(provider, fake_api, closing) -> None:
    contestant, _, _ = provider
    spec = contestant.spec.model_copy(update={"max_retries": 0})
    fake_api.reply(Scripted(body='{"this is": "not the shape"}'))
    answer = await answer_question(closing(build_roster([spec])).get(spec.name), QUESTION)
    assert answer.error and "unavailable" in answer.error


async def test_a_bug_in_parley_is_not_reported_as_a_malformed_reply(provider, monkeypatch) -> None:
    """Only the SDK's errors and the reply's shape are the server's fault; ours must surface."""
    contestant, _, _ = provider

    def broken(spec):
        raise RuntimeError("a bug in Parley")

    module = "openai" if contestant.spec.provider == "openai" else "anthropic"
    monkeypatch.setattr(f"arena.models.{module}.temperature_field", broken)
    with pytest.raises(RuntimeError, match="a bug in Parley"):
        await answer_question(contestant, QUESTION)


# --- streaming ---------------------------------------------------------------------------


def _stream(contestant, pieces: list[str], **options):
    builder = openai_stream if contestant.spec.provider == "openai" else anthropic_stream
    return builder(pieces, **options)


async def test_streamed_answer_grows_and_ends_like_a_whole_one(provider, fake_api) -> None:
    contestant, _reply, path = provider
    pieces = ["Run shipit ", "rollback ", "[1]."]
    fake_api.reply(_stream(contestant, pieces, **_usage(contestant, 1000, 500)))
    seen: list[str] = []

    async def on_text(text: str) -> None:
        seen.append(text)

    answer = await answer_question(contestant, QUESTION, on_text=on_text)
    assert seen == ["Run shipit ", "Run shipit rollback ", "Run shipit rollback [1]."]
    assert answer.error is None
    assert answer.text == "Run shipit rollback [1]."
    assert [c.passage.id for c in answer.citations] == ["p1"]
    assert (answer.input_tokens, answer.output_tokens) == (1000, 500)
    assert answer.cost_usd == pytest.approx(0.002)
    (request,) = fake_api.requests
    assert request.path == path
    assert request.body["stream"] is True
    if contestant.spec.provider == "openai":
        assert request.body["stream_options"] == {"include_usage": True}


async def test_an_error_mid_stream_becomes_the_answers_error(provider, fake_api) -> None:
    contestant, _reply, _path = provider
    fake_api.reply(_stream(contestant, ["Run shipit "], error=True))
    seen: list[str] = []

    async def on_text(text: str) -> None:
        seen.append(text)

    answer = await answer_question(contestant, QUESTION, on_text=on_text)
    assert seen == ["Run shipit "]
    assert answer.text == ""
    unavailable = "service unavailable"
    assert answer.error == f"Model {contestant.name} is unavailable right now ({unavailable})."
    fake_api.reply(_stream(contestant, ["Run shipit "], error=True))
    with pytest.raises(ProviderUnavailable, match="failed mid-stream"):
        await contestant.provider.stream(compose(QUESTION), _ignore)


async def test_a_stream_that_fails_before_text_is_mapped_like_complete(provider, fake_api) -> None:
    contestant, _reply, _path = provider
    fake_api.reply(Scripted(401, {"error": {"type": "authentication_error", "message": "bad"}}))
    answer = await answer_question(contestant, QUESTION, on_text=_ignore)
    assert answer.error == f"Model {contestant.name} is unavailable right now (request refused)."
    assert len(fake_api.requests) == 1


async def _ignore(text: str) -> None:
    pass


def _usage(contestant, tokens_in: int, tokens_out: int) -> dict[str, int]:
    if contestant.spec.provider == "openai":
        return {"prompt_tokens": tokens_in, "completion_tokens": tokens_out}
    return {"input_tokens": tokens_in, "output_tokens": tokens_out}


async def test_a_whole_reply_where_a_stream_was_asked_is_an_error_not_silence(
    provider, fake_api
) -> None:
    contestant, reply, _path = provider
    fake_api.reply(Scripted(body=reply("Run shipit rollback [1].")))
    answer = await answer_question(contestant, QUESTION, on_text=_ignore)
    assert answer.text == "" and answer.error
