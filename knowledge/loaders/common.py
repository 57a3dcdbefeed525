"""What the format loaders share: text decoding, whitespace, and sections from blocks.

Text files must be UTF-8 (a BOM is fine, UTF-16 with a BOM too). A few undecodable
bytes are replaced with U+FFFD and the file is kept; a file where more than 1% of the
characters cannot be decoded is not text Parley can read, and is rejected.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import logging
import zipfile
from collections.abc import Iterable

from ..errors import LoadError
from ..types import Section

__all__ = [
    "MAX_UNPACKED_BYTES",
    "Block",
    "PlacedBlock",
    "check_unpacked_size",
    "decode_text",
    "sections_from_blocks",
    "squash",
]

log = logging.getLogger(__name__)

MAX_BAD_CHAR_SHARE = 0.01  # more undecodable characters than this and the file is not text
MIN_BAD_CHARS = 3  # ... but a short file may always have this many
# DOCX and XLSX are zip files: a few hundred kB can unpack to gigabytes (a zip bomb), and
# their parsers hold the unpacked XML in memory, so the declared sizes are checked first
# (zipfile never inflates a member past its declared size, so the check cannot be lied to)
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
Block = tuple[int, str]  # (heading level, text); level 0 is a paragraph of body text
PlacedBlock = tuple[int, str, str]  # ... and where in the file it sits ("page 2")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; Windows' Western code page
    (cp1252, which Excel and Notepad long saved in, and which reads Latin-1 text too)
    when no byte of the file reads as UTF-8's non-ASCII; a few bad bytes, never binary."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadError(f"not valid UTF-16 text: {exc.reason}") from exc
    if b"\x00" in data:
        raise LoadError("looks binary (contains NUL bytes), not text")
    text = data.decode("utf-8-sig", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    if bad and not any(ord(c) > 127 and c != "\ufffd" for c in text):
        with contextlib.suppress(UnicodeDecodeError):  # cp1252 leaves five bytes undefined
            return data.decode("cp1252")
    if bad > max(MIN_BAD_CHARS, MAX_BAD_CHAR_SHARE * len(text)):
        raise LoadError(
            f"not UTF-8 text: {bad} of {len(text)} characters cannot be decoded"
            " (save the file as UTF-8)"
        )
    if bad:
        log.warning("replaced %d undecodable bytes with U+FFFD", bad)
    return text


def check_unpacked_size(data: bytes, kind: str) -> None:
    """Refuse a zip-based document that would unpack to more than MAX_UNPACKED_BYTES."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LoadError(f"not a valid {kind} file: {exc}") from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise LoadError(
            f"the {kind} file unpacks to {unpacked // 2**20} MB, more than the"
            f" {MAX_UNPACKED_BYTES // 2**20} MB Parley reads from one document"
        )


def squash(text: str) -> str:
    """Every run of whitespace, line breaks included, as one space: text as a reader sees it."""
    return " ".join(text.split())


def sections_from_blocks(blocks: Iterable[Block | PlacedBlock]) -> tuple[str, list[Section]]:
    """Group paragraphs under the headings above them; the title is the first level-1 heading.

    A block may name its location (``"page 2"``): body text from different locations
    never shares a section, so every section cites one place. A document of headings
    alone (a one-line note written as ``# Visitors park on level minus two``) has them
    as its text, one section where the first one stands.
    """
    title = ""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    body: list[str] = []
    body_location = ""
    headings: list[tuple[str, str]] = []  # (heading, location), for a document of no body

    def flush() -> None:
        if body:
            sections.append(Section("\n\n".join(body), tuple(h for _, h in stack), body_location))
        body.clear()

    for level, raw, *place in blocks:
        text = raw.strip()
        location = place[0] if place else ""
        if not text:
            continue
        if level == 0:
            if location != body_location:
                flush()
                body_location = location
            body.append(text)
            continue
        flush()
        title = title or (text if level == 1 else "")
        stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, squash(text))]
        headings.append((squash(text), location))
    flush()
    if not sections and headings:
        sections.append(Section("\n\n".join(h for h, _ in headings), (), headings[0][1]))
    return title, sections
