"""The app manifest a user pastes into Slack, and the HTTP-mode variant docs/slack.md
tells them to make, both valid against Slack's manifest schema (a fixture written from
Slack's published schema: see its ``$comment``)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from bot.slack.run import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "manifest.schema.json").read_text())
HTTP_MARKER = "# HTTP mode:"


def problems(manifest: dict) -> list[str]:
    validator = Draft7Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(manifest)
    ]


def shipped() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def documented_http_changes() -> dict:
    """The YAML block in docs/slack.md that turns the manifest into the HTTP variant."""
    text = (ROOT / "docs" / "slack.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    (changes,) = [b for b in blocks if b.startswith(HTTP_MARKER)]
    return yaml.safe_load(changes)


def merged(base: dict, changes: dict) -> dict:
    """``changes`` applied as the docs say: keys join or replace, a slash command's keys
    join the command of the same name."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if key == "slash_commands":
            by_name = {c["command"]: c for c in out.get(key, [])}
            for command in value:
                by_name[command["command"]].update(command)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def test_the_shipped_manifest_is_valid() -> None:
    assert problems(shipped()) == []


def test_the_documented_http_variant_is_valid_and_complete() -> None:
    manifest = merged(shipped(), documented_http_changes())
    assert problems(manifest) == []
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    urls += [command["url"] for command in manifest["features"]["slash_commands"]]
    assert len(urls) == 2 + 3 and all(url.endswith(EVENTS_PATH) for url in urls)


@pytest.mark.parametrize(
    "broken",
    [
        {"features": {"slash_commands": [{"command": "/ask", "request_url": "https://x.example"}]}},
        {"settings": {"interactivity": {"url": "https://x.example"}}},
        {"display_information": {"long_description": "Too short for Slack."}},
    ],
    ids=["request_url-under-a-command", "url-under-interactivity", "short-long-description"],
)
def test_the_schema_refuses_what_slack_refuses(broken: dict) -> None:
    """The schema is no rubber stamp: the mistake the docs once taught is refused."""
    assert problems(merged(shipped(), broken)) != []
