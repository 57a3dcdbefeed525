"""What the benchmark scripts share: percentiles of measured latencies, and the CPU time
a process has used."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cpu_seconds", "percentile"]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far, all threads (Linux ``/proc``):
    what work cost, which a busy machine stretches in wall time but not here."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
