"""PDF: pypdf, with headings found by type size and every section on one page.

A PDF has no markup for headings, only bigger type. The size most of the text is set in
is the body size; a short line set clearly larger is a heading, and the larger its size
the higher its level. So "Meals" becomes the heading of the paragraph below it, not the
first word of that paragraph's first sentence, and a passage says which page it is on.
"""

from __future__ import annotations

import io
import logging
import math
from collections import Counter
from collections.abc import Iterator, Sequence

from ..errors import LoadError
from ..types import Section
from .common import PlacedBlock, sections_from_blocks, squash

__all__ = ["load_pdf"]

log = logging.getLogger(__name__)

HEADING_RATIO = 1.15  # a line this much larger than the body text is a heading ...
MAX_HEADING_WORDS = 20  # ... unless it is longer than a heading ever is
MAX_LEVELS = 6

Line = tuple[str, float]  # text and the type size most of its characters are set in


def load_pdf(data: bytes) -> tuple[str, list[Section]]:
    """Damaged pages are skipped and logged; only a file with no readable page fails."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        raise LoadError(f"not a valid PDF: {exc}") from exc
    if encrypted:
        try:
            opened = reader.decrypt("")  # many PDFs lock only editing, not reading
        except Exception as exc:
            raise LoadError(f"the PDF is encrypted and cannot be opened: {exc}") from exc
        if not opened:
            raise LoadError("the PDF is encrypted and needs a password")
    try:
        pages = list(reader.pages)
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as exc:
        raise LoadError(f"not a valid PDF: {exc}") from exc
    lines: list[tuple[int, list[Line]]] = []
    errors = []
    for number, page in enumerate(pages, 1):
        try:
            lines.append((number, _page_lines(page)))
        except Exception as exc:  # one damaged page should not cost the others
            errors.append(f"page {number}: {exc}")
    if errors and len(errors) == len(pages):
        raise LoadError(f"not a valid PDF: {errors[0]}")
    for error in errors:
        log.warning("skipped unreadable PDF %s", error)
    title, sections = sections_from_blocks(_blocks(lines))
    if not sections:
        raise LoadError("the PDF has no extractable text (scanned pages need OCR)")
    return str(meta_title).strip() or title, sections


def _page_lines(page: object) -> list[Line]:
    """The page's text lines as pypdf extracts them, each with its dominant type size."""
    pieces: list[tuple[str, float]] = []

    def visit(text: str, cm: Sequence[float], tm: Sequence[float], font: object, size: float):
        # the size set with Tf, scaled by the text and transformation matrices
        pieces.append((text, size * math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    lines: list[Line] = []
    text, sizes = "", Counter[float]()
    for piece, size in pieces:
        *ended, rest = piece.split("\n")
        for part in ended:
            text += part
            sizes[round(size, 1)] += len(part.strip())
            lines.append((text, sizes.most_common(1)[0][0] if sizes.total() else 0.0))
            text, sizes = "", Counter()
        text += rest
        sizes[round(size, 1)] += len(rest.strip())
    lines.append((text, sizes.most_common(1)[0][0] if sizes.total() else 0.0))
    return [(squash(t), s) for t, s in lines if t.strip()]


def _blocks(pages: list[tuple[int, list[Line]]]) -> Iterator[PlacedBlock]:
    """Headings and runs of body lines, in reading order, each placed on its page."""
    weight = Counter[float]()
    for _, lines in pages:
        for text, size in lines:
            weight[size] += len(text)
    if not weight:
        return
    body = weight.most_common(1)[0][0]
    sizes = sorted({s for s in weight if s >= body * HEADING_RATIO}, reverse=True)
    levels = {size: min(n, MAX_LEVELS) for n, size in enumerate(sizes, 1)}
    for number, lines in pages:
        location = f"page {number}"
        run: list[str] = []
        level_of_run = 0
        for text, size in lines:
            level = levels.get(size, 0) if len(text.split()) <= MAX_HEADING_WORDS else 0
            if run and level != level_of_run:  # a heading's wrapped lines join up, too
                yield level_of_run, "\n".join(run), location
                run = []
            run.append(text)
            level_of_run = level
        if run:
            yield level_of_run, "\n".join(run), location
