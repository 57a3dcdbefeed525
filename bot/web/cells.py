"""How stored values read in a dashboard cell: times, sources, thumbs-down reasons,
ratios, and text a viewer may not be allowed to see."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from arena.insights import StoredSource
from knowledge.types import display_path

from .. import messages
from .access import Viewer

__all__ = [
    "HIDDEN",
    "moment",
    "ratio",
    "reason_label",
    "shown",
    "source_lines",
]

HIDDEN = "(hidden)"  # what a viewer who may not read question and answer text sees


def moment(timestamp: Any) -> str:
    """A stored time as a reader's date and minute, in UTC (one zone for everyone)."""
    if timestamp is None:
        return "–"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def shown(viewer: Viewer, text: str) -> str:
    """Question and answer text, or HIDDEN when the viewer may not read it."""
    return text if viewer.sees_text else HIDDEN


def reason_label(viewer: Viewer, reason: str | None) -> str:
    """A thumbs-down reason: a listed one by its label, a user's own words as they wrote
    them (they may quote the answer, so hidden like answer text)."""
    if reason is None:
        return messages.NO_REASON_GIVEN
    if reason in messages.THUMB_REASONS:
        return messages.THUMB_REASONS[reason]
    return shown(viewer, reason)


def source_lines(sources: Sequence[StoredSource]) -> str:
    """An answer's cited sources, one a line, as chat shows them."""
    return "\n".join(
        f"[{s.number}] {display_path(s.source)}" + (f", {s.location}" if s.location else "")
        for s in sources
    )


def ratio(value: Any, digits: int = 0) -> str:
    """A share as a percentage; "–" when unknown (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}%}"
