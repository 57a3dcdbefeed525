"""The roster's status for ``parley models`` and doctor: every configured entry, ready
or not, with its pipeline's settings, and a tiny request to each ready one.

Kept apart from ``bot/service.py`` (which delegates here) so the service stays one
readable module; the rows are plain data, drawn by the CLI and the dashboard.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from arena.errors import ProviderError
from arena.models.base import Prompt
from arena.roster import Contestant, Roster
from arena.types import Question

__all__ = ["ModelCheck", "ModelStatus", "check_contestant", "model_statuses"]


@dataclass(frozen=True)
class ModelStatus:
    """One configured model: what it is, and whether it could be set up. ``name`` is the
    one it is rated and shown under (``name #hash`` once its settings changed, as the
    leaderboard shows it); ``configured_name`` the one parley.toml gives it."""

    name: str
    provider: str
    model: str
    ready: bool
    reason: str = ""
    pipeline: dict[str, object] = field(default_factory=dict)  # the settings it answers with
    configured_name: str = ""


@dataclass(frozen=True)
class ModelCheck:
    """The result of sending one model a tiny request."""

    name: str
    reachable: bool
    latency_ms: float
    error: str = ""


def model_statuses(roster: Roster) -> list[ModelStatus]:
    """Every configured model, ready or not, with what is wrong with the latter, and
    the pipeline settings each answers with; a ready one under the name it is rated
    under when ``roster`` was identified."""
    ready = [
        ModelStatus(
            c.name, c.spec.provider, c.spec.model, True, "", c.settings, configured_name=c.spec.name
        )
        for c in roster.entries
    ]
    skipped = [
        ModelStatus(
            spec.name,
            spec.provider,
            spec.model,
            False,
            why,
            roster.pipeline_for(spec).settings(spec),
            configured_name=spec.name,
        )
        for spec, why in roster.skipped
    ]
    return ready + skipped


async def check_contestant(contestant: Contestant) -> ModelCheck:
    """Send one contestant's model a tiny request, within its timeout."""
    prompt = Prompt(
        system="Reply with the single word OK.",
        messages=[{"role": "user", "content": "Are you there?"}],
        passages=[],
        question=Question("Are you there?"),
    )
    started = time.perf_counter()
    try:
        await asyncio.wait_for(
            contestant.provider.complete(prompt), timeout=contestant.spec.timeout
        )
    except ProviderError as exc:  # the row names the model: the reason and detail
        error = exc.reason + (f" ({exc.detail})" if exc.detail else "")
        return ModelCheck(contestant.name, False, _ms(started), error)
    except TimeoutError:
        return ModelCheck(contestant.name, False, _ms(started), "no reply within the timeout")
    return ModelCheck(contestant.name, True, _ms(started))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
