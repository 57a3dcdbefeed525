"""One settings object for the whole process.

Precedence, highest first: arguments passed to ``Settings(...)``, ``PARLEY_*``
environment variables, then ``parley.toml`` in the working directory (or the file
named by ``PARLEY_CONFIG``). Secrets are never stored here: a model names the
environment variable that holds its key (``api_key_env``) and the provider reads it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from arena.judge import DEFAULT_SAMPLE
from arena.matchmaking import DEFAULT_EXPLORATION, DEFAULT_MIN_CHANNEL_VOTES
from arena.pipelines import DEFAULT_TOP_K
from arena.types import ModelSpec
from knowledge.sql.url import url_problem
from knowledge.web import BACKENDS, DEFAULT_RESULTS, DEFAULT_TIMEOUT, MAX_PAGE_BYTES, domain_entry

from .config_env import PREFIX, EnvironmentSource, unknown_variables
from .errors import ConfigFileError

__all__ = [
    "DEFAULT_BATTLE_SHARE",
    "DEFAULT_BOOTSTRAP_ROUNDS",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_DATA_DIR",
    "DEFAULT_PROVISIONAL_VOTES",
    "DEFAULT_TOP_K",
    "DEFAULT_WEB_HOST",
    "DEFAULT_WEB_PORT",
    "DEFAULT_WEB_REFRESH_SECONDS",
    "ChannelMode",
    "Settings",
    "WebSearchSettings",
    "config_file",
    "load_settings",
    "unknown_keys",
]

DEFAULT_DATA_DIR = Path(".parley")
DEFAULT_CONFIG_FILE = Path("parley.toml")
DEFAULT_BATTLE_SHARE = 0.25
DEFAULT_PROVISIONAL_VOTES = 20
DEFAULT_BOOTSTRAP_ROUNDS = 100
DEFAULT_ATTACHMENT_MAX_MB = 20.0  # Slack's and Discord's own caps are far above a document's size
DEFAULT_WEB_HOST = "127.0.0.1"
DEFAULT_WEB_PORT = 8080
DEFAULT_WEB_REFRESH_SECONDS = 5.0

# where Parley answers in a Slack channel: when addressed (mentions, its threads, /ask),
# only through /ask, or not at all
ChannelMode = Literal["mentions", "ask_only", "off"]


class WebSearchSettings(BaseModel):
    """The ``[web]`` table: web search as a source of passages, for the ``[[models]]``
    entries that set ``web = "fallback"`` or ``"blend"``. (Not the dashboard: its
    settings are the top-level ``web_host``, ``web_port``, ``web_url``, ...)"""

    # the search engine: "searxng" (self-hosted, url = its address) or "brave" (a key
    # in api_key_env; url only for a proxy); None: no web search
    provider: str | None = None
    url: str | None = None
    api_key_env: str = "BRAVE_API_KEY"
    results: int = Field(default=DEFAULT_RESULTS, ge=1, le=10)  # results a question uses
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0, le=60)  # seconds, pages included
    fetch_pages: bool = True  # read the results' pages (else the engine's snippets only)
    max_page_bytes: int = Field(default=MAX_PAGE_BYTES, ge=10_000, le=20_000_000)
    # results only from these domains (and their subdomains), and never from these
    allow: list[str] = Field(default_factory=list)
    deny: list[str] = Field(default_factory=list)
    # channel ids whose questions never go to a search engine (private topics)
    private_channels: list[str] = Field(default_factory=list)
    # read pages on private addresses too (an intranet engine); off: a result pointing
    # inside the network is never fetched
    fetch_private: bool = False

    @field_validator("provider")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        if value is not None and value not in BACKENDS:
            raise ValueError(f"unknown search backend {value!r} ({', '.join(BACKENDS)})")
        return value

    @field_validator("allow", "deny")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        return [domain_entry(v) for v in values]

    @model_validator(mode="after")
    def _searxng_has_an_address(self) -> WebSearchSettings:
        if self.provider == "searxng" and not self.url:
            raise ValueError("provider 'searxng' needs url, the instance's address")
        return self


def config_file() -> Path:
    """The TOML file settings are read from: ``PARLEY_CONFIG`` or ``./parley.toml``."""
    return Path(os.environ.get("PARLEY_CONFIG", DEFAULT_CONFIG_FILE))


class Settings(BaseSettings):
    """Everything Parley can be told, with named defaults."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    # PostgreSQL shared by every instance (postgresql://user:password@host:5432/db);
    # unset: SQLite files in the data folder. A secret: never shown in reprs or logs
    database_url: SecretStr | None = None
    chroma_host: str | None = None
    chroma_port: int = Field(default=8000, ge=1, le=65535)
    top_k: int = Field(default=DEFAULT_TOP_K, gt=0)
    battle_share: float = Field(default=DEFAULT_BATTLE_SHARE, ge=0, le=1)
    channel_battle_share: dict[str, float] = Field(default_factory=dict)
    # live faithfulness flags: a single answer marks the sentences its sources do not
    # support; per channel (Slack or Discord channel id, "console", "cli") to override
    faithfulness_flags: bool = True
    channel_faithfulness_flags: dict[str, bool] = Field(default_factory=dict)
    provisional_votes: int = Field(default=DEFAULT_PROVISIONAL_VOTES, ge=0)
    bootstrap_rounds: int = Field(default=DEFAULT_BOOTSTRAP_ROUNDS, gt=0)
    # the largest file attached to a question that is read (MB); larger ones are not
    # downloaded, and the asker is told why
    attachment_max_mb: float = Field(default=DEFAULT_ATTACHMENT_MAX_MB, gt=0, le=1000)
    models: list[ModelSpec] = Field(default_factory=list)
    # platform-qualified user ids that may re-index: ["slack:U0123", "discord:4567"]
    admins: list[str] = Field(default_factory=list)
    # what a re-index from chat walks when no paths are named
    sources: list[Path] = Field(default_factory=list)
    # the roster model that grades answers; None: the offline judge (no keys needed)
    judge: str | None = None
    judge_timeout: float | None = Field(default=None, gt=0)  # seconds a grade; None: 60
    # scheduled audits in the bot process; None: only `parley audit` runs them
    audit_interval_minutes: float | None = Field(default=None, gt=0)
    audit_sample: int = Field(default=DEFAULT_SAMPLE, gt=0)
    admin_channel: str | None = None  # where the bot posts audit reports
    # seconds a stopping bot (SIGTERM) gives the answers and votes in flight to finish
    shutdown_timeout: float = Field(default=30.0, gt=0)
    # battle hygiene: words by which an answer names its own model (merged over each
    # model's name, model id and vendor), and how many of one user's votes a day count
    identity_words: dict[str, list[str]] = Field(default_factory=dict)
    max_votes_per_user_per_day: int | None = Field(default=None, ge=1)
    # steering: the share of single answers from a model other than the best-rated one,
    # and the votes a channel needs before its own board steers it
    exploration_share: float = Field(default=DEFAULT_EXPLORATION, ge=0, le=1)
    steer_min_channel_votes: int = Field(default=DEFAULT_MIN_CHANNEL_VOTES, ge=0)
    # Discord: the bot token from DISCORD_TOKEN (a secret: never shown in reprs or logs);
    # guild ids to sync slash commands to at once (none: globally, which Discord spreads
    # within the hour); the message-content intent lets follow-ups in Parley's threads
    # need no mention (enable it in the developer portal first)
    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "PARLEY_DISCORD_TOKEN")
    )
    discord_guilds: list[int] = Field(default_factory=list)
    discord_message_content: bool = True
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
    # the web dashboard (`parley web`): where it listens; who may see it (anyone with
    # PARLEY_WEB_TOKEN, admins with PARLEY_WEB_ADMIN_TOKEN, or whoever the team's proxy
    # names in a trusted header); its public address, which chat /leaderboard replies
    # link to; whether viewers who are not admins see question and answer text; and how
    # often the leaderboard may be refitted while votes arrive
    web_host: str = DEFAULT_WEB_HOST
    web_port: int = Field(default=DEFAULT_WEB_PORT, ge=1, le=65535)
    web_token: SecretStr | None = None
    web_admin_token: SecretStr | None = None
    web_trusted_header: str | None = None
    # the reverse proxy's addresses or networks ("127.0.0.1", "10.0.0.0/8"): only from
    # these is X-Forwarded-For believed (the login limit then counts per real client);
    # none: the connecting address is the client, whatever headers say
    web_forwarded_allow_ips: list[str] = Field(default_factory=list)
    web_url: str | None = None
    web_hide_text: bool = False
    web_refresh_seconds: float = Field(default=DEFAULT_WEB_REFRESH_SECONDS, gt=0)
    # web search as a source (the [web] table; not the dashboard above)
    web: WebSearchSettings = Field(default_factory=WebSearchSettings)

    @model_validator(mode="after")
    def _web_search_for_web_pipelines(self) -> Settings:
        """An entry that searches the web needs a search engine: say which entry."""
        if self.web.provider is None:
            for n, spec in enumerate(self.models):
                if spec.web != "off":
                    raise ValueError(
                        f"models[{n + 1}] ({spec.name!r}) sets web = {spec.web!r}, but no"
                        " search engine is set up: add a [web] table with a provider"
                    )
        return self

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir_is_text(cls, value: object) -> object:
        """A folder is written as a string: ``data_dir = 5`` is a mistake, not folder "5"."""
        if not isinstance(value, str | os.PathLike):
            raise ValueError(f"should be a folder's path, as a string, not {value!r}")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        """A URL of another form is refused here, in one line, without echoing it."""
        if value is None or not value.get_secret_value().strip():
            return None  # PARLEY_DATABASE_URL= (empty) means unset
        problem = url_problem(value.get_secret_value().strip())
        if problem:
            raise ValueError(problem)
        return SecretStr(value.get_secret_value().strip())

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
        return (init_settings, EnvironmentSource(settings_cls), toml)

    @property
    def database_path(self) -> Path:
        return self.data_dir / "parley.db"

    @property
    def arena_database(self) -> str | Path:
        """Where the arena is kept: the PostgreSQL URL when set, else the SQLite file."""
        url = self.database_url
        return url.get_secret_value() if url else self.database_path

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def attachment_max_bytes(self) -> int:
        return int(self.attachment_max_mb * 1_000_000)


def load_settings(**overrides: Any) -> tuple[Settings, list[str]]:
    """Settings, and warnings about keys in the TOML file and ``PARLEY_*`` environment
    variables that Parley does not know.

    Every problem becomes one ConfigFileError line naming the file, the place and what is
    wrong, instead of a traceback (an invalid file is read on every command). A file
    named by ``PARLEY_CONFIG`` must exist (a typo must not run on defaults; ``/dev/null``
    says "no file"); the default ``./parley.toml`` is optional.
    """
    path = config_file()
    named = "PARLEY_CONFIG" in os.environ  # on purpose, so not optional (os.devnull: none)
    if named and (not path.exists() or path.is_dir()):
        raise ConfigFileError(f"PARLEY_CONFIG names {path}: no such file")
    try:
        settings = Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors())
        where = f"{path} or PARLEY_* variables"
        raise ConfigFileError(f"invalid configuration ({where}): {problems}") from exc
    data = tomllib.loads(path.read_text()) if path.is_file() else {}
    warnings = [f"{path}: unknown setting {key!r} is ignored" for key in unknown_keys(data)]
    keys = [s.api_key_env for s in settings.models if s.api_key_env] + [settings.web.api_key_env]
    warnings += unknown_variables(os.environ, _variables(), ["PARLEY_CONFIG", *keys])
    return settings, warnings


def _variables() -> list[str]:
    """The environment variables settings are read from: ``PARLEY_`` and the field's
    name, or the names its alias allows (``DISCORD_TOKEN``, ``SLACK_BOT_TOKEN``)."""
    names = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names += [choice for choice in alias.choices if isinstance(choice, str)]
        else:
            names.append(f"{PREFIX}{name}")
    return names


def _problem(error: Any) -> str:
    """One validation error as ``models[2].mode: Input should be ...``: the key as the
    file writes it (entries counted from 1), then pydantic's words."""
    where = ""
    for part in error["loc"]:
        where += f"[{part + 1}]" if isinstance(part, int) else f"{'.' if where else ''}{part}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def unknown_keys(data: dict[str, Any]) -> list[str]:
    """Top-level, per-model and ``[web]`` keys that no setting reads (a typo should not
    pass unnoticed)."""
    unknown = [key for key in data if key not in Settings.model_fields]
    for n, model in enumerate(data.get("models") or [], 1):
        if isinstance(model, dict):
            unknown += [f"models[{n}].{k}" for k in model if k not in ModelSpec.model_fields]
    web = data.get("web")
    if isinstance(web, dict):
        unknown += [f"web.{k}" for k in web if k not in WebSearchSettings.model_fields]
    return unknown
