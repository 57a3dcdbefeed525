"""The judge: grades answers against the passages they were shown, makes canaries that
must score low, judges battles in both orders, and measures agreement with people.

``build_judge`` picks the judge a configuration names: a roster model (structured
output, ``arena.judge.llm``) or, by default, the offline judge (``arena.judge.offline``).
Importing this package loads no judge: settings and the leaderboard read its constants
without paying for the grading stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from arena.errors import ConfigError

if TYPE_CHECKING:
    from arena.roster import Roster
    from arena.types import ModelSpec

    from .grades import Case, Grade
    from .pairwise import Preference

__all__ = ["DEFAULT_SAMPLE", "OFFLINE", "Judge", "build_judge", "judge_spec"]

OFFLINE = "offline"
DEFAULT_SAMPLE = 20  # answers an audit grades when not told how many


class Judge(Protocol):
    """What every judge offers: grades in input order, and a preference between two."""

    name: str

    async def grade(self, case: Case) -> Grade: ...

    async def grade_many(self, cases: Sequence[Case]) -> list[Grade]: ...

    async def prefer(self, first: Case, second: Case) -> Preference | None: ...


def build_judge(name: str | None, roster: Roster, timeout: float | None = None) -> Judge:
    """The offline judge for None or "offline", else the roster model of that name."""
    if name is None or name == OFFLINE:
        from .offline import OfflineJudge

        return OfflineJudge()
    from .llm import DEFAULT_GRADE_TIMEOUT, LLMJudge

    return LLMJudge(roster.get(name), timeout=timeout or DEFAULT_GRADE_TIMEOUT)


def judge_spec(name: str | None, specs: list[ModelSpec]) -> ModelSpec | None:
    """The entry that judges as ``name`` on the roster built from ``specs``, so the judge
    can be checked, or built alone, without the rest; None for the offline judge.
    Raises ConfigError, naming the entries that can judge (those with structured
    output), when the roster has no such entry or it cannot judge."""
    if name is None or name == OFFLINE:
        return None
    from arena.models import STRUCTURED_PROVIDERS
    from arena.roster import enabled_specs

    enabled = enabled_specs(specs)
    judges = [s for s in enabled if s.provider in STRUCTURED_PROVIDERS]
    choices = ", ".join(repr(s.name) for s in judges)
    choose = (
        f"choose {choices}, or {OFFLINE!r} for the offline judge"
        if judges
        else f"choose {OFFLINE!r} for the offline judge (only an openai or anthropic entry"
        " can judge)"
    )
    for spec in enabled:
        if spec.name == name and spec in judges:
            return spec
        if spec.name == name:
            raise ConfigError(
                f"model {name!r} cannot judge: provider {spec.provider!r} has no structured"
                f" output; {choose}"
            )
    raise ConfigError(f"no model named {name!r} in the roster to judge with; {choose}")
