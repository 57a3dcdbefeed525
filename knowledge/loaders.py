"""Files to sections: one loader per format, each keeping headings and locations.

Every failure becomes a LoadError with a plain reason, so the indexer can report the
file and go on. Spreadsheet rows keep their column headers and drop empty cells:
the system Parley replaces filled its prompts with ``NaN`` and ``Unnamed: 3``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import LoadError, UnsupportedFile
from .types import LoadedDocument, Section

__all__ = ["SUPPORTED_SUFFIXES", "load_document"]

MAX_BAD_BYTE_SHARE = 0.01  # more undecodable bytes than this and the file is not text


def load_document(path: Path) -> LoadedDocument:
    """Read one file into sections; raise LoadError (or UnsupportedFile) saying why not."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise UnsupportedFile(f"unsupported file type {path.suffix or '(none)'!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read the file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError("file is empty")
    title, sections = loader(data, path)
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise LoadError("no text found in the file")
    return LoadedDocument(
        source=path.resolve().as_posix(), title=title or path.stem, sections=sections
    )


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), tolerating a few bad bytes but not binary files."""
    if b"\x00" in data[:8192]:
        raise LoadError("looks binary (contains NUL bytes), not text")
    text = data.decode("utf-8-sig", errors="replace")
    if text.count("\ufffd") > max(3, MAX_BAD_BYTE_SHARE * len(text)):
        raise LoadError("not valid UTF-8 text (too many undecodable bytes)")
    return text


def paragraphs_of(lines: Iterable[str]) -> str:
    return "\n".join(lines).strip()


# --- Markdown, reStructuredText, plain text -----------------------------------------

MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+<>:.])\1{2,}\s*$")


def load_markdown(data: bytes, path: Path) -> tuple[str, list[Section]]:
    return split_by_headings(decode_text(data).splitlines(), markdown_heading)


def load_rst(data: bytes, path: Path) -> tuple[str, list[Section]]:
    return split_by_headings(decode_text(data).splitlines(), rst_heading_factory())


def load_text(data: bytes, path: Path) -> tuple[str, list[Section]]:
    text = decode_text(data).strip()
    first = text.splitlines()[0].strip() if text else ""
    title = first if 0 < len(first) <= 80 else ""
    return title, [Section(text)]


HeadingFn = Callable[[list[str], int], tuple[int, str, int] | None]


def markdown_heading(lines: list[str], i: int) -> tuple[int, str, int] | None:
    """(level, heading, lines consumed) when line i starts a Markdown heading."""
    match = MD_HEADING.match(lines[i])
    return (len(match.group(1)), match.group(2).strip(), 1) if match else None


def rst_heading_factory() -> HeadingFn:
    """reST levels follow the order in which underline characters first appear."""
    levels: list[str] = []

    def heading(lines: list[str], i: int) -> tuple[int, str, int] | None:
        if i + 1 >= len(lines) or not lines[i].strip() or RST_UNDERLINE.match(lines[i]):
            return None
        under = lines[i + 1]
        if not RST_UNDERLINE.match(under) or len(under.rstrip()) < len(lines[i].rstrip()):
            return None
        if under[0] not in levels:
            levels.append(under[0])
        return levels.index(under[0]) + 1, lines[i].strip(), 2

    return heading


def split_by_headings(lines: list[str], heading_at: HeadingFn) -> tuple[str, list[Section]]:
    """Cut text at headings; each section carries the chain of headings above it."""
    title = ""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    body: list[str] = []
    in_code = False

    def flush() -> None:
        if paragraphs_of(body):
            sections.append(Section(paragraphs_of(body), tuple(h for _, h in stack)))
        body.clear()

    i = 0
    while i < len(lines):
        if lines[i].lstrip().startswith("```"):
            in_code = not in_code
        found = None if in_code else heading_at(lines, i)
        if found is None:
            body.append(lines[i])
            i += 1
            continue
        level, text, used = found
        flush()
        title = title or (text if level == 1 else "")
        stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, text)]
        i += used
    flush()
    return title or (stack[0][1] if stack else ""), sections


# --- HTML ------------------------------------------------------------------------------

HTML_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
HTML_BLOCKS = (*HTML_HEADINGS, "p", "li", "pre", "td", "th", "dt", "dd", "blockquote")


def load_html(data: bytes, path: Path) -> tuple[str, list[Section]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "nav", "header", "footer", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    body: list[str] = []

    def flush() -> None:
        if body:
            sections.append(Section("\n".join(body), tuple(h for _, h in stack)))
        body.clear()

    root = soup.body or soup
    for tag in root.find_all(HTML_BLOCKS):
        if tag.find_parent(HTML_BLOCKS) is not None:
            continue  # its text is already part of the enclosing block
        text = " ".join(tag.get_text(" ", strip=True).split())
        if not text:
            continue
        if tag.name in HTML_HEADINGS:
            flush()
            level = int(tag.name[1])
            stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, text)]
        else:
            body.append(text)
    flush()
    if not sections:  # pages without block markup: keep their text whole
        text = " ".join(root.get_text(" ", strip=True).split())
        sections = [Section(text)] if text else []
    return title or (stack[0][1] if stack else ""), sections


# --- PDF and DOCX ----------------------------------------------------------------------


def load_pdf(data: bytes, path: Path) -> tuple[str, list[Section]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise LoadError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata or {}).get("/Title") if reader.metadata else None
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise LoadError(f"not a valid PDF: {exc}") from exc
    sections = [
        Section(text.strip(), location=f"page {n}")
        for n, text in enumerate(pages, 1)
        if text.strip()
    ]
    if not sections:
        raise LoadError("the PDF has no extractable text (scanned images?)")
    return str(meta_title or ""), sections


def load_docx(data: bytes, path: Path) -> tuple[str, list[Section]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, ValueError, KeyError, OSError) as exc:
        raise LoadError(f"not a valid DOCX file: {exc}") from exc
    except Exception as exc:  # zipfile.BadZipFile and lxml errors
        raise LoadError(f"not a valid DOCX file: {exc}") from exc
    lines: list[str] = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        level = heading_level(style)
        text = paragraph.text.strip()
        if level and text:
            lines.append(f"{'#' * level} {text}")
        elif text:
            lines += [text, ""]
    for table in document.tables:
        rows = [[cell.text.strip() for cell in row.cells] for row in table.rows]
        if rows:
            lines += [row_text(rows[0], r) for r in rows[1:]] + [""]
    title = document.core_properties.title or ""
    md_title, sections = split_by_headings(lines, markdown_heading)
    return title or md_title, sections


def heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"Heading (\d)", style)
    return int(match.group(1)) if match else 0


# --- CSV and XLSX ----------------------------------------------------------------------


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def row_text(headers: list[str], values: list[object]) -> str:
    """``Header: value; Header2: value``, skipping empty cells and nameless columns' gaps."""
    parts = []
    for n, value in enumerate(values):
        text = cell_text(value)
        if not text:
            continue
        header = headers[n] if n < len(headers) and headers[n] else f"Column {n + 1}"
        parts.append(f"{header}: {text}")
    return "; ".join(parts)


def table_sections(rows: Iterator[list[object]], where: str) -> list[Section]:
    """The first non-empty row is the header; each later row becomes one section."""
    headers: list[str] | None = None
    sections = []
    for number, row in enumerate(rows, 1):
        cells = [cell_text(v) for v in row]
        if not any(cells):
            continue
        if headers is None:
            headers = cells
            continue
        text = row_text(headers, list(row))
        if text:
            sections.append(Section(text, location=f"{where}row {number}"))
    return sections


def load_csv(data: bytes, path: Path) -> tuple[str, list[Section]]:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        return "", table_sections(iter(csv.reader(io.StringIO(text), dialect)), "")
    except csv.Error as exc:
        raise LoadError(f"not a valid CSV file: {exc}") from exc


def load_xlsx(data: bytes, path: Path) -> tuple[str, list[Section]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors
        raise LoadError(f"not a valid XLSX file: {exc}") from exc
    sections: list[Section] = []
    try:
        for sheet in book.worksheets:
            rows = (list(r) for r in sheet.iter_rows(values_only=True))
            sections += table_sections(rows, f"sheet {sheet.title}, ")
    finally:
        book.close()
    return "", sections


LOADERS: dict[str, Callable[[bytes, Path], tuple[str, list[Section]]]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".rst": load_rst,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".csv": load_csv,
    ".xlsx": load_xlsx,
}
SUPPORTED_SUFFIXES = frozenset(LOADERS)
