"""The dashboard's parts on their own: tables (sort, filter, downloads), chart geometry,
and the board cache that refits at most every few seconds."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import dataclass

import pytest

from bot.web.charts import heatmap, interval_chart, line_chart
from bot.web.live import BoardCache
from bot.web.tables import Column, Table, number, percent


def people() -> Table:
    rows = [
        {"name": "Ann", "score": 3.0, "share": 0.5},
        {"name": "bo", "score": None, "share": 0.25},
        {"name": "Cy, Jr", "score": 10.0, "share": None},
    ]
    columns = [
        Column("name", "Name", align="left", row_header=True),
        Column("score", "Score", text=number),
        Column("share", "Share", text=percent),
    ]
    return Table("people", "People", columns, rows)


def test_sorting_puts_empty_cells_last_either_way() -> None:
    up = people().arranged("score", descending=False)
    down = people().arranged("score", descending=True)
    assert [r["name"] for r in up.rows] == ["Ann", "Cy, Jr", "bo"]
    assert [r["name"] for r in down.rows] == ["Cy, Jr", "Ann", "bo"]
    assert [r["name"] for r in people().arranged("name").rows] == ["Ann", "bo", "Cy, Jr"]
    unknown = people().arranged("nonsense", descending=True)
    assert unknown.sort is None and [r["name"] for r in unknown.rows] == ["Ann", "bo", "Cy, Jr"]


def test_filtering_matches_the_cells_as_shown() -> None:
    assert [r["name"] for r in people().arranged(text_filter="25%").rows] == ["bo"]
    assert [r["name"] for r in people().arranged(text_filter=" ann ").rows] == ["Ann"]


def test_csv_holds_the_shown_text_and_json_the_raw_values() -> None:
    table = people().arranged("score", descending=True)
    assert list(csv.reader(io.StringIO(table.csv()))) == [
        ["Name", "Score", "Share"],
        ["Cy, Jr", "10", "–"],
        ["Ann", "3", "50%"],
        ["bo", "–", "25%"],
    ]
    assert json.loads(table.json())[0] == {"name": "Cy, Jr", "score": 10.0, "share": None}


@dataclass(frozen=True)
class Cited:
    number: int
    source: str


def test_json_keeps_records_lists_and_mappings_and_sorts_by_a_cells_parts() -> None:
    rows = [
        {"place": {"platform": "slack", "channel": "C2"}, "cited": [Cited(1, "a.md")]},
        {"place": {"platform": "slack", "channel": "C1"}, "cited": []},
        {"place": {"platform": "console", "channel": "console"}, "cited": None},
    ]
    columns = [
        Column("place", "Where", text=lambda p: p["channel"], align="left"),
        Column("cited", "Cited", text=lambda c: str(len(c or [])), sortable=False),
    ]
    table = Table("t", "T", columns, rows).arranged("place")
    assert [r["place"]["channel"] for r in table.rows] == ["console", "C1", "C2"]
    assert json.loads(table.json())[2] == {
        "place": {"platform": "slack", "channel": "C2"},
        "cited": [{"number": 1, "source": "a.md"}],
    }
    nan = Table("n", "N", [Column("x", "X")], [{"x": float("nan")}])
    assert json.loads(nan.json()) == [{"x": None}]  # JSON has no NaN


def test_the_interval_chart_has_a_mark_per_model_and_no_interval_when_provisional() -> None:
    chart = interval_chart(
        [
            ("a", 1100.0, 1080.0, 1120.0, False, 1090.0),
            ("b", 1000.0, 950.0, 1050.0, False, None),
            ("c", 900.0, 700.0, 1100.0, True, 905.0),
        ]
    )
    assert [m.label for m in chart.marks] == ["a", "b", "c"]
    a, b, c = chart.marks
    assert a.x > b.x > c.x and a.low < a.x < a.high  # higher scores further right
    assert c.low is None and c.high is None and c.provisional
    assert b.elo is None and a.elo is not None
    assert a.y < b.y < c.y  # best at the top
    assert "1080–1120" in a.title and "provisional" in c.title
    assert chart.ticks and all(chart.left <= x <= chart.right for x, _ in chart.ticks)


def test_a_heatmap_has_a_cell_per_pair_coloured_by_who_won() -> None:
    fractions = [[None, 0.9, 0.2], [0.1, None, None], [0.8, None, None]]
    wins = heatmap(["a", "b", "c"], fractions, "fraction")
    assert len(wins.cells) == 9
    assert [c.empty for c in wins.cells] == [v is None for row in fractions for v in row]
    ab, ac = wins.cells[1], wins.cells[2]
    blue, red = int(ab.fill[5:7], 16), int(ac.fill[1:3], 16)
    assert blue > int(ab.fill[1:3], 16) and red > int(ac.fill[5:7], 16)  # above half blue
    assert ab.text == "0.90" and "90%" in ab.title
    counts = heatmap(["a", "b"], [[0, 40], [40, 0]], "count")
    assert [c.text for c in counts.cells] == ["", "40", "40", ""]
    assert counts.cells[1].ink == "#ffffff"  # the darkest cell carries white text


def test_a_line_chart_skips_times_without_a_score() -> None:
    chart = line_chart([1.0, 2.0, 3.0], [None, 1000.0, 1010.0])
    assert len(chart.points) == 2
    assert chart.points[1].y < chart.points[0].y  # a higher score is drawn higher
    assert chart.path.count(",") == 2


@dataclass
class FakeBoard:
    rows: list


class Counting:
    """A service whose boards are numbered, and whose votes change when told to."""

    def __init__(self) -> None:
        self.fits = 0
        self.votes = 0
        self.insights = self
        self.slow = 0.0

    async def version(self) -> tuple:
        return (self.votes,)

    async def leaderboard(self, channel, **options):
        self.fits += 1
        await asyncio.sleep(self.slow)
        return FakeBoard([])

    async def pair_matrix(self, models, channel, ties):
        return None

    async def channels(self):
        return []


async def test_a_board_is_refitted_only_after_the_interval_and_only_when_votes_changed() -> None:
    now = [0.0]
    service = Counting()
    cache = BoardCache(service, interval=5.0, clock=lambda: now[0])
    first = await cache.get(None)
    assert service.fits == 1
    now[0] = 4.0
    service.votes += 1
    assert await cache.get(None) is first and service.fits == 1  # too soon to look
    now[0] = 6.0
    assert await cache.get(None) is first  # looks in the background; this viewer waits not
    await asyncio.sleep(0.01)
    assert service.fits == 2
    refitted = await cache.get(None)
    assert refitted is not first
    now[0] = 20.0
    await cache.get(None)
    await asyncio.sleep(0.01)
    assert service.fits == 2  # nothing new: no refit however long it has been
    await cache.get("C1")
    assert service.fits == 3  # another channel is another board


async def test_a_board_warmed_at_start_up_is_the_first_viewers() -> None:
    service = Counting()
    service.slow = 0.05
    cache = BoardCache(service, interval=5.0)
    warming = cache.warm()
    await asyncio.sleep(0)
    board = await cache.get(None)
    assert service.fits == 1 and (await warming) is board


async def test_viewers_arriving_together_share_one_first_fit() -> None:
    service = Counting()
    service.slow = 0.05
    cache = BoardCache(service, interval=5.0)
    boards = await asyncio.gather(*(cache.get(None) for _ in range(20)))
    assert service.fits == 1 and all(b is boards[0] for b in boards)


async def test_a_slow_fit_waits_twice_its_length_before_the_next() -> None:
    now = [0.0]
    service = Counting()

    async def slow_fit(channel, **options):
        service.fits += 1
        now[0] += 10.0  # a fit that takes ten seconds
        return FakeBoard([])

    service.leaderboard = slow_fit
    cache = BoardCache(service, interval=1.0, clock=lambda: now[0])
    await cache.get(None)  # fitted from 0 to 10: no next fit before 30
    service.votes += 1
    now[0] = 25.0
    await cache.get(None)
    await asyncio.sleep(0.01)
    assert service.fits == 1
    now[0] = 31.0
    await cache.get(None)
    await asyncio.sleep(0.01)
    assert service.fits == 2


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
def test_heatmap_colours_stay_valid_at_the_ends(fraction: float) -> None:
    cell = heatmap(["a", "b"], [[None, fraction], [1 - fraction, None]], "fraction").cells[1]
    assert len(cell.fill) == 7 and cell.fill.startswith("#")
