"""Live faithfulness flags: which sentences of an answer its sources do not support.

A sentence is marked where ``arena.judge.support`` flags it (``SentenceSupport.flagged``):
contradicted by the passages, or unverifiable because it states a number or a name they
never do. A sentence whose words are merely not in the passages is listed as
unverifiable but not marked: hosted answers are full of true general remarks, and a mark
on each would be ignored.

The service computes them once per single answer, after the answer is complete, in a
worker thread (``flags_for``); every surface only renders them. An answer is held
against exactly the passages its prompt carried (``Answer.shown``), each with its title
and place above its text (``Passage.as_shown``: what the document says the text is about,
as the prompt shows it; audits hold stored answers against the same), and each sentence
names the source under the answer that it matched, numbered as the sources are shown.

What is left out, so it is never marked: sentences that claim nothing (questions,
greetings, hedges: ``not_a_claim``), Parley's own "could not find this" and "nothing
dated within the days asked" lines (they say what the search found, not what the
documents say), and code inside ``` fences (a
command is not a claim). An answer the check cannot measure (another language than its
passages, too long) has no flags at all, which the surfaces show as nothing: no marks
and no reassurance.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from arena.compose import NO_ENTRY, NOT_FOUND
from arena.types import Answer

if TYPE_CHECKING:  # the check and its stemmer load on the first answer, not in reports
    from arena.judge.support import SentenceSupport

__all__ = ["Flag", "SentenceFlag", "flags_for", "sentence_flags"]

Flag = Literal["supported", "contradicted", "unverifiable"]
# Parley's own lines, about what the search found rather than what the documents say
_OWN_LINES = (NOT_FOUND.lower(), NO_ENTRY.partition("(")[0].lower())
_FENCED = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentenceFlag:
    """One claim-bearing sentence of an answer: its verdict, the number of the source
    under the answer it matched (None: none of those listed), and where it stands in
    the answer's text (``start``, ``end``), so a surface can mark it in place."""

    text: str
    support: Flag
    source: int | None
    start: int
    end: int
    flagged: bool  # marked: contradicted, or a number or name the sources never state

    def as_dict(self) -> dict[str, object]:
        """The ``ask --json`` shape."""
        return {
            "text": self.text,
            "support": self.support,
            "passage": self.source,
            "flagged": self.flagged,
        }


def _source_numbers(answer: Answer) -> list[int | None]:
    """For each passage the answer was shown, the number of the source listed under the
    answer for it: citations share a number per file and place, as readers see them."""
    numbers = {(c.passage.source, c.passage.place): c.number for c in answer.citations}
    return [numbers.get((p.source, p.place)) for p in answer.shown]


def _is_stated(sentence: SentenceSupport, fenced: Sequence[tuple[int, int]]) -> bool:
    text = sentence.text.lower()
    if sentence.support == "not_a_claim" or any(line in text for line in _OWN_LINES):
        return False
    return not any(start <= sentence.start < end for start, end in fenced)


def sentence_flags(answer: Answer) -> list[SentenceFlag] | None:
    """The answer's claim sentences in order, each with its verdict; None when the check
    cannot measure the answer (or it failed). Pure; safe in any thread."""
    from arena.judge.support import check_support

    if not answer.ok or not answer.text.strip():
        return None
    # "From Super Bowl 50: “...”" quotes the title: "50" is in the source, not invented
    checked = check_support(answer.text, [p.as_shown() for p in answer.shown])
    if not checked:  # unmeasured: the check says why in audits; live, nothing is shown
        return None
    fenced = [m.span() for m in _FENCED.finditer(answer.text)]
    sources = _source_numbers(answer)
    return [
        SentenceFlag(
            s.text,
            cast(Flag, s.support),  # not_a_claim was left out above
            None if s.passage_index is None else sources[s.passage_index],
            s.start,
            s.end,
            s.flagged,
        )
        for s in checked
        if _is_stated(s, fenced)
    ]


async def flags_for(answer: Answer) -> list[SentenceFlag] | None:
    """``sentence_flags`` in a worker thread, so the event loop keeps acknowledging; a
    failure of the check costs the marks, never the answer."""
    try:
        return await asyncio.to_thread(sentence_flags, answer)
    except Exception:  # the answer is delivered unmarked whatever the check does
        log.exception("the support check failed on an answer by %s", answer.model)
        return None
