"""Files to sections: one loader per format, each keeping headings and locations.

Every failure becomes a LoadError with a plain reason, so the indexer can report the
file and go on. Spreadsheet rows keep their column headers and drop empty cells:
the system Parley replaces filled its prompts with ``NaN`` and ``Unnamed: 3``.

Text files must be UTF-8 (a BOM is fine, UTF-16 with a BOM too). A few undecodable
bytes are replaced with U+FFFD and the file is kept; a file where more than 1% of the
characters cannot be decoded is not text Parley can read, and is rejected.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LoadError, UnsupportedFile
from .types import LoadedDocument, Section

__all__ = ["SUPPORTED_SUFFIXES", "load_document"]

if TYPE_CHECKING:
    from docx.table import Table
    from lxml.html import HtmlElement

log = logging.getLogger(__name__)

MAX_BAD_CHAR_SHARE = 0.01  # more undecodable characters than this and the file is not text
MIN_BAD_CHARS = 3  # ... but a short file may always have this many
Block = tuple[int, str]  # (heading level, text); level 0 is a paragraph of body text
Loader = Callable[[bytes], tuple[str, list[Section]]]


def load_document(path: Path) -> LoadedDocument:
    """Read one file into sections; raise LoadError (or UnsupportedFile) saying why not."""
    suffix = path.suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise UnsupportedFile(f"unsupported file type {suffix or '(none)'!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read the file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError("file is empty")
    try:
        title, sections = loader(data)
    except (LoadError, ImportError):  # an ImportError is a broken install, not a bad file
        raise
    except Exception as exc:  # a malformed file can make any parser fail in its own way
        kind = suffix.lstrip(".").upper()
        raise LoadError(f"could not parse the {kind} file: {type(exc).__name__}: {exc}") from exc
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise LoadError("no text found in the file")
    return LoadedDocument(
        source=path.resolve().as_posix(), title=title or path.stem, sections=sections
    )


def _decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; a few bad bytes, never binary."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadError(f"not valid UTF-16 text: {exc.reason}") from exc
    if b"\x00" in data:
        raise LoadError("looks binary (contains NUL bytes), not text")
    text = data.decode("utf-8-sig", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    if bad > max(MIN_BAD_CHARS, MAX_BAD_CHAR_SHARE * len(text)):
        raise LoadError(
            f"not UTF-8 text: {bad} of {len(text)} characters cannot be decoded"
            " (save the file as UTF-8)"
        )
    if bad:
        log.warning("replaced %d undecodable bytes with U+FFFD", bad)
    return text


def _squash(text: str) -> str:
    return " ".join(text.split())


def _sections_from_blocks(blocks: Iterable[Block]) -> tuple[str, list[Section]]:
    """Group paragraphs under the headings above them; the title is the first level-1 heading."""
    title = ""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    body: list[str] = []

    def flush() -> None:
        if body:
            sections.append(Section("\n\n".join(body), tuple(h for _, h in stack)))
        body.clear()

    for level, raw in blocks:
        text = raw.strip()
        if not text:
            continue
        if level == 0:
            body.append(text)
            continue
        flush()
        title = title or (text if level == 1 else "")
        stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, _squash(text))]
    flush()
    return title, sections


# --- Markdown, reStructuredText, plain text -----------------------------------------

MD_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
MD_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
MD_BREAK = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
MD_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+|^\s*\|")  # list items and table rows
FRONT_MATTER_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$")


def _load_markdown(data: bytes) -> tuple[str, list[Section]]:
    lines = _decode_text(data).splitlines()
    meta_title, lines = _split_front_matter(lines)
    title, sections = _sections_from_blocks(_markdown_blocks(lines))
    return meta_title or title, sections


def _split_front_matter(lines: list[str]) -> tuple[str, list[str]]:
    """A leading ``---`` YAML block is metadata, not text; its ``title:`` names the file."""
    if not lines or lines[0].strip() != "---":
        return "", lines
    for end in range(1, min(len(lines), 100)):
        if lines[end].strip() in ("---", "..."):
            titles = [m.group(1) for m in map(FRONT_MATTER_TITLE.match, lines[1:end]) if m]
            return (titles[0] if titles else ""), lines[end + 1 :]
    return "", lines


def _markdown_blocks(lines: list[str]) -> Iterator[Block]:
    """Headings (ATX and underlined), paragraphs, and each list item or table row alone."""
    paragraph: list[str] = []
    fence = ""
    for line in lines:
        stripped = line.strip()
        if fence:
            paragraph.append(line)
            fence = "" if stripped.startswith(fence) else fence
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
            paragraph.append(line)
            continue
        atx = MD_ATX.match(line)
        setext = MD_SETEXT.match(line)
        if atx:
            yield 0, "\n".join(paragraph)
            paragraph = []
            yield len(atx.group(1)), atx.group(2)
        elif setext and len(paragraph) == 1 and not MD_ITEM.match(paragraph[0]):
            yield (1 if setext.group(1)[0] == "=" else 2), paragraph.pop()
        elif not stripped or MD_BREAK.match(line) or MD_ITEM.match(line):
            yield 0, "\n".join(paragraph)
            paragraph = [line] if stripped and MD_ITEM.match(line) else []
        else:
            paragraph.append(line)
    yield 0, "\n".join(paragraph)


RST_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1+\s*$")
RST_ROLE = re.compile(r":[a-z][\w:.+-]*:`~?([^`<]+?)\s*(?:<[^>`]*>)?`")  # :mod:`json` -> json


def _load_rst(data: bytes) -> tuple[str, list[Section]]:
    """Role markup is unwrapped first, so titles and passages read as plain words."""
    text = RST_ROLE.sub(r"\1", _decode_text(data))
    return _sections_from_blocks(_rst_blocks(text.splitlines()))


def _rst_blocks(lines: list[str]) -> Iterator[Block]:
    """reST section titles are levelled by the order their adornment styles first appear."""
    styles: list[tuple[str, bool]] = []
    paragraph: list[str] = []
    i = 0
    while i < len(lines):
        found = _rst_title_at(lines, i)
        if found is None:
            if lines[i].strip():
                paragraph.append(lines[i])
            else:
                yield 0, "\n".join(paragraph)
                paragraph = []
            i += 1
            continue
        style, text, used = found
        yield 0, "\n".join(paragraph)
        paragraph = []
        if style not in styles:
            styles.append(style)
        yield styles.index(style) + 1, text
        i += used
    yield 0, "\n".join(paragraph)


def _rst_title_at(lines: list[str], i: int) -> tuple[tuple[str, bool], str, int] | None:
    """((adornment char, has overline), title, lines used) when a section title starts at i."""
    line = lines[i]
    below = lines[i + 1] if i + 1 < len(lines) else ""
    if RST_ADORNMENT.match(line) and i + 2 < len(lines):
        text, under = below.strip(), lines[i + 2]
        if text and under.rstrip() == line.rstrip() and len(line.rstrip()) >= len(text):
            return (line[0], True), text, 3
        return None
    preceded_by_blank = i == 0 or not lines[i - 1].strip()
    if (
        preceded_by_blank
        and line.strip()
        and not line[0].isspace()
        and RST_ADORNMENT.match(below)
        and len(below.rstrip()) >= len(line.rstrip())
    ):
        return (below[0], False), line.strip(), 2
    return None


def _load_text(data: bytes) -> tuple[str, list[Section]]:
    text = _decode_text(data).strip()
    first = text.splitlines()[0].strip() if text else ""
    return (first if len(first) <= 80 else ""), [Section(text)]


# --- HTML ------------------------------------------------------------------------------

HTML_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
HTML_DROP = ["script", "style", "nav", "noscript", "template", "svg", "iframe", "object"]
HTML_CHROME_CLASSES = frozenset({"navheader", "navfooter", "navbar", "breadcrumb", "breadcrumbs"})
HTML_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl", "dt"}
    | {"fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "ol"}
    | {"p", "pre", "section", "summary", "ul"}
)


def _load_html(data: bytes) -> tuple[str, list[Section]]:
    import lxml.html

    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = _decode_text(data).encode("utf-8")
    if b"\x00" in data:
        raise LoadError("looks binary (contains NUL bytes), not text")
    try:  # valid UTF-8 is read as UTF-8; anything else by its declared charset
        data.decode("utf-8")
        encoding: str | None = "utf-8"
    except UnicodeDecodeError:
        encoding = None
    parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True)
    root = lxml.html.document_fromstring(data.removeprefix(codecs.BOM_UTF8), parser=parser)
    title_element = root.find(".//title")
    page_title = _squash(title_element.text_content()) if title_element is not None else ""
    for element in [e for e in root.iter() if _is_page_chrome(e)]:
        element.drop_tree()
    body = root.find("body")
    title, sections = _sections_from_blocks(_html_blocks(body if body is not None else root))
    return page_title or title, sections


def _is_page_chrome(element: HtmlElement) -> bool:
    """Scripts, styles, navigation, and site headers and footers outside the content."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in HTML_DROP or element.get("role") in ("navigation", "search"):
        return True
    if HTML_CHROME_CLASSES.intersection((element.get("class") or "").split()):
        return True
    if tag in ("header", "footer"):
        return not any(a.tag in ("main", "article") for a in element.iterancestors())
    return False


def _html_blocks(root: HtmlElement) -> list[Block]:
    """Walk the tree in document order: headings, tables, and paragraphs at block edges."""
    out: list[Block] = []
    inline: list[str] = []

    def end_paragraph() -> None:
        text = _squash("".join(inline))
        if text:
            out.append((0, text))
        inline.clear()

    def walk(element: HtmlElement) -> None:
        inline.append(element.text or "")
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in HTML_HEADINGS:
                end_paragraph()
                out.append((int(tag[1]), _squash(child.text_content())))
            elif tag == "table":
                end_paragraph()
                out.extend((0, text) for _, text in _table_texts(_html_table_rows(child))[1])
            elif tag == "br":
                inline.append(" ")
            elif tag in HTML_BLOCKS:
                end_paragraph()
                walk(child)
                end_paragraph()
            else:
                walk(child)
            inline.append(child.tail or "")

    walk(root)
    end_paragraph()
    return out


def _html_table_rows(table: HtmlElement) -> list[list[str]]:
    own_rows = [tr for tr in table.iter("tr") if next(tr.iterancestors("table")) is table]
    return [
        [_squash(cell.text_content()) for cell in tr if cell.tag in ("td", "th")] for tr in own_rows
    ]


# --- PDF and DOCX ----------------------------------------------------------------------


def _load_pdf(data: bytes) -> tuple[str, list[Section]]:
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


def _load_docx(data: bytes) -> tuple[str, list[Section]]:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # zipfile, lxml and python-docx errors alike
        raise LoadError(f"not a valid DOCX file: {exc}") from exc
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks += [(0, text) for _, text in _table_texts(_docx_table_rows(item))[1]]
        else:
            style = item.style.name if item.style is not None else ""
            blocks.append((_docx_heading_level(style or ""), item.text))
    title, sections = _sections_from_blocks(blocks)
    return document.core_properties.title or title, sections


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
                cells.append(_squash(cell.text))
        rows.append(cells)
    return rows


# --- Tables: CSV, XLSX, and the tables inside HTML and DOCX -------------------------------

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
    text = _squash(str(value))
    return "" if text in EXCEL_ERRORS or text in ("nan", "NaN") else text


def _looks_like_header(cells: Sequence[str]) -> bool:
    """Labels, not data: all text, no numbers or dates, no label twice."""
    filled = [c for c in cells if c]
    return len(set(filled)) == len(filled) and not any(NUMBERISH.fullmatch(c) for c in filled)


def _table_texts(rows: Sequence[Sequence[str]]) -> tuple[list[str], list[tuple[int, str]]]:
    """(captions above the table, [(row number, "Header: value; ...")]) for the data rows.

    One-cell rows above a wider table are captions; the next row is the header when it
    looks like labels, otherwise the table has no header and cells stand alone.
    Empty cells are skipped and so are their headers; numbers count from 1.
    """
    numbered = [(n, list(cells)) for n, cells in enumerate(rows, 1) if any(cells)]
    wide = any(sum(1 for c in cells if c) > 1 for _, cells in numbered)
    captions: list[str] = []
    while wide and numbered and sum(1 for c in numbered[0][1] if c) == 1:
        captions.append(next(c for c in numbered.pop(0)[1] if c))
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


def _table_sections(rows: Sequence[Sequence[str]], where: str) -> list[Section]:
    captions, texts = _table_texts(rows)
    return [Section(text, tuple(captions), f"{where}row {n}") for n, text in texts]


def _load_csv(data: bytes) -> tuple[str, list[Section]]:
    text = _decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [[_squash(c) for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise LoadError(f"not a valid CSV file: {exc}") from exc
    return "", _table_sections(rows, "")


def _load_xlsx(data: bytes) -> tuple[str, list[Section]]:
    from openpyxl import load_workbook

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


LOADERS: dict[str, Loader] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".rst": _load_rst,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
    ".csv": _load_csv,
    ".xlsx": _load_xlsx,
}
SUPPORTED_SUFFIXES = frozenset(LOADERS)
