"""The roster from parley.toml and the environment."""

from __future__ import annotations

import logging

import pytest

from arena.errors import ConfigError
from arena.roster import build_roster
from bot.config import Settings

TOML = """
[[models]]
name = "gpt"
provider = "openai"
model = "gpt-4o-mini"
api_key_env = "PARLEY_TEST_OPENAI_KEY"

[[models]]
name = "claude"
provider = "anthropic"
model = "claude-haiku"
api_key_env = "PARLEY_TEST_ANTHROPIC_KEY"

[[models]]
name = "local"
provider = "openai"
model = "llama3"
base_url = "http://127.0.0.1:9/v1"

[[models]]
name = "off"
provider = "offline-passages"
enabled = false
"""


def settings_from(tmp_path, monkeypatch, text: str) -> Settings:
    path = tmp_path / "parley.toml"
    path.write_text(text)
    monkeypatch.setenv("PARLEY_CONFIG", str(path))
    return Settings()


def test_missing_key_is_skipped_with_one_log_line(tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("PARLEY_TEST_OPENAI_KEY", "sk-test")
    monkeypatch.delenv("PARLEY_TEST_ANTHROPIC_KEY", raising=False)
    settings = settings_from(tmp_path, monkeypatch, TOML)
    with caplog.at_level(logging.WARNING):
        roster = build_roster(settings.models)
    assert roster.names == ["gpt", "local"]
    assert [spec.name for spec, _ in roster.skipped] == ["claude"]
    assert "PARLEY_TEST_ANTHROPIC_KEY" in roster.skipped[0][1]
    assert len([r for r in caplog.records if "claude" in r.getMessage()]) == 1


def test_no_models_gives_the_offline_pair(tmp_path, monkeypatch) -> None:
    roster = build_roster(settings_from(tmp_path, monkeypatch, "").models)
    assert roster.names == ["offline-sentences", "offline-passages"]


def test_unknown_provider_and_unknown_name_are_clear(tmp_path, monkeypatch) -> None:
    bad = '[[models]]\nname = "x"\nprovider = "nope"\nmodel = "m"\n'
    with pytest.raises(ConfigError, match="unknown provider"):
        build_roster(settings_from(tmp_path, monkeypatch, bad).models)
    with pytest.raises(ConfigError, match="offline-sentences"):
        build_roster([]).get("gpt-5")


async def test_a_service_closes_its_hosted_clients_when_it_closes(tmp_path, monkeypatch) -> None:
    """Left open, an SDK client closes itself from the garbage collector on whatever loop
    runs then, and logs a traceback into another command's output."""
    from bot.runtime import open_service

    monkeypatch.setenv("PARLEY_TEST_OPENAI_KEY", "sk-test")
    monkeypatch.setenv("PARLEY_TEST_ANTHROPIC_KEY", "sk-ant-test")
    settings = settings_from(tmp_path, monkeypatch, TOML)
    async with open_service(settings, in_memory=True) as service:
        clients = [c.provider._client for c in service._roster.entries]
        assert len(clients) == 3 and not any(client.is_closed() for client in clients)
    assert all(client.is_closed() for client in clients)
