"""Sections to passages that fit the embedding model's window.

Text is never merged across sections (headings, pages, rows), so every passage has one
honest location. A section that fits stays whole. A longer one is cut into windows of
whole sentences, ending at a paragraph break where that keeps the window at least half
full, and each window repeats the last sentences of the one before (``overlap_tokens``)
so a fact that straddles a cut is still found whole. A sentence longer than a window
is cut between words. Token counts come from the embedder's own tokenizer, in batches.
A line that reads as a heading (short, capitalised, unpunctuated, between a finished
sentence and a capitalised line, as PDF and plain-text extraction leave them) is a
paragraph of its own, so it never becomes the first words of the sentence below it.
A full stop after an initial or a title ("Daniel A. Dailey", "St. Louis", "No. 5") does
not end a sentence, so neither a window nor an extracted answer cuts a name in two; one
followed by a closing quote or bracket ('"LWAY." Trading began') does.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from itertools import accumulate, pairwise

from .tokens import count_tokens_batch
from .types import LoadedDocument, Passage, Section

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_OVERLAP_TOKENS", "chunk_document", "split_sentences"]

DEFAULT_MAX_TOKENS = 200
DEFAULT_OVERLAP_TOKENS = 32
PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# after . ! ? (and any closing quote or bracket: 'the symbol "LWAY." Trading began'),
# before a capital or digit (and any opening quote or bracket)
SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)\]]))\s+(?=[\"'“‘(\[]?[A-Z0-9])")
# A word ending so is followed by more of its sentence, whatever the capital after it:
# initials ("A.", "U.S."; not "I.", a numeral that ends "World War I."), titles before a
# name, and abbreviations before a number. Words that often end a sentence ("Inc.",
# "Jr.", "etc.") are not here.
NOT_AN_END = re.compile(
    r"[(\[\"'“‘]?(?:(?:[A-Z]\.)*[A-HJ-Z]|(?i:e\.g|i\.e)|c|ca|cf|vs|approx|Adm|Capt|Cmdr|Col|Cpl|Dr"
    r"|Fr|Ft|Gen|Gov|Hon|Lt|Maj|Mr|Mrs|Ms|Mt|Prof|Pvt|Rep|Rev|Sen|Sgt|St|No|Nos|Vol|Fig|pp?"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\."
)
# a day before its month, as German writes a date ("am 1. März 2027"): one sentence
DAY_BEFORE_MONTH = re.compile(
    r"\d{1,2}\.\s(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September"
    r"|Oktober|November|Dezember)\b"
)
CLOSED = (".", "!", "?", ":")  # a line ending so has finished its sentence
LIST_ITEM = re.compile(r"\d+[.)]\s")  # "1. Run the tests", "2) Deploy"
MAX_HEADING_WORDS = 8


@dataclass(frozen=True)
class _Unit:
    """A sentence (or a piece of an over-long one) and the paragraph it belongs to."""

    text: str
    tokens: int
    paragraph: int


def chunk_document(
    doc: LoadedDocument,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
) -> list[Passage]:
    """Passages of at most ``max_tokens`` word pieces each, with stable ids."""
    if max_tokens < 1 or not 0 <= overlap_tokens < max_tokens:
        raise ValueError("need max_tokens >= 1 and 0 <= overlap_tokens < max_tokens")
    paragraphs = [_paragraphs_of(section.text) for section in doc.sections]
    counts = iter(count_tokens_batch([p for ps in paragraphs for p in ps]))
    passages: dict[str, Passage] = {}
    for section, section_paragraphs in zip(doc.sections, paragraphs, strict=True):
        section_counts = [next(counts) for _ in section_paragraphs]
        if sum(section_counts) <= max_tokens:
            texts = ["\n\n".join(section_paragraphs)] if section_paragraphs else []
        else:
            units = _units_of(section_paragraphs, max_tokens)
            texts = _windows(units, max_tokens, overlap_tokens)
        for ordinal, text in enumerate(texts):
            pid = _passage_id(doc.source, section, ordinal, text)
            passages.setdefault(  # the same text under the same heading is one passage
                pid,
                Passage(pid, text, doc.source, doc.title, section.heading_path, section.location),
            )
    return list(passages.values())


def _passage_id(source: str, section: Section, ordinal: int, text: str) -> str:
    """A hash of where the passage sits and what it says: stable across runs."""
    key = json.dumps([source, list(section.heading_path), section.location, ordinal, text])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:24]


def _paragraphs_of(text: str) -> list[str]:
    """Paragraphs split at blank lines and around heading lines, each on one line."""
    return [
        p
        for block in PARAGRAPH_BREAK.split(text)
        for p in (" ".join(part.split()) for part in _heading_lines_apart(block))
        if p
    ]


def _heading_lines_apart(block: str) -> list[str]:
    """The block's lines, with each heading line standing apart from the text around it.

    A heading line starts with a capital or digit, ends without punctuation, has at most
    a few words, is at most half as long as the block's longest line (a line wrapped
    mid-sentence runs nearly full width), follows a finished sentence or another
    heading, and is followed by a line that starts with a capital or digit.
    """
    lines = [line.strip() for line in block.splitlines()]
    if len(lines) < 2:
        return [block]
    width = max(map(len, lines))
    parts: list[str] = []
    current: list[str] = []
    after_break = True
    for line, following in zip(lines, [*lines[1:], ""], strict=True):
        heading = (
            after_break
            and _opens_sentence(line)
            and not line.endswith((*CLOSED, ",", ";"))
            and len(line.split()) <= MAX_HEADING_WORDS
            and 2 * len(line) <= width
            and _opens_sentence(following)
        )
        if heading:
            parts += ["\n".join(current), line]
            current = []
        else:
            current.append(line)
        after_break = heading or line.endswith(CLOSED)
    parts.append("\n".join(current))
    return parts


def _opens_sentence(text: str) -> bool:
    return text[:1].isupper() or text[:1].isdigit()


def split_sentences(text: str, *, headings: bool = True) -> list[str]:
    """Sentences of a text: paragraphs apart, cut after . ! ? before a capital or digit.

    With ``headings=False`` a paragraph that reads as a heading above the next one (a
    document's title line, a PDF page's section name) is left out: it names a topic and
    states nothing, so an answer quoting it reads as the title glued to its first line.
    """
    paragraphs = _paragraphs_of(text)
    return [
        sentence
        for n, paragraph in enumerate(paragraphs)
        if headings or n + 1 == len(paragraphs) or not _reads_as_heading(paragraph)
        for sentence in _sentences_of(paragraph)
    ]


def _reads_as_heading(paragraph: str) -> bool:
    """A short line opening with a capital or a number ("1973 oil crisis"), without closing
    punctuation; a table row ("Owner: Payments; Tier: 1") and a numbered step ("1. Run the
    tests") are not headings."""
    return (
        _opens_sentence(paragraph)
        and not LIST_ITEM.match(paragraph)
        and ";" not in paragraph
        and not paragraph.endswith((*CLOSED, ","))
        and len(paragraph.split()) <= MAX_HEADING_WORDS
    )


def _sentences_of(paragraph: str) -> list[str]:
    """A paragraph's sentences, not cut after an initial, a title, an abbreviation or a
    day before its month."""
    sentences: list[str] = []
    for piece in SENTENCE_END.split(paragraph):
        last = sentences[-1].rsplit(None, 1)[-1] if sentences else ""
        if sentences and (NOT_AN_END.fullmatch(last) or DAY_BEFORE_MONTH.match(f"{last} {piece}")):
            sentences[-1] += " " + piece
        elif piece:
            sentences.append(piece)
    return sentences


def _units_of(paragraphs: list[str], max_tokens: int) -> list[_Unit]:
    """The sentences of the paragraphs, with any sentence over the window cut into pieces."""
    sentences = [
        (n, sentence)
        for n, paragraph in enumerate(paragraphs)
        for sentence in _sentences_of(paragraph)
    ]
    sentence_counts = count_tokens_batch([s for _, s in sentences])
    units = []
    for (n, sentence), count in zip(sentences, sentence_counts, strict=True):
        if count <= max_tokens:
            units.append(_Unit(sentence, count, n))
        else:
            units += [
                _Unit(piece, size, n) for piece, size in _cut_between_words(sentence, max_tokens)
            ]
    return units


def _cut_between_words(text: str, max_tokens: int) -> list[tuple[str, int]]:
    """Pieces of at most ``max_tokens`` word pieces, cut at spaces.

    Word counts come from the remembered per-word counts, so this costs no tokenizer
    call; only a single word longer than a window (a long dotted path) is encoded.
    """
    words = text.split()
    pieces: list[tuple[str, int]] = []
    current: list[str] = []
    size = 0
    for word, count in zip(words, count_tokens_batch(words), strict=True):
        if current and (size + count > max_tokens or count > max_tokens):
            pieces.append((" ".join(current), size))
            current, size = [], 0
        if count > max_tokens:
            pieces += _cut_one_word(word, max_tokens)
        else:
            current.append(word)
            size += count
    if current:
        pieces.append((" ".join(current), size))
    return pieces


def _cut_one_word(word: str, max_tokens: int) -> list[tuple[str, int]]:
    """A word of more than ``max_tokens`` pieces, halved until every part fits.

    Such words are rare (long dotted paths, data blobs), so simple beats tight here;
    a single character is at most one piece, so the halving always ends.
    """
    count = count_tokens_batch([word])[0]
    if count <= max_tokens:
        return [(word, count)]
    middle = len(word) // 2
    return _cut_one_word(word[:middle], max_tokens) + _cut_one_word(word[middle:], max_tokens)


def _windows(units: list[_Unit], max_tokens: int, overlap_tokens: int) -> list[str]:
    """Pack units into windows of ``max_tokens``, each repeating a little of the last."""
    before = [0, *accumulate(u.tokens for u in units)]  # before[i]: tokens of units[:i]
    texts: list[str] = []
    start = 0
    while True:
        end = start + 1
        while end < len(units) and before[end + 1] - before[start] <= max_tokens:
            end += 1
        if end < len(units):  # prefer ending where a paragraph ends
            breaks = [
                b
                for b in range(start + 1, end)
                if units[b].paragraph != units[b - 1].paragraph
                and before[b] - before[start] >= max_tokens // 2
            ]
            end = breaks[-1] if breaks else end
        texts.append(_join_units(units[start:end]))
        if end == len(units):
            return texts
        budget = min(overlap_tokens, max_tokens - units[end].tokens)
        back = end
        while back - 1 > start and before[end] - before[back - 1] <= budget:
            back -= 1
        start = back


def _join_units(units: list[_Unit]) -> str:
    parts = [units[0].text]
    for previous, unit in pairwise(units):
        parts.append(("\n\n" if unit.paragraph != previous.paragraph else " ") + unit.text)
    return "".join(parts)
