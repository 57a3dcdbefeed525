"""Sections to passages that fit the embedding model's window.

Text is never merged across sections (headings, pages, rows), so every passage has one
honest location. Long sections are cut at paragraphs, then sentences, with a small
overlap of whole sentences so a fact split across a boundary is still found.
"""

from __future__ import annotations

import hashlib
import re

from .tokens import load_tokenizer
from .types import LoadedDocument, Passage, Section

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_OVERLAP_TOKENS", "chunk_document", "split_sentences"]

DEFAULT_MAX_TOKENS = 200
DEFAULT_OVERLAP_TOKENS = 32
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")


def chunk_document(
    doc: LoadedDocument,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
) -> list[Passage]:
    """Passages of at most ``max_tokens`` word pieces, with stable ids."""
    passages: list[Passage] = []
    for section in doc.sections:
        texts = split_section(section.text, max_tokens, overlap_tokens)
        passages += [
            Passage(
                id=passage_id(doc.source, section, ordinal, text),
                text=text,
                source=doc.source,
                title=doc.title,
                heading_path=section.heading_path,
                location=section.location,
            )
            for ordinal, text in enumerate(texts)
        ]
    return passages


def passage_id(source: str, section: Section, ordinal: int, text: str) -> str:
    key = "\x1f".join([source, *section.heading_path, section.location, str(ordinal), text])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def split_section(text: str, max_tokens: int, overlap_tokens: int) -> list[str]:
    """Pack sentence-sized units into windows of ``max_tokens``, overlapping a little."""
    units, counts = fitting_units(units_of(text), max_tokens)
    if sum(counts) <= max_tokens:
        return [" ".join(text.split()) if len(units) == 1 else "\n".join(units)]
    windows: list[str] = []
    start = 0
    while start < len(units):
        end, size = start, 0
        while end < len(units) and (end == start or size + counts[end] <= max_tokens):
            size += counts[end]
            end += 1
        windows.append(" ".join(units[start:end]))
        if end >= len(units):
            break
        back, carried = end, 0
        while back - 1 > start and carried + counts[back - 1] <= overlap_tokens:
            back -= 1
            carried += counts[back]
        start = back
    return windows


def token_counts(texts: list[str]) -> list[int]:
    return [len(e.ids) for e in load_tokenizer().encode_batch(texts, add_special_tokens=False)]


def fitting_units(units: list[str], max_tokens: int) -> tuple[list[str], list[int]]:
    """Units and their token counts, with any unit over the window cut between words."""
    out: list[str] = []
    counts: list[int] = []
    for unit, count in zip(units, token_counts(units), strict=True):
        if count <= max_tokens or len(unit.split()) == 1:
            out.append(unit)
            counts.append(min(count, max_tokens))  # a lone giant word is truncated when embedded
            continue
        words = unit.split()
        half = len(words) // 2
        parts, part_counts = fitting_units(
            [" ".join(words[:half]), " ".join(words[half:])], max_tokens
        )
        out += parts
        counts += part_counts
    return out, counts


def units_of(text: str) -> list[str]:
    """Paragraphs, with paragraphs split into sentences."""
    return [
        sentence
        for paragraph in re.split(r"\n\s*\n", text)
        for sentence in split_sentences(paragraph)
    ]


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, cut after . ! ? before a capital or digit."""
    return [s for s in SENTENCE_END.split(" ".join(text.split())) if s]
