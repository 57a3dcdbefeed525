"""SQL text as both engines need it: ``?`` placeholders rewritten, scripts split.

Parley's SQL is written once with SQLite's ``?`` placeholders. psycopg wants ``%s`` and
reads every ``%`` as the start of one, even inside a string literal, so for PostgreSQL
each ``?`` outside literals, quoted names and comments becomes ``%s`` and every ``%``
becomes ``%%``. Neither driver runs a script of several statements with one call in a
transaction, so scripts are split at the semicolons that end statements.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["split_statements", "to_pyformat"]

# the pieces of SQL in which ``?`` and ``;`` are not syntax: string literals (with ''
# escapes), quoted names, dollar-quoted bodies ($$...$$, $tag$...$tag$) and comments
_QUOTED = re.compile(
    r"""
      '(?:[^']|'')*'
    | "(?:[^"]|"")*"
    | (?P<tag>\$[A-Za-z_]*\$)[\s\S]*?(?P=tag)
    | --[^\n]*
    | /\*[\s\S]*?\*/
    """,
    re.VERBOSE,
)


def _pieces(sql: str) -> list[tuple[bool, str]]:
    """(is_code, text) runs: code, then a quoted or commented stretch, and so on."""
    pieces: list[tuple[bool, str]] = []
    start = 0
    for match in _QUOTED.finditer(sql):
        pieces.append((True, sql[start : match.start()]))
        pieces.append((False, match.group()))
        start = match.end()
    pieces.append((True, sql[start:]))
    return pieces


@lru_cache(maxsize=1024)
def to_pyformat(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s``, and ``%`` to ``%%`` (psycopg's escape)."""
    out = []
    for code, text in _pieces(sql):
        text = text.replace("%", "%%")
        out.append(text.replace("?", "%s") if code else text)
    return "".join(out)


def split_statements(script: str) -> list[str]:
    """The statements of a script, without their semicolons; blank ones are dropped."""
    statements: list[str] = []
    current: list[str] = []
    for code, text in _pieces(script):
        if not code:
            current.append(text)
            continue
        *ends, rest = text.split(";")
        for end in ends:
            current.append(end)
            statements.append("".join(current))
            current = []
        current.append(rest)
    statements.append("".join(current))
    return [s.strip() for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    return any(code and text.strip() for code, text in _pieces(statement))
