"""Markdown as models write it, turned into Slack's mrkdwn.

Slack shows ``**bold**``, ``[text](url)`` and ``# headings`` raw, and reads ``<``, ``>``
and ``&`` as control characters, so a model's answer is converted before posting: bold,
italic, strike, links, headings and bullets become their mrkdwn forms, code blocks and
inline code keep their content untouched (only escaped), and every ``<``, ``>`` and
``&`` in the text is escaped, which also means no ``<!here>`` written by a model or a
document can reach Slack as a control sequence.
"""

from __future__ import annotations

import re

__all__ = ["escape", "to_mrkdwn"]

_FENCED = re.compile(r"```[^\n`]*\n?(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_AUTOLINK = re.compile(r"&lt;(https?://[^\s&]+)&gt;")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_BOLD_MARK = "\x00"  # stands in for mrkdwn's bold '*' while single '*' become italics


def escape(text: str) -> str:
    """Slack's three control characters as entities (shown as themselves)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Convert Markdown to mrkdwn; code is escaped but otherwise left exactly as written."""
    out: list[str] = []
    at = 0
    for block in _FENCED.finditer(markdown):
        out.append(_prose(markdown[at : block.start()]))
        out.append("```\n" + escape(block.group(1).strip("\n")) + "\n```")
        at = block.end()
    out.append(_prose(markdown[at:]))
    return "".join(out).strip()


def _prose(text: str) -> str:
    """Text outside code blocks: inline code is kept, the rest is converted."""
    out: list[str] = []
    at = 0
    for code in _INLINE_CODE.finditer(text):
        out.append(_convert(text[at : code.start()]))
        out.append(escape(code.group(0)))
        at = code.end()
    out.append(_convert(text[at:]))
    return "".join(out)


def _convert(text: str) -> str:
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _HEADING.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = escape(text)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1).replace('|', '/')}>", text)
    text = _AUTOLINK.sub(lambda m: f"<{m.group(1)}>", text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC.sub(lambda m: f"_{m.group(1)}_", text)
    text = _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
    return text.replace(_BOLD_MARK, "*")
