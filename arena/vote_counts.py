"""The reads the ratings are made from, mixed into ``Store``: pair counts less the votes
left out (battle hygiene, the daily cap), the style rows, the online Elo (cached in the
database so a board replays only new votes) and the thumbs.

Kept apart from the store's writes because these queries are the ratings' business: what
counts, in which order, and what is left out and why.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, NamedTuple

from arena.elo import online_elo
from arena.errors import StoreError
from arena.style import StyleRow
from arena.types import CHOICES
from arena.votes import OUTCOME_COLUMNS, outcome_column
from knowledge.sql import AsyncSession, Dialect

__all__ = ["PairCount", "VoteCounts"]

# a battle's votes with both answers' models (after ``FROM battles b``)
_VOTES_AND_MODELS = (
    "JOIN votes v ON v.battle_id = b.id JOIN answers qa ON qa.id = b.answer_a"
    " JOIN answers qb ON qb.id = b.answer_b"
)


# each counted vote's place among its user's votes that UTC day, by when it was first cast
def _daily_rank(d: Dialect) -> str:
    return (
        "SELECT v.id, v.battle_id, ROW_NUMBER() OVER (PARTITION BY v.user,"
        f" {d.truncate('v.created_at / 86400')} ORDER BY v.created_at, v.id) AS n"
        " FROM votes v JOIN battles b ON b.id = v.battle_id WHERE b.excluded IS NULL"
    )


# votes up to an id that sit on excluded battles (from the few excluded battles to their
# votes, in that order on SQLite); it grows when a battle is excluded after its votes
# were replayed into the cached Elo
def _excluded_up_to(d: Dialect) -> str:
    return (
        f"SELECT COUNT(*) FROM battles b {d.ordered_join} votes v ON v.battle_id = b.id"
        " WHERE b.excluded IS NOT NULL AND v.id <= ?"
    )


def _count_if(condition: str) -> str:
    """How many rows of the group meet ``condition`` (PostgreSQL cannot SUM a boolean)."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


# a group's outcomes (a_wins, b_wins, ties, both_bad) for its pair in name order, from
# rows of (choice, ma: the model shown as A, mb: the model shown as B)
_OUTCOME_SUMS = ", ".join(
    _count_if(condition)
    for condition in (
        "choice IN ('a', 'b') AND (choice = 'a') = (ma < mb)",
        "choice IN ('a', 'b') AND (choice = 'b') = (ma < mb)",
        "choice = 'tie'",
        "choice = 'both_bad'",
    )
)


class PairCount(NamedTuple):
    """Outcomes between two models, ``model_a < model_b`` by name. A named tuple, not a
    dataclass: a board reads one per model pair (19,900 among 200 models), and a tuple
    is built in a third of the time."""

    model_a: str
    model_b: str
    a_wins: int = 0
    b_wins: int = 0
    ties: int = 0
    both_bad: int = 0

    @property
    def total(self) -> int:
        return self.a_wins + self.b_wins + self.ties + self.both_bad


class VoteCounts:
    """Rating reads over the store's database (``Store`` provides ``_rows``, ``_write``,
    ``_snapshot``, ``_dialect`` and ``_read_only``)."""

    _dialect: Dialect
    _read_only: bool
    _rows: Callable[..., Awaitable[list[tuple[Any, ...]]]]
    _write: Callable[..., Awaitable[Any]]
    _snapshot: Callable[[], AbstractAsyncContextManager[AsyncSession]]

    async def pair_counts(
        self, channel: str | None = None, *, daily_cap: int | None = None
    ) -> list[PairCount]:
        """Outcome counts per model pair that count for ratings, for one channel or all.

        The running counts less the votes left out (``left_out_counts``): votes on
        battles marked excluded, and with ``daily_cap`` each user's votes past that many
        in a UTC day (by when each vote was first cast; across channels, so a vote
        counts on every board or on none).
        """
        where, params = ("WHERE channel = ?", (channel,)) if channel is not None else ("", ())
        rows = await self._rows(
            "SELECT model_a, model_b, SUM(a_wins), SUM(b_wins), SUM(ties), SUM(both_bad)"
            f" FROM pair_counts {where} GROUP BY model_a, model_b"
            " HAVING SUM(a_wins + b_wins + ties + both_bad) > 0 ORDER BY model_a, model_b",
            params,
        )
        left_out = await self.left_out_counts(channel, daily_cap=daily_cap)
        if not left_out:  # the usual case: every vote counts, no cell to take from
            return list(map(PairCount._make, rows))
        cells = {(a, b): list(rest) for a, b, *rest in rows}
        for _, left in left_out:
            cell = cells[left.model_a, left.model_b]
            for n, value in enumerate((left.a_wins, left.b_wins, left.ties, left.both_bad)):
                cell[n] -= value
        return [PairCount(a, b, *cell) for (a, b), cell in cells.items() if sum(cell)]

    async def left_out_counts(
        self, channel: str | None = None, *, daily_cap: int | None = None
    ) -> list[tuple[str, PairCount]]:
        """Votes kept but left out of the ratings, as (reason, pair counts): a battle's
        ``excluded`` reason, or ``"daily_cap"`` for votes past the cap."""
        if daily_cap is not None and daily_cap < 0:
            raise StoreError(f"the daily vote cap must be 0 or more, not {daily_cap}")
        d = self._dialect
        where, params = ("AND b.channel = ?", [channel]) if channel is not None else ("", [])
        parts = [
            "SELECT b.excluded AS reason, v.choice, qa.model AS ma, qb.model AS mb"
            f" FROM battles b {_VOTES_AND_MODELS} WHERE b.excluded IS NOT NULL {where}"
        ]
        if daily_cap is not None:
            parts.append(
                f"SELECT 'daily_cap', v.choice, qa.model, qb.model FROM ({_daily_rank(d)}) r"
                f" JOIN battles b ON b.id = r.battle_id {_VOTES_AND_MODELS}"
                f" WHERE v.id = r.id AND r.n > ? {where}"
            )
            params = [*params, daily_cap, *params]
        first, second = f"{d.least}(ma, mb)", f"{d.greatest}(ma, mb)"
        rows = await self._rows(
            f"SELECT reason, {first}, {second}, {_OUTCOME_SUMS}"
            f" FROM ({' UNION ALL '.join(parts)}) AS left_out"
            f" GROUP BY reason, {first}, {second} ORDER BY 1, 2, 3",
            params,
        )
        return [(reason, PairCount(*rest)) for reason, *rest in rows]

    async def style_rows(
        self, channel: str | None = None, *, daily_cap: int | None = None
    ) -> list[StyleRow]:
        """The votes that count (the same as ``pair_counts``), for style control: those
        whose answers both have style features grouped by models, outcome and features,
        and the rest (imports have no text) as featureless rows taken from the pair
        counts, so a million imported battles cost what their pair counts do."""
        capped, params = self._counted_votes(channel, daily_cap)
        d = self._dialect
        rows = await self._rows(
            "SELECT qa.model, qb.model, v.choice, qa.style_tokens, qa.style_headers,"
            " qa.style_lists, qa.style_bold, qb.style_tokens, qb.style_headers,"
            " qb.style_lists, qb.style_bold, COUNT(*)"
            # from the answers with features (a partial index) to their battles and votes
            f" FROM answers qa {d.indexed_by('answers_styled')}"
            f" {d.ordered_join} battles b ON b.question_id = qa.question_id AND b.answer_a = qa.id"
            " JOIN answers qb ON qb.id = b.answer_b JOIN votes v ON v.battle_id = b.id"
            f" WHERE qa.style_tokens IS NOT NULL AND qb.style_tokens IS NOT NULL AND {capped}"
            " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11",
            params,
        )
        styled = [
            StyleRow(a, b, choice, tuple(features[:4]), tuple(features[4:8]), features[8])
            for a, b, choice, *features in rows
        ]
        rest = {
            (c.model_a, c.model_b): [c.a_wins, c.b_wins, c.ties, c.both_bad]
            for c in await self.pair_counts(channel, daily_cap=daily_cap)
        }
        for row in styled:
            first, second, column = outcome_column(row.model_a, row.model_b, row.choice)
            rest[first, second][OUTCOME_COLUMNS.index(column)] -= row.count
        featureless = [
            StyleRow(first, second, choice, None, None, count)
            for (first, second), cells in rest.items()
            for choice, count in zip(CHOICES, cells, strict=True)
            if count
        ]
        return styled + featureless

    def _counted_votes(self, channel: str | None, daily_cap: int | None) -> tuple[str, list]:
        """A WHERE clause (over battles b and votes v) for the votes that count."""
        clause, params = "b.excluded IS NULL", []
        if channel is not None:
            clause, params = clause + " AND b.channel = ?", [channel]
        if daily_cap is not None:
            clause += (
                f" AND v.id NOT IN (SELECT id FROM ({_daily_rank(self._dialect)}) AS ranked"
                " WHERE n > ?)"
            )
            params.append(daily_cap)
        return clause, params

    async def elo_ratings(
        self, channel: str | None = None, *, daily_cap: int | None = None
    ) -> dict[str, float]:
        """Online Elo over the votes that count, in the order they were last cast.

        The result is cached in the database with how far it got; a later call replays
        only votes added since, unless something earlier changed (a changed vote, a
        vote imported with an older time, a battle excluded after its votes were
        counted, a daily cap), when it replays them all.
        """
        scope = json.dumps([channel, daily_cap])
        cached = await self._rows("SELECT state FROM elo_cache WHERE scope = ?", (scope,))
        state = json.loads(cached[0][0]) if cached else None
        (last_id, last_time) = (
            await self._rows(
                "SELECT COALESCE((SELECT MAX(id) FROM votes), 0),"
                " COALESCE((SELECT MAX(updated_at) FROM votes), 0)"
            )
        )[0]
        clause, params = self._counted_votes(channel, daily_cap)
        excluded_up_to = _excluded_up_to(self._dialect)
        since_id = 0
        ratings: dict[str, float] = {}
        if state and daily_cap is None:
            (changed, older, excluded) = (
                await self._rows(
                    "SELECT (SELECT COUNT(*) FROM votes WHERE updated_at > ? AND +id <= ?),"
                    " (SELECT COUNT(*) FROM votes WHERE id > ? AND +updated_at < ?),"
                    f" ({excluded_up_to})",
                    (state["time"], state["id"], state["id"], state["time"], state["id"]),
                )
            )[0]
            if not changed and not older and excluded == state["excluded"]:
                since_id, ratings = state["id"], state["ratings"]
        if since_id < last_id:  # replayed in a worker thread: a second per million votes
            battles = await self._elo_battles(clause, params, since_id, last_id)
            ratings = await asyncio.to_thread(online_elo, battles, start=ratings)
        (excluded,) = (await self._rows(excluded_up_to, (last_id,)))[0]
        state = {"excluded": excluded, "id": last_id, "time": last_time, "ratings": ratings}
        if self._read_only:  # a report on a read-only mount replays, it cannot cache
            return ratings
        await self._write(
            lambda s: s.execute(
                "INSERT INTO elo_cache (scope, state) VALUES (?, ?)"
                " ON CONFLICT (scope) DO UPDATE SET state = excluded.state",
                (scope, json.dumps(state)),
            )
        )
        return ratings

    async def _elo_battles(
        self, clause: str, params: list, after_id: int, up_to_id: int
    ) -> list[tuple[str, str, str]]:
        """(model A, model B, choice) of counted votes with ids in (after, up to], in
        the order they were last cast, read in large chunks."""
        battles: list[tuple[str, str, str]] = []
        async with self._snapshot() as s:
            async for chunk in s.stream(
                f"SELECT qa.model, qb.model, v.choice FROM battles b {_VOTES_AND_MODELS}"
                f" WHERE {clause} AND v.id > ? AND v.id <= ? ORDER BY v.updated_at, v.id",
                (*params, after_id, up_to_id),
                size=50_000,
            ):
                battles += chunk
        return battles

    async def thumb_counts(self, channel: str | None = None) -> dict[str, tuple[int, int]]:
        """Per model: (thumbs up, thumbs down)."""
        where, params = ("WHERE q.channel = ?", (channel,)) if channel is not None else ("", ())
        rows = await self._rows(
            f"SELECT a.model, {_count_if('t.value > 0')}, {_count_if('t.value < 0')} FROM thumbs t"
            " JOIN answers a ON a.id = t.answer_id JOIN questions q ON q.id = a.question_id"
            f" {where} GROUP BY a.model",
            params,
        )
        return {model: (int(up), int(down)) for model, up, down in rows}
