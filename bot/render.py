"""What every chat surface does to an answer before posting it, whatever the platform.

Splitting a long answer into messages under a platform's limit, neutralising mentions
so that neither a model nor a document can ping anyone, the source lines under an
answer, and its faithfulness marks and their note. Slack, Discord, the console and the
CLI call these; only the markup around them differs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from arena.types import Answer

from . import messages
from .flags import SentenceFlag

__all__ = [
    "SourceLine",
    "flags_note",
    "marked_text",
    "neutralise_mentions",
    "source_lines",
    "source_note",
    "split_text",
]

_ZWSP = "\u200b"
# Slack control sequences (<!channel>, <!here|here>, <@U123>, <!subteam^S1>, <#C1>) and
# Discord's (<@123>, <@!123>, <@&123>), plus the bare words both platforms expand.
_ANGLE_MENTION = re.compile(r"<\s*([@!#])", re.IGNORECASE)
_BARE_MENTION = re.compile(r"@(?=(?:everyone|here|channel|all)\b)", re.IGNORECASE)
_FENCE = "```"
_SENTENCE_STOP = re.compile(r"[.!?…:;]+$")


def neutralise_mentions(text: str) -> str:
    """Break every mention form with a zero-width space, so it shows but never pings."""
    text = _ANGLE_MENTION.sub(lambda m: f"<{_ZWSP}{m.group(1)}", text)
    return _BARE_MENTION.sub(f"@{_ZWSP}", text)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at the gentlest boundary that fits:
    a blank line, a line end, a sentence end, a space, and only then mid-word. A code
    block cut in two is closed at the end of one piece and reopened in the next."""
    if limit < 2 * len(_FENCE) + 2:
        raise ValueError(f"limit {limit} is too small to split text sensibly")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit - len(_FENCE) - 1)
        piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if piece.count(_FENCE) % 2:  # inside a code block: close it here, reopen next
            piece += "\n" + _FENCE
            rest = _FENCE + "\n" + rest
        pieces.append(piece)
    if rest:
        pieces.append(rest)
    return pieces


def _cut_point(text: str, limit: int) -> int:
    window = text[:limit]
    for boundary in ("\n\n", "\n", ". ", "? ", "! ", " "):
        at = window.rfind(boundary)
        if at > limit // 3:  # not so early that pieces become slivers
            return at + len(boundary)
    return limit


@dataclass(frozen=True)
class SourceLine:
    """One numbered source under an answer: title, where in it, and a link if it has one.
    ``web`` marks a page found by web search (its link is the page), which every surface
    shows apart from the team's documents."""

    number: int
    title: str
    location: str
    link: str | None
    web: bool = False


def source_lines(answer: Answer) -> list[SourceLine]:
    """The answer's citations as source lines; a source that is a URL becomes the link."""
    lines = []
    for citation in answer.citations:
        passage = citation.passage
        lines.append(
            SourceLine(
                citation.number,
                neutralise_mentions(passage.title or passage.display_source),
                neutralise_mentions(passage.place),
                passage.source if passage.is_web else None,
                passage.is_web,
            )
        )
    return lines


def source_note(answer: Answer) -> str | None:
    """Why the answer has fewer sources than its pipeline reads (a failed web search),
    mentions broken: the reason may quote a search engine's reply."""
    return neutralise_mentions(answer.source_note) if answer.source_note else None


def marked_text(text: str, flags: Sequence[SentenceFlag] | None) -> str:
    """The answer's text with a mark on each flagged sentence, where a citation would
    stand: before its final stop ("... at 5pm [2] [?]."), else at its end."""
    if not flags:
        return text
    pieces, at = [], 0
    for flag in sorted((f for f in flags if f.flagged), key=lambda f: f.start):
        stop = _SENTENCE_STOP.search(text, flag.start, flag.end)
        cut = stop.start() if stop else flag.end
        pieces += [text[at:cut], " ", messages.FLAG_MARKS[flag.support]]
        at = cut
    return "".join([*pieces, text[at:]])


def flags_note(flags: Sequence[SentenceFlag] | None) -> str | None:
    """The line that explains an answer's marks; None when nothing is marked."""
    marked = [f.support for f in flags or () if f.flagged]
    return messages.flags_note(marked.count("contradicted"), marked.count("unverifiable"))
