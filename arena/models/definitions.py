"""Questions that ask what a thing is, and the sentences that say it.

"What is a SEV1?" is best answered first by the sentence that defines SEV1 ("SEV1: a
full outage of checkout or login"), though search may rank higher a passage that only
names it beside others; ``offline-sentences`` leads with such a sentence when it chose
one. How the rule was checked on SQuAD and PACIFIC: docs/benchmarks.md.
"""

from __future__ import annotations

import re

from .stems import stem

__all__ = ["asked_about", "defines"]

# "What is a SEV1?", "What are phytoplankton?", "What does SLO mean?": the thing asked about
_ASKS_WHAT = re.compile(
    r"(?:what|who)(?:\s+(?:is|are|was|were)|'s)\s+(?:an?\s+|the\s+)?(?P<thing>[^?]+?)"
    r"|what\s+does\s+(?:an?\s+|the\s+)?(?P<term>[^?]+?)\s+(?:mean|stand\s+for)",
    re.IGNORECASE,
)
_MAX_THING_WORDS = 4  # longer, it is a question about the thing, not what it is
_ARTICLE = {"a", "an", "the"}
# after the thing, what opens its definition: "SEV1: a full outage", "SLO means ...";
# "is" only before an article ("Telenet was the first public data network"), since
# "The statocyst is protected by a dome" or "Stromules are rare" say something else;
# no dash, which a table row uses for an empty cell ("Tax Fees; —; —")
_DEFINING = {":", "means", "refers", "stands"}
_COPULA = {"is", "are", "was", "were"}


def asked_about(question: str) -> list[str] | None:
    """The stems of the thing a question asks to define ("What is a SEV1?": ["sev1"]);
    None for any other question."""
    asked = _ASKS_WHAT.fullmatch(question.strip().rstrip("?").strip())
    thing = asked and (asked.group("thing") or asked.group("term"))
    words = re.findall(r"[\w-]+", thing or "")
    return [stem(w.lower()) for w in words] if 0 < len(words) <= _MAX_THING_WORDS else None


def defines(thing: list[str], sentence: str) -> bool:
    """Whether a sentence opens with the thing and then says what it is ("SEV1: a full
    outage of checkout", "An SLO is a target for ...")."""
    tokens = re.findall(r"[\w-]+|:", sentence.lower())
    if tokens and tokens[0] in _ARTICLE:
        tokens = tokens[1:]
    n = len(thing)
    if [stem(t) for t in tokens[:n]] != thing or len(tokens) <= n:
        return False
    following = tokens[n : n + 2]
    if following[0] in _DEFINING:
        return True
    return following[0] in _COPULA and len(following) == 2 and following[1] in _ARTICLE
