"""parley.toml.example loads as shipped, and with every commented example uncommented:
a key shown at the top level must not fall into the table written above it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from tests.conftest import ROOT

EXAMPLE = ROOT / "parley.toml.example"
# a commented setting: "# key = ...", '# "quoted key" = ...', "# [table]", "# [[models]]"
COMMENTED = re.compile(r'^# (?=(?:[A-Za-z_][\w-]*|"[^"]+")\s*=|\[)')
TOP_LEVEL = re.compile(r"^# ([a-z_]+)\s*=")


def uncommented(text: str) -> str:
    return "\n".join(COMMENTED.sub("", line) for line in text.splitlines()) + "\n"


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "parley.toml"
    monkeypatch.setenv("PARLEY_CONFIG", str(path))
    return path


def test_the_example_loads_as_shipped(config: Path) -> None:
    config.write_text(EXAMPLE.read_text())
    settings, warnings = load_settings()
    assert warnings == []
    assert [m.name for m in settings.models] == ["offline-sentences", "offline-passages"]


def test_every_commented_example_loads_when_uncommented(config: Path) -> None:
    example = EXAMPLE.read_text()
    config.write_text(uncommented(example))
    settings, warnings = load_settings()
    assert warnings == []
    data = tomllib.loads(config.read_text())
    shown = {
        match.group(1)
        for line in example.splitlines()
        if (match := TOP_LEVEL.match(line)) and match.group(1) in Settings.model_fields
    }
    assert len(shown) >= 20
    assert shown <= set(data)  # each at the top level, none inside a table above it
    assert settings.identity_words == {"gpt-4o-mini": ["GPT", "OpenAI", "ChatGPT"]}
    assert settings.slack_channel_modes == {"C0123ABCD": "ask_only"}
    assert settings.channel_battle_share == {"support": 0}
    assert settings.channel_faithfulness_flags == {"C0RANDOM": False}
    assert settings.faithfulness_flags is True
    assert settings.judge == "gpt-4o-mini" and settings.discord_guilds == [123456789012345678]
    assert [m.name for m in settings.models] == [
        "offline-sentences",
        "offline-passages",
        "gpt-4o-mini",
        "gpt-4o-mini, 8 passages, web",
        "claude-haiku",
        "llama3-local",
    ]
    # web search is the [web] table; the dashboard's web_* keys stay at the top level
    assert settings.web.provider == "searxng" and settings.web.private_channels == ["C0PRIVATE"]
    assert settings.web_port == 8080 and settings.web_url == "https://parley.example.com"
    pipeline = settings.models[3]
    assert (pipeline.k, pipeline.mode, pipeline.web, pipeline.prompt) == (
        8,
        "hybrid",
        "fallback",
        "detailed",
    )
