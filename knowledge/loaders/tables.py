"""Tables: CSV, XLSX, and the row texts of the tables inside HTML and DOCX.

Spreadsheet rows keep their column headers and drop empty cells: the system Parley
replaces filled its prompts with ``NaN`` and ``Unnamed: 3``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence

from ..errors import LoadError
from ..types import Section
from .common import check_unpacked_size, decode_text, squash

__all__ = ["load_csv", "load_xlsx", "table_lines"]

EXCEL_ERRORS = frozenset({"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!"})
NUMBERISH = re.compile(r"[-+]?[\d.,:/ ]+%?")
PANDAS_NAMELESS = re.compile(r"Unnamed: \d+")


def _cell_text(value: object) -> str:
    """What a reader sees in the cell; empty for blanks, NaN and Excel error values."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = squash(str(value))
    return "" if text in EXCEL_ERRORS or text in ("nan", "NaN") else text


def _looks_like_header(cells: Sequence[str]) -> bool:
    """Labels, not data: all text, no numbers or dates, no label twice."""
    filled = [c for c in cells if c]
    return len(set(filled)) == len(filled) and not any(NUMBERISH.fullmatch(c) for c in filled)


def _table_parts(
    rows: Sequence[Sequence[str]],
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """([(row number, caption)] above the table, [(row number, "Header: value; ...")]
    for the data rows).

    One-cell rows above a wider table are captions; the next row is the header when it
    looks like labels, otherwise the table has no header and cells stand alone.
    Empty cells are skipped and so are their headers; numbers count from 1.
    """
    numbered = [(n, list(cells)) for n, cells in enumerate(rows, 1) if any(cells)]
    wide = any(sum(1 for c in cells if c) > 1 for _, cells in numbered)
    captions: list[tuple[int, str]] = []
    while wide and numbered and sum(1 for c in numbered[0][1] if c) == 1:
        n, cells = numbered.pop(0)
        captions.append((n, next(c for c in cells if c)))
    header: list[str] = []
    if len(numbered) > 1 and _looks_like_header(numbered[0][1]):
        header = ["" if PANDAS_NAMELESS.fullmatch(h) else h for h in numbered.pop(0)[1]]
    texts = [(n, _row_text(header, cells)) for n, cells in numbered]
    return captions, [(n, text) for n, text in texts if text]


def _row_text(header: Sequence[str], cells: Sequence[str]) -> str:
    """``Header: value; Header2: value``; a value under no header stands alone."""
    parts = []
    for column, value in enumerate(cells):
        if value:
            label = header[column] if column < len(header) else ""
            parts.append(f"{label}: {value}" if label else value)
    return "; ".join(parts)


def table_lines(rows: Sequence[Sequence[str]]) -> list[tuple[int, str]]:
    """Everything the table says, captions first: a caption is content too ("Escalation
    path (reviewed October 2026)" may be the only place a date is written)."""
    captions, texts = _table_parts(rows)
    return captions + texts


def _table_sections(rows: Sequence[Sequence[str]], where: str) -> list[Section]:
    """One section per caption and per row; each row under its captions as headings."""
    captions, texts = _table_parts(rows)
    above = tuple(caption for _, caption in captions)
    return [Section(caption, (), f"{where}row {n}") for n, caption in captions] + [
        Section(text, above, f"{where}row {n}") for n, text in texts
    ]


def load_csv(data: bytes) -> tuple[str, list[Section]]:
    """The delimiter is sniffed (comma, semicolon, tab or bar); one section per row."""
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [[squash(c) for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise LoadError(f"not a valid CSV file: {exc}") from exc
    return "", _table_sections(rows, "")


def load_xlsx(data: bytes) -> tuple[str, list[Section]]:
    """Cached values, not formulas, from every sheet; one section per row."""
    from openpyxl import load_workbook

    check_unpacked_size(data, "XLSX")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors
        raise LoadError(f"not a valid XLSX file: {exc}") from exc
    sections: list[Section] = []
    try:
        title = book.properties.title or ""
        for sheet in book.worksheets:
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # the stored size may be wrong; read every cell
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            sections += _table_sections(rows, f"sheet {sheet.title}, ")
    finally:
        book.close()
    return title, sections
