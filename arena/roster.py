"""The contestants: the ``[[models]]`` of parley.toml, or the two offline answerers.

Each contestant is a whole pipeline (``arena.pipelines``): a model with its retrieval,
web search and prompt. A model that cannot run (its key is missing) is left out with
one log line and shown by ``parley models`` with the reason; it never stops the bot
from starting.

A contestant is rated under its identity: its name while its settings are the ones
first recorded under that name, and ``name #hash`` once they changed (``identify``
reads that from the store), so the votes for the old settings stay with the old
contestant instead of silently mixing with the new.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from arena.errors import ConfigError, ProviderError
from arena.pipelines import DEFAULT_TOP_K, Pipeline, pipeline_of, settings_hash
from arena.types import ModelSpec

from .models import LOCAL_PROVIDERS, PROVIDERS, Provider, provider_factory

if TYPE_CHECKING:
    from knowledge.processes import WorkerProcesses

if TYPE_CHECKING:
    from arena.store import Store

__all__ = [
    "DEFAULT_SPECS",
    "Contestant",
    "Roster",
    "build_roster",
    "enabled_specs",
    "identify",
]

log = logging.getLogger(__name__)

DEFAULT_SPECS = (
    ModelSpec(name="offline-sentences", provider="offline-sentences"),
    ModelSpec(name="offline-passages", provider="offline-passages"),
)


@dataclass(frozen=True)
class Contestant:
    """A roster entry that is ready to answer: its spec, provider and pipeline (the
    spec's own, with the defaults, unless given), and the identity it is rated under
    ("" until identified: its name)."""

    spec: ModelSpec
    provider: Provider
    pipeline: Pipeline | None = None
    identity: str = ""

    def __post_init__(self) -> None:
        if self.pipeline is None:
            object.__setattr__(self, "pipeline", pipeline_of(self.spec))

    @property
    def name(self) -> str:
        """The name answers are stored and rated under."""
        return self.identity or self.spec.name

    @property
    def settings(self) -> dict[str, object]:
        """The settings recorded with each of its answers."""
        assert self.pipeline is not None
        return self.pipeline.settings(self.spec)


@dataclass
class Roster:
    entries: list[Contestant] = field(default_factory=list)
    skipped: list[tuple[ModelSpec, str]] = field(default_factory=list)  # (spec, why not)
    top_k: int = DEFAULT_TOP_K  # an entry's ``k`` when it sets none
    web_backend: str | None = None  # the configured search engine, if any

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.entries]

    def get(self, name: str) -> Contestant:
        """The contestant rated as ``name``, or configured with that display name."""
        self.require_ready()
        for contestant in self.entries:
            if name in (contestant.name, contestant.spec.name):
                return contestant
        raise ConfigError(f"no ready model named {name!r}; ready: {', '.join(self.names)}")

    def require_ready(self) -> None:
        """Refuse, saying why each configured model was left off, when none can answer."""
        if self.entries:
            return
        why = "; ".join(f"{spec.name}: {reason}" for spec, reason in self.skipped)
        raise ConfigError(
            f"no model is ready to answer ({why or 'none configured'}); see `parley models`"
        )

    async def aclose(self) -> None:
        """Close the contestants' clients (hosted models hold HTTP connections)."""
        for contestant in self.entries:
            close = getattr(contestant.provider, "aclose", None)
            if close is not None:
                await close()

    def pipeline_for(self, spec: ModelSpec) -> Pipeline:
        """The pipeline ``spec`` has (or would have) on this roster."""
        return pipeline_of(spec, top_k=self.top_k, web_backend=self.web_backend)

    def identified(self, identities: Mapping[str, str]) -> Roster:
        """This roster with each contestant's identity from ``identities`` (display name
        to identity)."""
        entries = [
            replace(c, identity=identities.get(c.spec.name, c.spec.name)) for c in self.entries
        ]
        return replace(self, entries=entries)


def build_roster(
    specs: list[ModelSpec],
    processes: WorkerProcesses | None = None,
    *,
    top_k: int = DEFAULT_TOP_K,
    web_backend: str | None = None,
) -> Roster:
    """Ready contestants from the specs; with none enabled, the offline pair. Models that
    answer on this machine's CPU compose their answers in ``processes`` when given.
    ``top_k`` is the ``k`` of entries that set none; ``web_backend`` the configured
    search engine (an entry with web search on needs one)."""
    enabled = enabled_specs(specs)
    names = [s.name for s in enabled]
    if len(set(names)) != len(names):
        raise ConfigError(f"model names must be unique: {names}")
    roster = Roster(top_k=top_k, web_backend=web_backend)
    for spec in enabled:
        factory = provider_factory(spec.provider)
        if factory is None:
            known = ", ".join(PROVIDERS)
            raise ConfigError(f"model {spec.name!r}: unknown provider {spec.provider!r} ({known})")
        pipeline = roster.pipeline_for(spec)
        try:
            local = processes is not None and spec.provider in LOCAL_PROVIDERS
            provider = factory(spec, processes=processes) if local else factory(spec)  # type: ignore[call-arg]
            roster.entries.append(Contestant(spec, provider, pipeline))
        except ProviderError as exc:
            log.warning("model %s left off the roster: %s", spec.name, exc.detail or exc.reason)
            roster.skipped.append((spec, exc.detail or exc.reason))
    return roster


def enabled_specs(specs: list[ModelSpec]) -> list[ModelSpec]:
    """The entries a roster is built from: the enabled ones, or the offline pair."""
    return [s for s in specs if s.enabled] or list(DEFAULT_SPECS)


async def identify(roster: Roster, store: Store) -> Roster:
    """The roster with each contestant's identity as the store's records decide it."""
    wanted = [(c.spec.name, settings_hash(c.settings)) for c in roster.entries]
    return roster.identified(await store.pipeline_identities(wanted))
