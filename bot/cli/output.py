"""The terminal the commands print rich text to (tables, markup, live answers, progress).

Apart from ``base`` so that a command printing plain lines, such as ``leaderboard``,
never loads rich's console.
"""

from __future__ import annotations

from rich.console import Console

__all__ = ["console"]

console = Console()
