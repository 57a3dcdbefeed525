"""From ``[n]`` markers in an answer to the sources shown under it.

Markers that point at no passage are removed; the sources list holds only what was
cited, or the top passages marked as uncited when the model cited nothing.
"""

from __future__ import annotations

import re

from arena.types import Citation
from knowledge.types import Hit

__all__ = ["FALLBACK_SOURCES", "cited_numbers", "resolve_citations"]

FALLBACK_SOURCES = 3
MARKER = re.compile(r"\[(\d+(?:\s*[-–,]\s*\d+)*)\]")


def expand(group: str) -> list[int]:
    """``"1, 3-4"`` → ``[1, 3, 4]``."""
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", group):
        if re.search(r"[-–]", part):
            low, high = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            numbers += range(low, high + 1) if high - low < 50 else [low, high]
        else:
            numbers.append(int(part))
    return numbers


def cited_numbers(text: str) -> list[int]:
    """Every number cited, in order of first appearance."""
    seen = [n for match in MARKER.finditer(text) for n in expand(match.group(1))]
    return list(dict.fromkeys(seen))


def resolve_citations(text: str, passages: list[Hit]) -> tuple[str, list[Citation], bool]:
    """(text without dangling markers, citations, whether the list is an uncited fallback)."""

    def keep_valid(match: re.Match[str]) -> str:
        valid = [n for n in expand(match.group(1)) if 1 <= n <= len(passages)]
        return "".join(f"[{n}]" for n in dict.fromkeys(valid))

    clean = MARKER.sub(keep_valid, text)
    clean = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", clean)).strip()
    numbers = [n for n in cited_numbers(clean) if 1 <= n <= len(passages)]
    if numbers:
        return clean, [Citation(n, passages[n - 1].passage) for n in sorted(numbers)], False
    top = passages[:FALLBACK_SOURCES]
    return clean, [Citation(n, h.passage) for n, h in enumerate(top, 1)], bool(top)
