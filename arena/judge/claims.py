"""An answer's claims: its sentences, and the clauses where a sentence joins two.

What the support check holds against the passages is a claim: something the answer
states. Questions ("Which team do you mean?"), greetings and thanks ("Hope this
helps!"), bare agreement ("Yes, that's right.") and hedges that state nothing ("I'm not
sure.") are sentences but not claims, so they are never flagged. A sentence that joins
two statements ("Tours start at 9, and the museum closes at 5") is two claims, so one
unsupported half is not hidden by a supported one.

Each sentence keeps its place in the answer (``start``, ``end``), so a surface can mark
it where it stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..citations import MARKER_RUN
from .facts import WORD

__all__ = [
    "MAX_SENTENCE_WORDS",
    "Sentence",
    "clauses_of",
    "is_claim",
    "sentences_of",
]

# A sentence ends at . ! ? (or a line break) before the next word, whatever its case:
# chat answers are often written in lower case. An initial ("Daniel A. Dailey") or a
# short abbreviation ("e.g.", "Mr.", "No.") does not end one.
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_NOT_AN_END = re.compile(
    r"(?:\b[A-Za-z]|\b(?:e\.g|i\.e|etc|vs|cf|approx|Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|No|Fig|Inc|Ltd|Co"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec))\.[\"')\]]*\s*$"
)
# citation markers just after a sentence's end, on its line ("... automatically. [1] Larger
# ..."): the sentence's own, not the start of the next
_CITED = re.compile(rf"({MARKER_RUN.pattern}[.!?]?)(?:\s+|$)")
MAX_SENTENCE_WORDS = 60  # a longer "sentence" (a table row, a code line run) is cut here
# Two statements joined: a semicolon, or a comma and a conjunction before a new subject
_JOIN = re.compile(r";\s+|,\s+(?:and|but|while|whereas|although|though|so|yet)\s+", re.I)
_MIN_CLAUSE_WORDS = 4  # shorter halves ("red, and blue") are one claim's list, not two

_PLEASANTRY = (
    r"(?:hi|hello|hey|thanks|thank you|thank|you're welcome|welcome|good (?:morning|afternoon"
    r"|evening|luck)|cheers|sure|ok|okay|yes|yeah|yep|no|nope|indeed|right|great|cool|awesome"
    r"|nice|wow|oh|ah|haha|lol|hmm|well|sorry|of course|absolutely|exactly|correct|agreed|true"
    r"|i agree|me too|that's (?:right|correct|true|great|cool|interesting|awesome|nice|good)"
    r"|that is (?:right|correct|true|great|interesting)|you're right|you are right"
    r"|good question|great question|interesting|i see|got it|sounds good|no problem"
    r"|hope (?:this|that) helps|glad to help|happy to help|let me know[^.!?]*"
    r"|feel free to ask[^.!?]*|have a (?:nice|good|great) (?:day|one)"
    r"|there|everyone|all|so much|again|for asking|friend)"
)
# a sentence made only of greetings, thanks and bare agreement ("Yes, that's right!")
_GREETING = re.compile(rf"^{_PLEASANTRY}(?:[\s,!.:;-]+{_PLEASANTRY})*[\s!.,:;-]*$", re.I)
_HEDGE = re.compile(
    r"^(?:i(?:'m| am) not (?:sure|certain)|i don't know|i do not know|i'm unsure|not sure"
    r"|i can't say|i cannot say|i'm not aware|i am not aware|i have no idea"
    r"|it depends|hard to say|who knows)(?:\W+\w+){0,3}[\W]*$",
    re.I,
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer, where it stands in the answer's text."""

    text: str
    start: int
    end: int


def sentences_of(text: str) -> list[Sentence]:
    """The answer's sentences in order, each with its offsets; over-long ones cut."""
    pieces, start = [], 0
    for match in _END.finditer(text):
        if "\n" not in match.group() and _NOT_AN_END.search(text[start : match.end()].rstrip()):
            continue
        end, after = match.start(), match.end()
        if "\n" not in match.group() and (cited := _CITED.match(text, after)):
            end, after = cited.end(1), cited.end()
        pieces.append((start, end))
        start = after
    pieces.append((start, len(text)))
    sentences = []
    for begin, finish in pieces:
        raw = text[begin:finish]
        stripped = raw.strip()
        if not stripped:
            continue
        offset = begin + raw.index(stripped)
        sentences += _cut_long(stripped, offset)
    return sentences


def _cut_long(text: str, offset: int) -> list[Sentence]:
    """A sentence over ``MAX_SENTENCE_WORDS`` words in pieces of at most that many."""
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    if len(spans) <= MAX_SENTENCE_WORDS:
        return [Sentence(text, offset, offset + len(text))]
    out = []
    for at in range(0, len(spans), MAX_SENTENCE_WORDS):
        chunk = spans[at : at + MAX_SENTENCE_WORDS]
        begin, finish = chunk[0][0], chunk[-1][1]
        out.append(Sentence(text[begin:finish], offset + begin, offset + finish))
    return out


def is_claim(sentence: str) -> bool:
    """Whether the sentence states something: not a question, greeting, thanks, bare
    agreement or hedge, and not empty of words."""
    flat = " ".join(sentence.split())
    if not WORD.search(flat) or flat.rstrip(" )\"'").endswith("?"):
        return False
    return not (_GREETING.match(flat) or _HEDGE.match(flat))


def clauses_of(sentence: str) -> list[str]:
    """The claims of one sentence: the sentence, or its parts where it joins two
    statements that each have a few words; questions and pleasantries among them left out."""
    cuts = [0]
    for join in _JOIN.finditer(sentence):
        cuts += [join.start(), join.end()]
    cuts.append(len(sentence))
    parts = [(cuts[n], cuts[n + 1]) for n in range(0, len(cuts), 2)]
    merged: list[tuple[int, int]] = []
    for start, end in parts:
        words = len(sentence[start:end].split())
        if merged and min(words, len(sentence[slice(*merged[-1])].split())) < _MIN_CLAUSE_WORDS:
            merged[-1] = (merged[-1][0], end)  # too short to stand alone: kept with the last
        else:
            merged.append((start, end))
    claims = [sentence[start:end].strip(" ,;") for start, end in merged]
    return [c for c in claims if is_claim(c)]
