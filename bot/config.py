"""One settings object for the whole process.

Precedence, highest first: arguments passed to ``Settings(...)``, ``PARLEY_*``
environment variables, then ``parley.toml`` in the working directory (or the file
named by ``PARLEY_CONFIG``). Secrets are never stored here: a model names the
environment variable that holds its key (``api_key_env``) and the provider reads it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from arena.types import ModelSpec

__all__ = [
    "DEFAULT_BATTLE_SHARE",
    "DEFAULT_BOOTSTRAP_ROUNDS",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_DATA_DIR",
    "DEFAULT_PROVISIONAL_VOTES",
    "DEFAULT_TOP_K",
    "ChannelMode",
    "Settings",
    "config_file",
]

DEFAULT_DATA_DIR = Path(".parley")
DEFAULT_CONFIG_FILE = Path("parley.toml")
DEFAULT_TOP_K = 5
DEFAULT_BATTLE_SHARE = 0.25
DEFAULT_PROVISIONAL_VOTES = 20
DEFAULT_BOOTSTRAP_ROUNDS = 100

# where Parley answers in a Slack channel: when addressed (mentions, its threads, /ask),
# only through /ask, or not at all
ChannelMode = Literal["mentions", "ask_only", "off"]


def config_file() -> Path:
    """The TOML file settings are read from: ``PARLEY_CONFIG`` or ``./parley.toml``."""
    return Path(os.environ.get("PARLEY_CONFIG", DEFAULT_CONFIG_FILE))


class Settings(BaseSettings):
    """Everything Parley can be told, with named defaults."""

    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    chroma_host: str | None = None
    chroma_port: int = 8000
    top_k: int = Field(default=DEFAULT_TOP_K, gt=0)
    battle_share: float = Field(default=DEFAULT_BATTLE_SHARE, ge=0, le=1)
    channel_battle_share: dict[str, float] = Field(default_factory=dict)
    provisional_votes: int = Field(default=DEFAULT_PROVISIONAL_VOTES, ge=0)
    bootstrap_rounds: int = Field(default=DEFAULT_BOOTSTRAP_ROUNDS, gt=0)
    models: list[ModelSpec] = Field(default_factory=list)
    # platform-qualified user ids that may re-index: ["slack:U0123", "discord:4567"]
    admins: list[str] = Field(default_factory=list)
    # what a re-index from chat walks when no paths are named
    sources: list[Path] = Field(default_factory=list)
    # Slack: tokens from the environment (SLACK_BOT_TOKEN, SLACK_APP_TOKEN,
    # SLACK_SIGNING_SECRET), never logged; the Web API base URL for proxies and tests
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("slack_bot_token", "SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("slack_app_token", "SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("slack_signing_secret", "SLACK_SIGNING_SECRET"),
    )
    slack_api_url: str | None = None  # None: slack_sdk's own default
    # per Slack channel id: "mentions" (the default), "ask_only" or "off"
    slack_channel_modes: dict[str, ChannelMode] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "parley.db"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
