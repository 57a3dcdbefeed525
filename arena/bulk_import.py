"""Bulk writes of voted battles (import, simulation), mixed into ``Store``.

Pair counts stay exact, and every battle is keyed so importing the same battles twice,
or an instance's own export back into it, counts nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from arena.errors import VoteRefused
from arena.types import CHOICES, Choice
from arena.votes import OUTCOME_COLUMNS, outcome_column

__all__ = ["BattleRecord", "BulkImport"]


@dataclass(frozen=True)
class BattleRecord:
    """One voted battle as export, import and simulation see it (A = left, shown first)."""

    model_a: str
    model_b: str
    choice: Choice
    tstamp: float
    channel: str = "import"
    user: str = "import"
    question_id: int | None = None
    source_key: str | None = None
    excluded: str | None = None  # why the battle is left out of the ratings, if it is


class BulkImport:
    """Bulk battle writes over the store's connection (``Store`` provides ``_write`` and
    ``_instance``)."""

    _instance: str
    _write: Callable[..., Awaitable[Any]]

    async def bulk_record_battles(
        self, records: Iterable[BattleRecord], batch: int = 50_000
    ) -> int:
        """Store voted battles fast (import, simulation), keeping pair counts exact.

        Records whose ``source_key`` is already stored are skipped, so importing the same
        file twice counts nothing twice. Each batch is one transaction; a record that
        cannot count (bad choice, a model against itself) raises VoteRefused and stops
        the run, with the batches before it kept. Returns how many were stored.
        """
        stored = 0
        chunk: list[BattleRecord] = []
        for record in records:
            if record.choice not in CHOICES:
                raise VoteRefused(f"unknown choice {record.choice!r}")
            if record.model_a == record.model_b:
                raise VoteRefused(f"{record.model_a!r} cannot battle itself")
            chunk.append(record)
            if len(chunk) >= batch:
                stored += await self._write(lambda db, c=chunk: self._bulk(db, c))
                chunk = []
        if chunk:
            stored += await self._write(lambda db: self._bulk(db, chunk))
        return stored

    async def _own_live_keys(self, db: aiosqlite.Connection, keys: list[str]) -> set[str]:
        """The keys among ``keys`` that name a vote cast in this very database, so an
        instance's export imported back into it counts nothing twice."""
        prefix = f"parley:{self._instance}:"
        own = set()
        for key in keys:
            if not key.startswith(prefix):
                continue
            battle, _, user = key[len(prefix) :].partition(":")
            if not battle.isdigit():
                continue
            async with db.execute(
                "SELECT 1 FROM votes WHERE battle_id = ? AND user = ?", (int(battle), user)
            ) as cursor:
                if await cursor.fetchone():
                    own.add(key)
        return own

    async def _bulk(self, db: aiosqlite.Connection, records: list[BattleRecord]) -> int:
        keys = [r.source_key for r in records if r.source_key]
        known: set[str] = set()
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            marks = ",".join("?" * len(part))
            async with db.execute(
                f"SELECT source_key FROM battles WHERE source_key IN ({marks})", part
            ) as cursor:
                known |= {row[0] async for row in cursor}
        known |= await self._own_live_keys(db, keys)
        fresh = [r for r in records if not r.source_key or r.source_key not in known]
        fresh = list({r.source_key or id(r): r for r in fresh}.values())
        if not fresh:
            return 0
        base = {}
        for table in ("questions", "answers", "battles"):
            async with db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}") as cursor:
                base[table] = (await cursor.fetchone())[0]
        questions, answers, battles, votes = [], [], [], []
        counts: dict[tuple[str, str, str], list[int]] = {}
        for n, r in enumerate(fresh, 1):
            q_id, a_id, b_id = (
                base["questions"] + n,
                base["answers"] + 2 * n - 1,
                base["battles"] + n,
            )
            questions.append((q_id, "import", r.channel, r.user, None, "", "[]", r.tstamp))
            answers += [
                (a_id, q_id, r.model_a, "", r.tstamp),
                (a_id + 1, q_id, r.model_b, "", r.tstamp),
            ]
            battles.append(
                (b_id, q_id, a_id, a_id + 1, r.channel, r.tstamp, r.source_key, r.excluded)
            )
            votes.append((b_id, r.user, r.choice, r.tstamp, r.tstamp))
            first, second, column = outcome_column(r.model_a, r.model_b, r.choice)
            cell = counts.setdefault((r.channel, first, second), [0, 0, 0, 0])
            cell[OUTCOME_COLUMNS.index(column)] += 1
        await db.executemany(
            "INSERT INTO questions (id, platform, channel, user, thread, text, passages,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            questions,
        )
        await db.executemany(
            "INSERT INTO answers (id, question_id, model, text, created_at) VALUES (?, ?, ?, ?, ?)",
            answers,
        )
        await db.executemany(
            "INSERT INTO battles (id, question_id, answer_a, answer_b, channel, created_at,"
            " source_key, excluded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            battles,
        )
        await db.executemany(
            "INSERT INTO votes (battle_id, user, choice, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            votes,
        )
        await db.executemany(
            "INSERT INTO pair_counts (channel, model_a, model_b, a_wins, b_wins, ties, both_bad)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, model_a, model_b) DO UPDATE SET"
            " a_wins = a_wins + excluded.a_wins, b_wins = b_wins + excluded.b_wins,"
            " ties = ties + excluded.ties, both_bad = both_bad + excluded.both_bad",
            [(*key, *cell) for key, cell in counts.items()],
        )
        return len(fresh)
