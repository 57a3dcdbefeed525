"""From ``[n]`` markers in an answer to the sources shown under it.

Markers that point at no passage are removed; the sources list holds only what was
cited, or the top passages marked as uncited when the model cited nothing. A reader
sees a source as its file and place, so passages that share both are one source with
one number, and the numbers run 1..n without gaps.
"""

from __future__ import annotations

import re

from arena.types import Citation
from knowledge.types import Hit, Passage

__all__ = ["FALLBACK_SOURCES", "MARKER", "cited_numbers", "resolve_citations"]

FALLBACK_SOURCES = 3
MARKER = re.compile(r"\[(\d+(?:\s*[-–,]\s*\d+)*)\]")
MARKER_RUN = re.compile(rf"{MARKER.pattern}(?:[ \t]*{MARKER.pattern})*")


def _expand(group: str) -> list[int]:
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
    seen = [n for match in MARKER.finditer(text) for n in _expand(match.group(1))]
    return list(dict.fromkeys(seen))


def _source_key(passage: Passage) -> tuple[str, str]:
    """What a reader tells sources apart by: the file and the place in it."""
    return passage.source, passage.place


def resolve_citations(text: str, passages: list[Hit]) -> tuple[str, list[Citation], bool]:
    """(text with markers renumbered, citations, whether the list is an uncited fallback).

    Sources are numbered in the order the answer first cites them, so the text reads
    [1], [2], ... from the top; passages sharing a source and place take that source's
    number, and the one listed for it is the best-ranked of them.
    """
    numbers: dict[tuple[str, str], int] = {}
    renumbered: dict[int, int] = {}
    for n in cited_numbers(text):
        if 1 <= n <= len(passages):
            key = _source_key(passages[n - 1].passage)
            renumbered[n] = numbers.setdefault(key, len(numbers) + 1)

    def renumber(run: re.Match[str]) -> str:
        cited = [renumbered.get(n) for m in MARKER.finditer(run.group()) for n in _expand(m[1])]
        return "".join(f"[{n}]" for n in dict.fromkeys(cited) if n)

    clean = MARKER_RUN.sub(renumber, text)
    clean = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", clean)).strip()
    if renumbered:
        listed: dict[int, Passage] = {}
        for n in sorted(renumbered):
            listed.setdefault(renumbered[n], passages[n - 1].passage)
        return clean, [Citation(n, listed[n]) for n in sorted(listed)], False
    places: dict[tuple[str, str], Passage] = {}
    for hit in passages:
        places.setdefault(_source_key(hit.passage), hit.passage)
    top = list(places.values())[:FALLBACK_SOURCES]
    return clean, [Citation(n, passage) for n, passage in enumerate(top, 1)], bool(top)
