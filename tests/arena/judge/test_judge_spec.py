"""Which roster entry may judge: one that replies in a JSON schema, and the errors
offer only those (and the offline judge)."""

from __future__ import annotations

import pytest

from arena.errors import ConfigError
from arena.judge import judge_spec
from arena.models import PROVIDERS, STRUCTURED_PROVIDERS, provider_factory
from arena.roster import DEFAULT_SPECS
from arena.types import ModelSpec

GPT = ModelSpec(name="gpt", provider="openai", model="gpt-4o-mini")
CLAUDE = ModelSpec(name="claude", provider="anthropic", model="claude-x")
PASSAGES = ModelSpec(name="quotes", provider="offline-passages")


def test_the_structured_providers_are_the_ones_with_structured_output() -> None:
    structured = {p for p in PROVIDERS if hasattr(provider_factory(p), "complete_json")}
    assert structured == STRUCTURED_PROVIDERS


@pytest.mark.parametrize("name", [None, "offline"])
def test_unset_or_offline_is_the_offline_judge(name: str | None) -> None:
    assert judge_spec(name, [GPT]) is None


def test_a_hosted_entry_judges() -> None:
    assert judge_spec("claude", [GPT, CLAUDE, PASSAGES]) == CLAUDE


@pytest.mark.parametrize("spec", DEFAULT_SPECS)
def test_an_offline_answerer_cannot_judge_and_only_the_offline_judge_is_offered(
    spec: ModelSpec,
) -> None:
    with pytest.raises(ConfigError) as caught:
        judge_spec(spec.name, [])  # no entries: the offline pair is the roster
    message = str(caught.value)
    assert message.startswith(f"model {spec.name!r} cannot judge: provider {spec.provider!r}")
    assert "choose 'offline' for the offline judge" in message
    assert "'offline-sentences'" not in message.split(";")[1]
    assert "'offline-passages'" not in message.split(";")[1]


def test_an_offline_answerer_beside_hosted_ones_is_refused_naming_those() -> None:
    with pytest.raises(ConfigError, match=r"cannot judge.*; choose 'gpt', 'claude', or 'offline'"):
        judge_spec("quotes", [GPT, CLAUDE, PASSAGES])


def test_an_unknown_name_offers_only_the_entries_that_can_judge() -> None:
    with pytest.raises(ConfigError) as caught:
        judge_spec("nope", [GPT, PASSAGES])
    assert str(caught.value) == (
        "no model named 'nope' in the roster to judge with; choose 'gpt', or 'offline'"
        " for the offline judge"
    )
    with pytest.raises(ConfigError) as caught:
        judge_spec("nope", [])
    assert "'offline-" not in str(caught.value)
    assert str(caught.value).endswith("(only an openai or anthropic entry can judge)")


def test_a_disabled_hosted_entry_does_not_judge() -> None:
    off = GPT.model_copy(update={"enabled": False})
    with pytest.raises(ConfigError, match="no model named 'gpt'"):
        judge_spec("gpt", [off, PASSAGES])
