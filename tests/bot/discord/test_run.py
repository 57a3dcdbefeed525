"""Starting the bot: the invite URL, a missing or refused token, the token kept secret."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
import yarl
from click.testing import CliRunner

from bot.cli import cli
from bot.config import Settings
from bot.discord import run_discord
from bot.discord.run import INVITE_PERMISSIONS
from bot.errors import BotError
from tests.fakes.discord_api import API, FakeDiscord
from tests.fakes.http_server import Scripted
from tests.fakes.slack_api import listening_socket


@pytest.fixture(autouse=True)
def no_config(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PARLEY_CONFIG", os.devnull)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.delenv("PARLEY_DISCORD_TOKEN", raising=False)


def test_the_invite_url_asks_for_commands_and_only_the_permissions_parley_uses() -> None:
    result = CliRunner().invoke(cli, ["discord", "--invite-url", "4242"])
    assert result.exit_code == 0, result.output
    query = parse_qs(urlsplit(result.output.strip()).query)
    assert query["client_id"] == ["4242"]
    assert query["scope"] == ["bot applications.commands"]
    granted = int(query["permissions"][0])
    assert granted == INVITE_PERMISSIONS.value
    assert INVITE_PERMISSIONS.create_public_threads and not INVITE_PERMISSIONS.administrator


def test_without_a_token_it_says_how_to_get_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "discord"])
    assert result.exit_code == 1
    assert "DISCORD_TOKEN is not set" in result.output


def test_the_token_comes_from_the_environment_and_stays_out_of_reprs(monkeypatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "very-secret-token")
    settings = Settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "very-secret-token"
    assert "very-secret-token" not in repr(settings) and "very-secret-token" not in str(settings)


async def test_a_refused_token_is_a_clear_error(
    discord_api: FakeDiscord, tmp_path: Path, monkeypatch
) -> None:
    discord_api.server.then(
        "GET", f"{API}/users/@me", Scripted(401, {"message": "401: Unauthorized", "code": 0})
    )
    monkeypatch.setenv("DISCORD_TOKEN", "wrong")
    with pytest.raises(BotError, match="Discord refused the token"):
        await run_discord(Settings(data_dir=tmp_path))


async def test_a_gateway_that_never_answers_is_one_line(
    discord_api: FakeDiscord, tmp_path: Path, monkeypatch, caplog
) -> None:
    """The REST API logs Parley in, but the gateway refuses connections: discord.py
    would retry for ever, a traceback each time. Parley gives up after START_TIMEOUT
    with one line, and the retries it logged carry no traceback."""
    closed, port = listening_socket()  # bound, never listening: connection refused
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"ws://127.0.0.1:{port}/")
    )
    monkeypatch.setattr("bot.discord.run.START_TIMEOUT", 1.0)
    monkeypatch.setenv("DISCORD_TOKEN", "fake.token.x")
    try:
        with pytest.raises(BotError, match="Cannot reach Discord's gateway"):
            await asyncio.wait_for(run_discord(Settings(data_dir=tmp_path)), 30)
    finally:
        closed.close()
    assert not [r for r in caplog.records if r.exc_info and r.name.startswith("discord")]
