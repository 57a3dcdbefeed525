"""DOCX: python-docx, paragraphs and tables in document order under their headings."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from ..errors import LoadError
from ..types import Section
from .common import Block, check_unpacked_size, sections_from_blocks, squash
from .tables import table_lines

__all__ = ["load_docx"]

# what an Office file that is not a Word document holds, by its main part's content type
_OTHER_OFFICE_FILES = {"spreadsheetml": "an Excel workbook", "presentationml": "a PowerPoint deck"}

if TYPE_CHECKING:
    from docx.table import Table


def load_docx(data: bytes) -> tuple[str, list[Section]]:
    """The core properties' title names the document, else its first level-1 heading."""
    from docx.opc.constants import CONTENT_TYPE
    from docx.package import Package
    from docx.table import Table

    check_unpacked_size(data, "DOCX")
    try:  # opened as docx.Document opens it, whose own type check names the stream's repr
        main = Package.open(io.BytesIO(data)).main_document_part
    except Exception as exc:  # zipfile, lxml and python-docx errors alike
        raise LoadError(f"not a valid DOCX file: {exc}") from exc
    if main.content_type != CONTENT_TYPE.WML_DOCUMENT_MAIN:
        raise LoadError(f"not a Word file: it is {_other_office_file(main.content_type)}")
    document = main.document
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks += [(0, text) for _, text in table_lines(_docx_table_rows(item))]
        else:
            style = item.style.name if item.style is not None else ""
            blocks.append((_docx_heading_level(style or ""), item.text))
    title, sections = sections_from_blocks(blocks)
    return document.core_properties.title or title, sections


def _other_office_file(content_type: str) -> str:
    kinds = (kind for key, kind in _OTHER_OFFICE_FILES.items() if key in content_type)
    return next(kinds, "another kind of Office file")


def _docx_heading_level(style: str) -> int:
    """Title is level 1 and ``Heading N`` level N + 1, so headings nest under the title."""
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return int(match.group(1)) + 1 if match else 0


def _docx_table_rows(table: Table) -> list[list[str]]:
    """Cell texts by row; a merged cell is reported once, not once per grid column."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(squash(cell.text))
        rows.append(cells)
    return rows
