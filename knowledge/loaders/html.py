"""HTML: lxml, with page chrome dropped and ``h1``–``h6`` making the heading path."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from ..errors import LoadError
from ..types import Section
from .common import Block, decode_text, sections_from_blocks, squash
from .tables import table_lines

__all__ = ["load_html"]

if TYPE_CHECKING:
    from lxml.html import HtmlElement

HTML_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
HTML_DROP = ["script", "style", "nav", "noscript", "template", "svg", "iframe", "object"]
HTML_CHROME_CLASSES = frozenset({"navheader", "navfooter", "navbar", "breadcrumb", "breadcrumbs"})
HTML_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl", "dt"}
    | {"fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "ol"}
    | {"p", "pre", "section", "summary", "ul"}
)


def load_html(data: bytes) -> tuple[str, list[Section]]:
    """The ``<title>`` names the page; without one, its first ``h1`` does."""
    import lxml.html

    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = decode_text(data).encode("utf-8")
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
    page_title = squash(title_element.text_content()) if title_element is not None else ""
    for element in [e for e in root.iter() if _is_page_chrome(e)]:
        element.drop_tree()
    body = root.find("body")
    title, sections = sections_from_blocks(_html_blocks(body if body is not None else root))
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
        text = squash("".join(inline))
        if text:
            out.append((0, text))
        inline.clear()

    def walk(element: HtmlElement) -> None:
        inline.append(element.text or "")
        for child in element:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in HTML_HEADINGS:
                end_paragraph()
                out.append((int(tag[1]), squash(child.text_content())))
            elif tag == "table":
                end_paragraph()
                out.extend((0, text) for _, text in table_lines(_html_table_rows(child)))
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
        [squash(cell.text_content()) for cell in tr if cell.tag in ("td", "th")] for tr in own_rows
    ]
