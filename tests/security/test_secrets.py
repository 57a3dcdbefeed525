"""Secrets never leak: with recognisable tokens and keys in the environment, every CLI
command (failing ones too, with -v), and the Slack bot's question path against model APIs
that echo the key back in their errors, are run while logs are captured at DEBUG; nothing
printed, logged, posted or written to a file contains any of them. Admin rights come from
user ids and permissions, never from a display name."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path
from urllib.parse import urlencode

import discord
import pytest
from click.testing import CliRunner

import bot.cli.base
from arena.roster import build_roster
from arena.types import ModelSpec
from bot import messages
from bot.cli import cli
from tests.bot.discord.conftest import make_service, settle, start
from tests.bot.discord.test_commands import Indexer
from tests.bot.slack.conftest import mention, start_app
from tests.fakes.discord_api import FakeDiscord, interaction, member, slash_data
from tests.fakes.http_server import FakeServer, Scripted, Seen
from tests.fakes.providers import fake, roster
from tests.fakes.slack_api import TEAM, FakeSlack

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-SECRET-bot-4c1d",
    "SLACK_SIGNING_SECRET": "SECRET-signing-77ab",
    "SLACK_APP_TOKEN": "xapp-SECRET-app-91fe",
    "DISCORD_TOKEN": "SECRET-discord-MTIz.abc",
    "OPENAI_API_KEY": "sk-SECRET-openai-5e5e",
    "ANTHROPIC_API_KEY": "sk-ant-SECRET-anthropic-6f6f",
}
DOC = "# Deploys\n\nRun shipit rollback to roll back a deploy.\n"


def _echo_the_key(seen: Seen) -> Scripted:
    """A model API that, like some real ones, repeats the key it refused in its error."""
    key = seen.headers.get("authorization") or seen.headers.get("x-api-key") or ""
    error = {"message": f"Incorrect API key provided: {key}", "type": "invalid_request_error"}
    return Scripted(401, {"error": error, "type": "error"})


def _models_api(server: FakeServer) -> list[ModelSpec]:
    server.route("POST", "/v1/chat/completions", _echo_the_key)
    server.route("POST", "/v1/messages", _echo_the_key)
    return [
        ModelSpec(
            name="gpt",
            provider="openai",
            model="gpt-test",
            base_url=f"{server.url}/v1",
            api_key_env="OPENAI_API_KEY",
            max_retries=0,
        ),
        ModelSpec(
            name="claude",
            provider="anthropic",
            model="claude-test",
            base_url=server.url,
            api_key_env="ANTHROPIC_API_KEY",
            max_retries=0,
        ),
    ]


def _toml(specs: list[ModelSpec], extra: str = "") -> str:
    lines = []
    for spec in specs:
        lines.append("[[models]]")
        for key in ("name", "provider", "model", "base_url", "api_key_env", "max_retries"):
            lines.append(f"{key} = {json.dumps(getattr(spec, key))}")
    return extra + "\n".join(lines) + "\n"


def _scan(*texts: str) -> None:
    for text in texts:
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} leaked: ...{_around(text, secret)}..."


def _around(text: str, secret: str) -> str:
    at = text.index(secret)
    return text[max(0, at - 200) : at + 50]


@pytest.fixture
def secrets_env(monkeypatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def debug_logs(caplog, monkeypatch):
    """The CLI's -v logging, with everything at DEBUG also kept by caplog."""
    configure = bot.cli.base.configure_logging

    def at_debug(verbose: bool) -> None:
        configure(verbose)
        root = logging.getLogger()
        root.setLevel(logging.DEBUG)
        root.addHandler(caplog.handler)

    monkeypatch.setattr(bot.cli.base, "configure_logging", at_debug)
    caplog.set_level(logging.DEBUG)
    return caplog


def _logged(caplog) -> str:
    """Every record as the formatter renders it, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_no_cli_command_leaks_a_secret(
    tmp_path: Path, fake_api: FakeServer, secrets_env, debug_logs, monkeypatch
) -> None:
    specs = _models_api(fake_api)
    fake_api.route("POST", "/api/*", Scripted(200, {"ok": False, "error": "invalid_auth"}))
    fake_api.route("GET", "/api/v10/*", Scripted(401, {"message": "401: Unauthorized"}))
    monkeypatch.setattr(discord.http.Route, "BASE", f"{fake_api.url}/api/v10")
    config = tmp_path / "parley.toml"
    config.write_text(_toml(specs, f'slack_api_url = "{fake_api.url}/api/"\n'))
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deploys.md").write_text(DOC)
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    data = ["-v", "--data-dir", str(tmp_path / "data")]
    commands = [
        ["index", str(docs)],
        ["search", "roll back"],
        ["ask", "How do I roll back?"],
        ["ask", "--model", "claude", "How do I roll back?", "--json"],
        ["models", "--check"],
        ["models", "--json"],
        ["leaderboard"],
        ["export", "battles", "-o", str(tmp_path / "export.jsonl")],
        ["import", "battles", str(tmp_path / "bad.jsonl")],
        ["doctor"],
        ["doctor", "--json"],
        ["backup", str(tmp_path / "backup.db")],
        ["restore", "--force", str(tmp_path / "backup.db")],
        ["judge", str(tmp_path / "bad.jsonl"), "--judge", "gpt"],
        ["audit", "--judge", "gpt"],
        ["audit", "--report"],
        ["slack"],  # without SLACK_APP_TOKEN (below): serving would never return
        ["discord"],
        ["no-such-command"],
    ]
    outputs = []
    for command in commands:
        env = {"SLACK_APP_TOKEN": None} if command == ["slack"] else None
        result = CliRunner().invoke(cli, [*data, *command], env=env)
        outputs.append(f"$ parley {' '.join(command)} -> {result.exit_code}\n{result.output}")
        if result.exc_info is not None and result.exit_code not in (0, 1, 2):
            outputs.append("".join(traceback.format_exception(*result.exc_info)))
    written = [
        p.read_bytes().decode("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()
    ]
    assert any("is unavailable" in o or "refused" in o for o in outputs)  # the keys were used
    assert len(fake_api.seen("/v1/*")) >= 2
    _scan(*outputs, _logged(debug_logs), *written)


async def test_the_slack_bot_leaks_no_secret_when_models_echo_their_keys(
    fake_api: FakeServer, secrets_env, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    slack = FakeSlack(fake_api)
    contestants = build_roster(_models_api(fake_api))
    async for app in start_app(slack, contestants, battle_share=1.0):
        await app.event(mention("How do I roll back?"))
        await app.settle()
        audit = await app.service.audit(judge="gpt")
    (posted,) = slack.calls("chat.postMessage")
    assert "unavailable" in json.dumps(posted)
    _scan(
        json.dumps(slack.calls("chat.postMessage")),
        "\n".join(r.raw.decode("utf-8", "replace") for r in slack.server.seen("/api/*")),
        json.dumps(audit, default=str),
        _logged(caplog),
    )


ADMIN_ID = 222
EVE_ID = 333


@pytest.mark.parametrize("name", [str(ADMIN_ID), f"discord:{ADMIN_ID}", f"<@{ADMIN_ID}>"])
async def test_a_discord_display_name_equal_to_an_admin_id_grants_nothing(
    fake_api: FakeServer, monkeypatch, store, name
) -> None:
    """Eve names herself after the admin (user name, global name and nickname): her
    /reindex is refused and nothing runs; the admin by id may re-index."""
    api = FakeDiscord(fake_api)
    monkeypatch.setattr(discord.http.Route, "BASE", api.base)
    index = Indexer()
    bot = await start(api, make_service(store, index=index, admins=(f"discord:{ADMIN_ID}",)))
    payload = interaction(
        api.next_id(), 2, slash_data(api.next_id(), "reindex", {}), user_id=EVE_ID
    )
    payload["member"] = {**member(EVE_ID, name=name), "nick": name}
    bot.state.parsers["INTERACTION_CREATE"](payload)
    await settle()
    assert index.runs == 0
    await bot.slash("reindex", user_id=ADMIN_ID)
    await bot.client.close()
    assert index.runs == 1


async def test_a_slack_user_name_equal_to_an_admin_id_grants_nothing(fake_api) -> None:
    index = Indexer()
    slack = FakeSlack(fake_api)
    admins = ("slack:UADMIN",)
    contestants = roster(fake("alpha"))
    async for app in start_app(slack, contestants, admins=admins, index=index, sources=["/hb"]):
        form = {
            "team_id": TEAM,
            "channel_id": "C1",
            "user_id": "UEVE",
            "user_name": "UADMIN",
            "command": "/reindex",
            "text": "",
            "response_url": slack.response_url("eve"),
        }
        await app.post(urlencode(form), "application/x-www-form-urlencoded")
        await app.settle()
        assert index.runs == 0
        assert slack.responses()[-1]["text"] == messages.not_admin()
        await app.command("/reindex", "", user="UADMIN")
        await app.settle()
    assert index.runs == 1
