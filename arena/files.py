"""A file Parley writes for the user (an export, a backup, a chart) is whole or untouched.

It is written beside its target under a name of its own, then renamed over the target
in one step: a write that fails, at the start or halfway, leaves what was there before.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["replaced_whole"]


@contextmanager
def replaced_whole(target: Path) -> Iterator[Path]:
    """A path beside ``target`` (not created yet) to write instead; renamed over
    ``target`` when the block ends, removed when it raises."""
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
