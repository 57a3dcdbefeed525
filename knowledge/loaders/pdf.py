"""PDF: pypdf, one section per page, so a passage can say which page it came from."""

from __future__ import annotations

import io
import logging

from ..errors import LoadError
from ..types import Section

__all__ = ["load_pdf"]

log = logging.getLogger(__name__)


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
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception as exc:
        raise LoadError(f"not a valid PDF: {exc}") from exc
    sections, errors = [], []
    for number, page in enumerate(pages, 1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # one damaged page should not cost the others
            errors.append(f"page {number}: {exc}")
            continue
        if text.strip():
            sections.append(Section(text.strip(), location=f"page {number}"))
    if errors and len(errors) == len(pages):
        raise LoadError(f"not a valid PDF: {errors[0]}")
    for error in errors:
        log.warning("skipped unreadable PDF %s", error)
    if not sections:
        raise LoadError("the PDF has no extractable text (scanned pages need OCR)")
    return str(title).strip(), sections
