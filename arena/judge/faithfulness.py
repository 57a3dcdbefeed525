"""The faithfulness criterion read from the support check, for the offline judge's grade
and as the second opinion beside an LLM judge in audits.

Contradictions come first: any contradicted claim makes the answer Worse. Then the
unverifiable share: an answer whose claims are all unverifiable is Bad; one with a
supported core is at least Fair however much it adds around it (a true remark the
passages do not hold is unverifiable, not wrong), and Good as the support value rises;
Excellent only when every claim is supported. So an answer that elaborates is never
graded below one that contradicts.
An answer that claims nothing (a question back, a greeting, an opinion, a refusal) is
not graded on faithfulness at all: it is neither unfaithful nor a model of faithfulness,
so the criterion is unmeasured, with the reason ``NOTHING_STATED``.
"""

from __future__ import annotations

from .grades import LEVEL_VALUE, Judged, Level
from .support import ClaimSupport, SupportCheck

__all__ = [
    "FAITHFUL",
    "NOTHING_STATED",
    "VALUE_STEPS",
    "is_faithful",
    "judged_faithfulness",
    "unmeasured_faithfulness",
]

VALUE_STEPS: tuple[tuple[float, Level], ...] = ((0.9, "Excellent"), (0.75, "Good"))
FAITHFUL: Level = "Good"  # at or above this level a faithfulness verdict counts as faithful
NAMED = 3  # claims quoted in a reason
QUOTED_WORDS = 12  # words of each claim quoted
NOTHING_STATED = "states nothing the passages could support"


def _quote(claims: list[ClaimSupport]) -> str:
    shown = []
    for claim in claims[:NAMED]:
        words = claim.text.split()
        text = " ".join(words[:QUOTED_WORDS]) + (" ..." if len(words) > QUOTED_WORDS else "")
        shown.append(f'"{text}" ({claim.reason})')
    more = f"; and {len(claims) - NAMED} more" if len(claims) > NAMED else ""
    return "; ".join(shown) + more


def unmeasured_faithfulness(check: SupportCheck) -> str | None:
    """Why the criterion cannot be graded from the check, or None when it can."""
    if check.unmeasured is not None:
        return check.unmeasured
    return None if check.claims else NOTHING_STATED


def judged_faithfulness(check: SupportCheck) -> Judged | None:
    """The criterion's verdict, naming the claims behind it; None when unmeasured
    (``unmeasured_faithfulness`` says why)."""
    if unmeasured_faithfulness(check) is not None:
        return None
    claims = check.claims
    contradicted = check.of("contradicted")
    if contradicted:
        return Judged(reason=f"Contradicts the passages: {_quote(contradicted)}.", level="Worse")
    unverifiable = check.of("unverifiable")
    if len(unverifiable) == len(claims):
        return Judged(reason=f"No claim is in the passages: {_quote(unverifiable)}.", level="Bad")
    value = check.value or 0.0
    steps = VALUE_STEPS if not unverifiable else VALUE_STEPS[1:]  # Excellent: all supported
    level = next((lvl for step, lvl in steps if value >= step), "Fair")
    supported = len(claims) - len(unverifiable)
    reason = f"{supported} of {len(claims)} claims supported by the passages"
    if unverifiable:
        reason += f"; not in them: {_quote(unverifiable)}"
    return Judged(reason=reason + ".", level=level)


def is_faithful(judged: Judged) -> bool:
    return LEVEL_VALUE[judged.level] >= LEVEL_VALUE[FAITHFUL]
