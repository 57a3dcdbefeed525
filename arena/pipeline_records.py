"""Which pipeline settings each answer was given, and the names contestants are rated by.

Settings are stored once under their hash (``arena.pipelines.settings_hash``); each
answer points at its settings, and ``model_pipelines`` notes which settings each rated
name has answered with. From that, a configured entry's identity: its name while its
settings are ones that name has answered with, or while the name has no recorded
settings at all (a new name, or answers from before pipelines were recorded: the first
settings seen take them over); otherwise ``name #`` and the first six characters of
its settings' hash, a new contestant with no votes yet. Going back to the old settings
goes back to the old name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from arena.pipelines import settings_hash
from knowledge.sql import AsyncSession

__all__ = ["SUFFIX_CHARS", "identities", "latest_settings", "save_pipeline"]

SUFFIX_CHARS = 6  # of the settings' hash, after a changed contestant's name


async def save_pipeline(s: AsyncSession, model: str, settings: Mapping[str, object]) -> str:
    """Store ``settings`` for an answer of ``model``, inside the caller's transaction;
    returns their hash for the answer's row."""
    digest = settings_hash(settings)
    await s.execute(
        "INSERT INTO pipeline_settings (hash, settings) VALUES (?, ?)"
        " ON CONFLICT (hash) DO NOTHING",
        (digest, json.dumps(settings, sort_keys=True, default=str)),
    )
    await s.execute(
        "INSERT INTO model_pipelines (model, pipeline, first_at) VALUES (?, ?, ?)"
        " ON CONFLICT (model, pipeline) DO NOTHING",
        (model, digest, time.time()),
    )
    return digest


async def identities(s: AsyncSession, wanted: Sequence[tuple[str, str]]) -> dict[str, str]:
    """For each (configured name, settings hash), the name to rate it under."""
    out: dict[str, str] = {}
    for name, digest in wanted:
        rows = await s.fetchall("SELECT pipeline FROM model_pipelines WHERE model = ?", (name,))
        known = {row[0] for row in rows}
        out[name] = name if not known or digest in known else f"{name} #{digest[:SUFFIX_CHARS]}"
    return out


async def latest_settings(s: AsyncSession) -> dict[str, dict[str, object]]:
    """Each rated name's settings: those it most recently began answering with."""
    rows = await s.fetchall(
        "SELECT m.model, p.settings FROM model_pipelines m"
        " JOIN pipeline_settings p ON p.hash = m.pipeline"
        " ORDER BY m.first_at, m.model, m.pipeline"
    )
    return {model: json.loads(settings) for model, settings in rows}
