"""Files of one JSON object per line, read whole or not at all.

A file a user hands Parley to grade or compare is checked before anything is done with
it: every bad line is found, and the first five are named by number in one error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from arena.errors import InputError

__all__ = ["read_jsonl"]

T = TypeVar("T")
_NAMED = 5  # bad lines named in the error; the rest are "..."


def read_jsonl(path: Path, parse: Callable[[object], T]) -> list[T]:
    """``parse`` of every non-blank line's JSON value, in order. ``parse`` raises
    ValueError, KeyError (a missing field) or TypeError for a value it cannot take."""
    rows, errors = [], []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append(parse(json.loads(line)))
            except KeyError as exc:
                errors.append(f"line {number}: missing field {exc}")
            except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
                errors.append(f"line {number}: {exc}")
    if errors:
        more = "; ..." if len(errors) > _NAMED else ""
        raise InputError(f"{path}: " + "; ".join(errors[:_NAMED]) + more)
    return rows
