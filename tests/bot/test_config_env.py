"""PARLEY_* variables: lists and tables in the environment, variables that name no
setting, and values refused in one line rather than accepted or crashed on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.config import load_settings
from bot.errors import ConfigFileError


@pytest.fixture(autouse=True)
def no_config(monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_CONFIG", "/dev/null")


def run(tmp_path: Path, env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *args], env=env)


@pytest.mark.parametrize(
    ("variable", "value", "form"),
    [
        ("PARLEY_MODELS", "foo", "a JSON list of tables"),
        ("PARLEY_CHANNEL_BATTLE_SHARE", "C1=0.5", "a JSON table"),
        ("PARLEY_WEB", "searxng", "a JSON table"),
        ("PARLEY_ADMINS", '["slack:U1"', "items separated by commas, or a JSON list"),
    ],
)
def test_a_list_or_table_that_is_not_json_is_one_line_naming_the_variable(
    tmp_path: Path, variable: str, value: str, form: str
) -> None:
    result = run(tmp_path, {variable: value}, "models")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {variable} is not valid JSON: write {form}")
    assert f"{variable}='" in result.output  # an example of the form
    assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
    result = run(tmp_path, {variable: value}, "models", "--json")
    assert json.loads(result.stdout)["error"].startswith(f"{variable} is not valid JSON")


def test_plain_lists_take_commas_as_a_shell_user_writes_them(monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_ADMINS", "slack:U1, discord:42")
    monkeypatch.setenv("PARLEY_SOURCES", "docs/")
    monkeypatch.setenv("PARLEY_DISCORD_GUILDS", "123")
    settings, warnings = load_settings()
    assert settings.admins == ["slack:U1", "discord:42"]
    assert settings.sources == [Path("docs")]
    assert settings.discord_guilds == [123]
    assert warnings == []


def test_plain_lists_still_take_json_and_empty_means_none(monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_ADMINS", '["slack:U1,x", "discord:42"]')
    monkeypatch.setenv("PARLEY_SOURCES", "")
    settings, _ = load_settings()
    assert settings.admins == ["slack:U1,x", "discord:42"]
    assert settings.sources == []


def test_a_bad_item_in_a_comma_list_is_refused_by_its_place(monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_DISCORD_GUILDS", "123,abc")
    with pytest.raises(ConfigFileError, match=r"discord_guilds\[2\]: Input should be a valid int"):
        load_settings()


def test_a_toml_string_is_not_split_into_a_list(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "parley.toml"
    config.write_text('admins = "slack:U1,slack:U2"\n')
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    with pytest.raises(ConfigFileError, match="admins: Input should be a valid list"):
        load_settings()


def test_a_mistyped_variable_is_warned_about_once_with_the_closest_name(tmp_path: Path) -> None:
    result = run(tmp_path, {"PARLEY_TOPK": "3", "PARLEY_XYZZY": "1"}, "models", "--json")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    topk = [line for line in lines if "PARLEY_TOPK" in line]
    assert topk == [
        "Warning: environment variable PARLEY_TOPK names no setting and is ignored;"
        " did you mean PARLEY_TOP_K?"
    ]
    assert [line for line in lines if "PARLEY_XYZZY" in line] == [
        "Warning: environment variable PARLEY_XYZZY names no setting and is ignored"
    ]
    assert json.loads(result.stdout)  # the command still ran


def test_an_aliased_setting_is_suggested_by_the_name_it_is_read_from(monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_SLACK_BOT_TOKEN", "xoxb-1")
    settings, warnings = load_settings()
    assert settings.slack_bot_token is None  # read from SLACK_BOT_TOKEN only
    assert warnings == [
        "environment variable PARLEY_SLACK_BOT_TOKEN names no setting and is ignored;"
        " did you mean SLACK_BOT_TOKEN?"
    ]


def test_settings_config_and_key_variables_are_not_warned_about(
    tmp_path: Path, monkeypatch
) -> None:
    config = tmp_path / "parley.toml"
    config.write_text(
        '[[models]]\nname = "m"\nprovider = "openai"\nmodel = "x"\n'
        'api_key_env = "PARLEY_OPENAI_KEY"\n'
    )
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    monkeypatch.setenv("PARLEY_OPENAI_KEY", "sk-1")
    monkeypatch.setenv("PARLEY_TOP_K", "3")
    monkeypatch.setenv("parley_battle_share", "0.5")  # read case-insensitively
    monkeypatch.setenv("PARLEY_DISCORD_TOKEN", "t")
    settings, warnings = load_settings()
    assert (settings.top_k, settings.battle_share) == (3, 0.5)
    assert warnings == []


@pytest.mark.parametrize("port", ["-1", "0", "65536"])
def test_chroma_port_out_of_range_is_refused(port: str, monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_CHROMA_PORT", port)
    with pytest.raises(ConfigFileError, match="chroma_port: Input should be"):
        load_settings()


def test_chroma_port_in_range_is_taken(monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_CHROMA_PORT", "65535")
    assert load_settings()[0].chroma_port == 65535


@pytest.mark.parametrize("value", ["5", "true", "[]", "{}"])
def test_a_data_dir_that_is_not_a_string_is_refused(
    value: str, tmp_path: Path, monkeypatch
) -> None:
    config = tmp_path / "parley.toml"
    config.write_text(f"data_dir = {value}\n")
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    with pytest.raises(ConfigFileError, match="data_dir: should be a folder's path, as a string"):
        load_settings()


def test_a_data_dir_string_is_taken(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "parley.toml"
    config.write_text('data_dir = "5"\n')
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    assert load_settings()[0].data_dir == Path("5")
    monkeypatch.setenv("PARLEY_DATA_DIR", "7")  # the environment's text is a string too
    assert load_settings()[0].data_dir == Path("7")
