"""Markdown, reStructuredText and plain text: headings become the heading path."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..types import Section
from .common import Block, decode_text, sections_from_blocks

__all__ = ["load_markdown", "load_rst", "load_text"]

MD_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
MD_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
MD_BREAK = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
MD_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+|^\s*\|")  # list items and table rows
FRONT_MATTER_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$")
TEXT_TITLE_CLOSED = (".", "!", "?", ":", ";", ",")  # a first line ending so is a sentence


def load_markdown(data: bytes) -> tuple[str, list[Section]]:
    """A front-matter ``title:`` names the file before its first level-1 heading does."""
    lines = decode_text(data).splitlines()
    meta_title, lines = _split_front_matter(lines)
    title, sections = sections_from_blocks(_markdown_blocks(lines))
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


def load_rst(data: bytes) -> tuple[str, list[Section]]:
    """Role markup is unwrapped first, so titles and passages read as plain words."""
    text = RST_ROLE.sub(r"\1", decode_text(data))
    return sections_from_blocks(_rst_blocks(text.splitlines()))


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


def load_text(data: bytes) -> tuple[str, list[Section]]:
    """The whole file is one section; a first line of up to 80 characters is its title.

    A title line that reads as a heading (no closing punctuation, text below it) heads
    the section, as a Markdown ``# Title`` does, rather than staying in its text: left
    there, it is read as the first words of the sentence below it.
    """
    text = decode_text(data).strip()
    first, _, rest = text.partition("\n")
    first, rest = first.strip(), rest.strip()
    title = first if len(first) <= 80 else ""
    if title and rest and not title.endswith(TEXT_TITLE_CLOSED):
        return title, [Section(rest, (title,))]
    return title, [Section(text)]
