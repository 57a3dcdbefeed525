"""Counting for a reader: one of a thing is singular, wherever Parley counts."""

from __future__ import annotations

__all__ = [
    "plural",
]


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 battle``, ``2 battles``; ``many`` for a noun whose plural is not noun + s."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
