"""The contestants: the ``[[models]]`` of parley.toml, or the two offline answerers.

A model that cannot run (its key is missing) is left out with one log line and shown
by ``parley models`` with the reason; it never stops the bot from starting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from arena.errors import ConfigError, ProviderError
from arena.types import ModelSpec

from .models import LOCAL_PROVIDERS, PROVIDERS, Provider, provider_factory

if TYPE_CHECKING:
    from knowledge.processes import WorkerProcesses

__all__ = ["DEFAULT_SPECS", "Contestant", "Roster", "build_roster"]

log = logging.getLogger(__name__)

DEFAULT_SPECS = (
    ModelSpec(name="offline-sentences", provider="offline-sentences"),
    ModelSpec(name="offline-passages", provider="offline-passages"),
)


@dataclass(frozen=True)
class Contestant:
    """A roster entry that is ready to answer."""

    spec: ModelSpec
    provider: Provider

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass
class Roster:
    entries: list[Contestant] = field(default_factory=list)
    skipped: list[tuple[ModelSpec, str]] = field(default_factory=list)  # (spec, why not)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.entries]

    def get(self, name: str) -> Contestant:
        for contestant in self.entries:
            if contestant.name == name:
                return contestant
        raise ConfigError(
            f"no ready model named {name!r}; ready: {', '.join(self.names) or 'none'}"
        )


def build_roster(specs: list[ModelSpec], processes: WorkerProcesses | None = None) -> Roster:
    """Ready contestants from the specs; with none enabled, the offline pair. Models that
    answer on this machine's CPU compose their answers in ``processes`` when given."""
    enabled = [s for s in specs if s.enabled] or list(DEFAULT_SPECS)
    names = [s.name for s in enabled]
    if len(set(names)) != len(names):
        raise ConfigError(f"model names must be unique: {names}")
    roster = Roster()
    for spec in enabled:
        factory = provider_factory(spec.provider)
        if factory is None:
            known = ", ".join(PROVIDERS)
            raise ConfigError(f"model {spec.name!r}: unknown provider {spec.provider!r} ({known})")
        try:
            local = processes is not None and spec.provider in LOCAL_PROVIDERS
            provider = factory(spec, processes=processes) if local else factory(spec)  # type: ignore[call-arg]
            roster.entries.append(Contestant(spec, provider))
        except ProviderError as exc:
            log.warning("model %s left off the roster: %s", spec.name, exc.detail or exc.reason)
            roster.skipped.append((spec, exc.detail or exc.reason))
    return roster
