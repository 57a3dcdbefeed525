"""Every dashboard table: columns, rows, sorting, filtering, and its CSV and JSON.

A page builds a Table from the service's rows, each cell a raw value (a number, a string,
None); a column's ``text`` says how a cell reads on the page. Sorting compares raw values
(empty cells last either way), filtering matches the cells' text, and the downloads come
from the very same rows in the same order: CSV holds the cells as the page shows them,
JSON the raw values under the columns' keys. So what you download is what you see.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "Column",
    "Table",
    "count",
    "number",
    "percent",
    "plain",
]

Row = Mapping[str, Any]
Align = Literal["left", "right"]


def plain(value: Any) -> str:
    return "–" if value is None or value == "" else str(value)


def number(value: Any) -> str:
    return "–" if value is None else f"{value:.0f}"


def count(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def percent(value: Any) -> str:
    return "–" if value is None else f"{value:.0%}"


@dataclass(frozen=True)
class Column:
    """One column: its key in the rows, its header, and how a cell reads: ``text`` of
    the cell's value, or ``show`` of the whole row when the cell needs more of it."""

    key: str
    label: str
    text: Callable[[Any], str] = plain
    show: Callable[[Row], str] | None = None
    align: Align = "right"
    sortable: bool = True
    row_header: bool = False  # the cell that names the row (a <th scope="row">)
    link: Callable[[Row], str | None] | None = None  # where the cell's text links to


@dataclass(frozen=True)
class Table:
    """Rows under columns, with the sort and filter they were shown with."""

    name: str
    caption: str
    columns: list[Column]
    rows: list[Row]
    sort: str | None = None
    descending: bool = False
    filter: str = ""
    notes: list[str] = field(default_factory=list)

    def cell(self, row: Row, column: Column) -> str:
        return column.show(row) if column.show else column.text(row.get(column.key))

    def arranged(
        self, sort: str | None = None, descending: bool = False, text_filter: str = ""
    ) -> Table:
        """The rows filtered to those with ``text_filter`` in any cell (any case), then
        sorted by the column ``sort`` (unknown or unsortable: the given order)."""
        rows = self.rows
        needle = text_filter.strip().lower()
        if needle:
            rows = [r for r in rows if any(needle in self.cell(r, c).lower() for c in self.columns)]
        column = next((c for c in self.columns if c.key == sort and c.sortable), None)
        if column is not None:
            filled = [r for r in rows if r.get(column.key) is not None]
            empty = [r for r in rows if r.get(column.key) is None]
            filled.sort(key=lambda r: _sort_key(r[column.key]), reverse=descending)
            rows = filled + empty
        return replace(
            self,
            rows=rows,
            sort=column.key if column else None,
            descending=descending if column else False,
            filter=text_filter.strip(),
        )

    def csv(self) -> str:
        """The table as the page shows it: headers, then each row's cells as text."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([c.label for c in self.columns])
        for row in self.rows:
            writer.writerow([self.cell(row, c) for c in self.columns])
        return out.getvalue()

    def json(self) -> str:
        """The rows' raw values under the columns' keys, in the page's order."""
        records = [{c.key: _plain(row.get(c.key)) for c in self.columns} for row in self.rows]
        return json.dumps(records, ensure_ascii=False, indent=1)


def _sort_key(value: Any) -> Any:
    if isinstance(value, Mapping):  # a cell of several parts: by each in turn
        return tuple(_sort_key(v) for v in value.values())
    return value.lower() if isinstance(value, str) else value


def _plain(value: Any) -> Any:
    """JSON-ready: numbers, strings, booleans and None as they are (a NaN as None, which
    JSON lacks); lists, mappings and records (dataclasses) as lists and objects of
    those; anything else as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_plain(v) for v in value]
    return str(value)
