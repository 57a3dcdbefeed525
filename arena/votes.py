"""Group commit for votes: concurrent votes share one transaction, each acknowledged after it.

Under load a vote's cost was its round trips to the database (begin, two reads, two
writes, commit). Votes that arrive while a batch is being written wait for the next
batch, which reads every battle and earlier vote it needs in two queries and writes
votes and pair-count changes with two ``executemany`` calls. A voter's coroutine
returns only once its batch has committed, so an acknowledged vote is never lost; a
batch that fails is rolled back whole and every voter in it gets the error.

Several instances sharing PostgreSQL write their batches one at a time (``VOTE_LOCK``,
an advisory lock held to the end of the batch's transaction; on SQLite the write
transaction is already the only one): a batch reads the live votes only once no other
batch can change them, so the pair counts move by exactly what the votes table does,
and one live vote per user per battle is kept by the table's unique key, the write an
upsert. A vote whose acknowledgement was lost with a connection is cast again with the
same choice, which changes nothing, so a retry never counts twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from arena.errors import StoreError, VoteRefused
from arena.types import CHOICES, Choice
from knowledge.sql import AsyncSession

__all__ = [
    "MAX_BATCH",
    "OUTCOME_COLUMNS",
    "VOTE_LOCK",
    "VoteBatcher",
    "VoteResult",
    "add_pair_counts",
    "outcome_column",
]

MAX_BATCH = 500  # keeps each batch's IN lists well inside SQLite's variable limit
OUTCOME_COLUMNS = ("a_wins", "b_wins", "ties", "both_bad")
VOTE_LOCK = "arena:votes"  # one vote batch at a time across instances


@dataclass(frozen=True)
class VoteResult:
    """A stored vote, with the names it reveals."""

    battle_id: int
    choice: Choice
    model_a: str
    model_b: str
    replaced: bool


@dataclass(frozen=True)
class _VoteRequest:
    battle_id: int
    user: str
    choice: Choice


def outcome_column(model_a: str, model_b: str, choice: Choice) -> tuple[str, str, str]:
    """(first, second, column): the pair in name order and the outcome flipped to match."""
    if model_a < model_b:
        return model_a, model_b, OUTCOME_COLUMNS[CHOICES.index(choice)]
    flipped = {"a": "b_wins", "b": "a_wins", "tie": "ties", "both_bad": "both_bad"}[choice]
    return model_b, model_a, flipped


# a write transaction whose driver errors come out as StoreError (``Store._transaction``)
Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class VoteBatcher:
    """Collects votes and writes them in batches, one transaction each."""

    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction
        self._pending: list[tuple[_VoteRequest, asyncio.Future[VoteResult]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, battle_id: int, user: str, choice: Choice) -> VoteResult:
        if choice not in CHOICES:
            raise VoteRefused(f"unknown choice {choice!r}; expected one of {', '.join(CHOICES)}")
        future: asyncio.Future[VoteResult] = asyncio.get_running_loop().create_future()
        self._pending.append((_VoteRequest(battle_id, user, choice), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await asyncio.shield(future)  # a cancelled voter does not cancel the batch

    async def drain(self) -> None:
        """Wait until every submitted vote is written, or failed to its voter when the
        writer was stopped (before closing the database)."""
        if self._flusher is not None:
            await asyncio.wait([self._flusher])  # its end, not its outcome: voters heard that

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            outcomes: list[VoteResult | Exception]
            try:
                async with self._transaction() as session:
                    outcomes = [*await _apply_votes(session, [request for request, _ in batch])]
            except Exception as exc:  # rolled back: every voter hears of it, none waits forever
                outcomes = [exc] * len(batch)
            except BaseException:  # cancelled (loop shutting down): fail every waiting voter
                for _, future in batch + self._pending:
                    if not future.done():
                        future.set_exception(StoreError("the vote writer was stopped"))
                self._pending = []
                raise
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


async def _apply_votes(
    s: AsyncSession, requests: list[_VoteRequest]
) -> list[VoteResult | VoteRefused]:
    """Write a batch of votes in order, inside the caller's transaction."""
    await s.lock(VOTE_LOCK)
    battles = await _battle_models(s, sorted({r.battle_id for r in requests}))
    live = await _live_votes(s, sorted({(r.battle_id, r.user) for r in requests}))
    changed: dict[tuple[int, str], Choice] = {}
    deltas: dict[tuple[str, str, str], list[int]] = {}
    outcomes: list[VoteResult | VoteRefused] = []
    for request in requests:
        battle = battles.get(request.battle_id)
        if isinstance(battle, VoteRefused) or battle is None:
            outcomes.append(battle or VoteRefused(f"there is no battle {request.battle_id}"))
            continue
        model_a, model_b, channel = battle
        key = (request.battle_id, request.user)
        previous = live.get(key)
        if previous != request.choice:
            for choice, sign in ((previous, -1), (request.choice, +1)):
                if choice is not None:
                    first, second, column = outcome_column(model_a, model_b, choice)
                    cell = deltas.setdefault((channel, first, second), [0, 0, 0, 0])
                    cell[OUTCOME_COLUMNS.index(column)] += sign
            live[key] = changed[key] = request.choice
        outcomes.append(
            VoteResult(request.battle_id, request.choice, model_a, model_b, previous is not None)
        )
    now = time.time()
    await s.executemany(
        'INSERT INTO votes (battle_id, "user", choice, created_at, updated_at)'
        ' VALUES (?, ?, ?, ?, ?) ON CONFLICT (battle_id, "user")'
        " DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at",
        [(battle_id, user, choice, now, now) for (battle_id, user), choice in changed.items()],
    )
    await add_pair_counts(s, deltas)
    return outcomes


async def add_pair_counts(s: AsyncSession, deltas: dict[tuple[str, str, str], list[int]]) -> None:
    """Add (channel, first model, second model) -> [a_wins, b_wins, ties, both_bad] to
    the pair counts. Rows are written in key order, so two writers on PostgreSQL (a vote
    batch, a bulk import) wait for one another instead of deadlocking."""
    await s.executemany(
        "INSERT INTO pair_counts (channel, model_a, model_b, a_wins, b_wins, ties, both_bad)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, model_a, model_b) DO UPDATE SET"
        " a_wins = pair_counts.a_wins + excluded.a_wins,"
        " b_wins = pair_counts.b_wins + excluded.b_wins,"
        " ties = pair_counts.ties + excluded.ties,"
        " both_bad = pair_counts.both_bad + excluded.both_bad",
        [(*key, *deltas[key]) for key in sorted(deltas) if any(deltas[key])],
    )


async def _battle_models(
    s: AsyncSession, ids: list[int]
) -> dict[int, tuple[str, str, str] | VoteRefused]:
    """Per battle: (model shown as A, model shown as B, channel), or why it cannot be voted."""
    marks = ",".join("?" * len(ids))
    found: dict[int, tuple[str, str, str] | VoteRefused] = {}
    rows = await s.fetchall(
        "SELECT b.id, qa.model, qb.model, b.channel, qa.error, qb.error FROM battles b"
        " JOIN answers qa ON qa.id = b.answer_a JOIN answers qb ON qb.id = b.answer_b"
        f" WHERE b.id IN ({marks})",
        ids,
    )
    for battle_id, model_a, model_b, channel, error_a, error_b in rows:
        found[battle_id] = (
            VoteRefused(f"battle {battle_id} has a failed answer, so it cannot be rated")
            if error_a or error_b
            else (model_a, model_b, channel)
        )
    return found


async def _live_votes(
    s: AsyncSession, keys: list[tuple[int, str]]
) -> dict[tuple[int, str], Choice]:
    """The current vote, if any, of each (battle, user)."""
    values = ",".join("(?, ?)" for _ in keys)
    params = [part for key in keys for part in key]
    # a join, not ``(battle_id, user) IN (VALUES ...)``: SQLite scans the table for the
    # latter. PostgreSQL types the VALUES from their first row (an int, a text)
    rows = await s.fetchall(
        f"SELECT v.battle_id, v.user, v.choice FROM (VALUES {values}) AS k"
        " JOIN votes v ON v.battle_id = k.column1 AND v.user = k.column2",
        params,
    )
    return {(battle_id, user): choice for battle_id, user, choice in rows}
