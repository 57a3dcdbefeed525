"""Proof from the database that votes were counted exactly once.

Reads a Parley database (an SQLite file with plain sqlite3, after the bot has stopped
or from a WAL reader; or a PostgreSQL arena by its URL, with psycopg) and checks three
things against the votes a client saw acknowledged: each is in ``votes`` with its choice
(the table's key makes a second row impossible, so a vote counted twice would show in
the pair counts), ``pair_counts`` equals a recount from the raw votes, and the ratings
fitted from the running counts equal those fitted from the recount. The recount is done
here, from the raw rows, so one query serves both engines. Used by tests/reliability,
scripts/load_test.py and scripts/bench_scale.py.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from arena.matchmaking import fitted_scores
from arena.store import PairCount

__all__ = ["Ledger", "check_votes"]

Key = tuple[str, str, str]  # channel, model_a, model_b (in name order)

# every vote with where it was cast and the two models of its battle
_VOTES = """
    SELECT v.battle_id, v."user", v.choice, b.channel, qa.model, qb.model
    FROM votes v
    JOIN battles b ON b.id = v.battle_id
    JOIN answers qa ON qa.id = b.answer_a
    JOIN answers qb ON qb.id = b.answer_b
"""
_PAIR_COUNTS = "SELECT channel, model_a, model_b, a_wins, b_wins, ties, both_bad FROM pair_counts"


@dataclass
class Ledger:
    """What the database holds, and every way it disagrees with the acknowledged votes."""

    votes: int
    acknowledged: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _table(rows) -> dict[Key, tuple[int, ...]]:
    return {(c, a, b): tuple(n) for c, a, b, *n in rows if any(n)}


def _recount(votes) -> dict[Key, tuple[int, ...]]:
    """Pair counts from the raw votes: per channel and pair of models (in name order),
    the first model's wins, the second's, ties and both bad."""
    cells: Counter[tuple[Key, int]] = Counter()
    for _, _, choice, channel, model_a, model_b in votes:
        first, second = sorted((model_a, model_b))
        if choice in ("a", "b"):
            winner = model_a if choice == "a" else model_b
            column = 0 if winner == first else 1
        else:
            column = 2 if choice == "tie" else 3
        cells[(channel, first, second), column] += 1
    keys = {key for key, _ in cells}
    return {key: tuple(cells[key, n] for n in range(4)) for key in keys}


def _read(database: Path | str) -> tuple[list[tuple], list[tuple]]:
    """The raw votes and the pair counts, from an SQLite file or a PostgreSQL URL."""
    if str(database).startswith(("postgresql://", "postgres://")):
        import psycopg

        with psycopg.connect(str(database)) as db:
            return db.execute(_VOTES).fetchall(), db.execute(_PAIR_COUNTS).fetchall()
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(_VOTES).fetchall(), db.execute(_PAIR_COUNTS).fetchall()


def _board(counts: dict[Key, tuple[int, ...]]) -> dict[str, float]:
    overall: dict[tuple[str, str], list[int]] = {}
    for (_, a, b), cell in counts.items():
        total = overall.setdefault((a, b), [0, 0, 0, 0])
        for n, value in enumerate(cell):
            total[n] += value
    return fitted_scores([PairCount(a, b, *cell) for (a, b), cell in sorted(overall.items())])


def check_votes(database: Path | str, acknowledged: Mapping[tuple[int, str], str]) -> Ledger:
    """Check ``database`` (an SQLite file, or a PostgreSQL URL) against ``acknowledged``:
    (battle id, user) -> the choice the user was told was recorded. Votes stored but
    never acknowledged are allowed (the process may die between the write and the
    reply); missing or changed ones are not."""
    votes, pair_counts = _read(database)
    stored = {(battle, user): choice for battle, user, choice, *_ in votes}
    running = _table(pair_counts)
    recounted = _recount(votes)
    ledger = Ledger(votes=len(stored), acknowledged=len(acknowledged))
    missing = [key for key in acknowledged if key not in stored]
    changed = [k for k, c in acknowledged.items() if k in stored and stored[k] != c]
    if missing:
        ledger.problems.append(f"{len(missing)} acknowledged votes are missing: {missing[:5]}")
    if changed:
        ledger.problems.append(f"{len(changed)} votes hold another choice: {changed[:5]}")
    if running != recounted:
        keys = running.keys() | recounted.keys()
        wrong = sorted(k for k in keys if running.get(k) != recounted.get(k))
        ledger.problems.append(f"pair_counts differ from a recount of the votes in {wrong[:5]}")
    stored_board, rebuilt_board = _board(running), _board(recounted)
    if stored_board.keys() != rebuilt_board.keys() or any(
        abs(stored_board[m] - rebuilt_board[m]) > 1e-9 for m in stored_board
    ):
        ledger.problems.append(f"leaderboard {stored_board} != rebuilt {rebuilt_board}")
    return ledger
