"""Bulk writes of voted battles (import, simulation), mixed into ``Store``.

Pair counts stay exact, and every battle is keyed so importing the same battles twice,
or an instance's own export back into it, counts nothing twice. Rows go in with the
session's ``copy_rows`` (COPY on PostgreSQL). Their ids are chosen before they are
written: on SQLite after the largest stored (the write transaction is the only one), on
PostgreSQL drawn from each table's identity sequence, which other instances writing at
the same time draw from too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from arena.errors import VoteRefused
from arena.types import CHOICES, Choice
from arena.votes import OUTCOME_COLUMNS, add_pair_counts, outcome_column
from knowledge.sql import AsyncSession

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

    async def _own_live_keys(self, s: AsyncSession, keys: list[str]) -> set[str]:
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
            if await s.fetchone(
                'SELECT 1 FROM votes WHERE battle_id = ? AND "user" = ?', (int(battle), user)
            ):
                own.add(key)
        return own

    async def _bulk(self, s: AsyncSession, records: list[BattleRecord]) -> int:
        keys = [r.source_key for r in records if r.source_key]
        known: set[str] = set()
        for start in range(0, len(keys), 900):
            part = keys[start : start + 900]
            marks = ",".join("?" * len(part))
            rows = await s.fetchall(
                f"SELECT source_key FROM battles WHERE source_key IN ({marks})", part
            )
            known |= {row[0] for row in rows}
        known |= await self._own_live_keys(s, keys)
        fresh = [r for r in records if not r.source_key or r.source_key not in known]
        fresh = list({r.source_key or id(r): r for r in fresh}.values())
        if not fresh:
            return 0
        question_ids = await _new_ids(s, "questions", len(fresh))
        answer_ids = await _new_ids(s, "answers", 2 * len(fresh))
        battle_ids = await _new_ids(s, "battles", len(fresh))
        questions, answers, battles, votes = [], [], [], []
        counts: dict[tuple[str, str, str], list[int]] = {}
        for n, r in enumerate(fresh):
            q_id, a_id, b_id = question_ids[n], answer_ids[2 * n], battle_ids[n]
            questions.append((q_id, "import", r.channel, r.user, None, "", "[]", r.tstamp))
            answers += [
                (a_id, q_id, r.model_a, "", r.tstamp),
                (answer_ids[2 * n + 1], q_id, r.model_b, "", r.tstamp),
            ]
            battles.append(
                (b_id, q_id, a_id, answer_ids[2 * n + 1], r.channel, r.tstamp, r.source_key,
                 r.excluded)
            )  # fmt: skip
            votes.append((b_id, r.user, r.choice, r.tstamp, r.tstamp))
            first, second, column = outcome_column(r.model_a, r.model_b, r.choice)
            cell = counts.setdefault((r.channel, first, second), [0, 0, 0, 0])
            cell[OUTCOME_COLUMNS.index(column)] += 1
        await s.copy_rows(
            "questions",
            ["id", "platform", "channel", '"user"', "thread", "text", "passages", "created_at"],
            questions,
        )
        await s.copy_rows("answers", ["id", "question_id", "model", "text", "created_at"], answers)
        await s.copy_rows(
            "battles",
            ["id", "question_id", "answer_a", "answer_b", "channel", "created_at", "source_key",
             "excluded"],
            battles,
        )  # fmt: skip
        await s.copy_rows(
            "votes", ["battle_id", '"user"', "choice", "created_at", "updated_at"], votes
        )
        await add_pair_counts(s, counts)
        return len(fresh)


async def _new_ids(s: AsyncSession, table: str, n: int) -> list[int]:
    """``n`` ids for new rows of ``table`` that no other writer will use."""
    if s.dialect.is_postgresql:
        rows = await s.fetchall(
            "SELECT nextval(pg_get_serial_sequence(?, 'id')) FROM generate_series(1, ?)",
            (table, n),
        )
        return [row[0] for row in rows]
    last = await s.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
    return list(range(last + 1, last + n + 1))
