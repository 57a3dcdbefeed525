"""Pair counts as arrays: the models x models table the Bradley-Terry fit works on.

A million votes become one row per model pair that met, so fitting costs what the
number of models does, not the number of votes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["Counted", "PairTable", "scatter_sum"]


class Counted(Protocol):
    """Outcome counts of one model pair, e.g. ``arena.store.PairCount``."""

    @property
    def model_a(self) -> str: ...
    @property
    def model_b(self) -> str: ...
    @property
    def a_wins(self) -> int: ...
    @property
    def b_wins(self) -> int: ...
    @property
    def ties(self) -> int: ...
    @property
    def both_bad(self) -> int: ...


@dataclass(frozen=True)
class PairTable:
    """Pair counts as arrays over the pairs that met: pair p is ``models[i[p]]`` (the
    first by name) against ``models[j[p]]``; "both bad" is kept apart for its rate."""

    models: list[str]
    i: np.ndarray
    j: np.ndarray
    wins_i: np.ndarray
    wins_j: np.ndarray
    ties: np.ndarray
    both_bad: np.ndarray
    covariates: np.ndarray | None = None  # (pairs, k): per row, e.g. style differences

    @classmethod
    def from_counts(cls, counts: Sequence[Counted]) -> PairTable:
        """From per-pair counts; pairs given twice (in either order) add up. Pairs with
        no battles are left out, so every model listed has at least one."""
        counts = [c for c in counts if c.a_wins + c.b_wins + c.ties + c.both_bad > 0]
        models = sorted({c.model_a for c in counts} | {c.model_b for c in counts})
        index = {m: n for n, m in enumerate(models)}
        for c in counts:
            if c.model_a == c.model_b:
                raise ValueError(f"a model cannot battle itself: {c.model_a}")
        a = np.array([index[c.model_a] for c in counts], dtype=np.int64)
        b = np.array([index[c.model_b] for c in counts], dtype=np.int64)
        cells = np.array(
            [(c.a_wins, c.b_wins, c.ties, c.both_bad) for c in counts], dtype=np.float64
        ).reshape(-1, 4)
        swap = a > b  # each pair once, first model first by name
        a, b = np.where(swap, b, a), np.where(swap, a, b)
        cells[swap] = cells[swap][:, [1, 0, 2, 3]]
        keys, rows = np.unique(a * len(models) + b, return_inverse=True)
        merged = np.zeros((len(keys), 4))
        np.add.at(merged, rows.reshape(-1), cells)
        return cls(models, keys // max(len(models), 1), keys % max(len(models), 1), *merged.T)

    def ties_as_half_wins(self) -> PairTable:
        """The table with every tie and "both bad" counted as half a win for each side, as
        FastChat and lmarena.ai count them (ratings then read beside theirs)."""
        half = self.fit_ties / 2
        nothing = np.zeros_like(half)
        return PairTable(
            self.models,
            self.i,
            self.j,
            self.wins_i + half,
            self.wins_j + half,
            nothing,
            nothing,
            self.covariates,
        )

    @property
    def fit_ties(self) -> np.ndarray:
        """Ties as the fit sees them: plain ties and "both bad" together."""
        return self.ties + self.both_bad

    @property
    def battles(self) -> np.ndarray:
        """Per pair, the battles it had."""
        return self.wins_i + self.wins_j + self.fit_ties

    @property
    def z(self) -> np.ndarray:
        """The covariates, (pairs, 0) when there are none."""
        return self.covariates if self.covariates is not None else np.zeros((len(self.i), 0))

    def per_model(self, at_i: np.ndarray, at_j: np.ndarray) -> np.ndarray:
        """Sum per-pair values (last axis: pairs) into models: ``at_i`` to each pair's
        first model, ``at_j`` to its second. Leading axes (rounds) are kept. A pair may
        appear on several rows (battle rows with covariates): they add up."""
        if np.shape(at_i) != np.shape(at_j):
            at_i, at_j = np.broadcast_arrays(at_i, at_j)
        n = len(self.models)
        return scatter_sum(at_i, self.i, n) + scatter_sum(at_j, self.j, n)


def scatter_sum(values: np.ndarray, index: np.ndarray, size: int) -> np.ndarray:
    """Sum ``values`` (last axis: rows) into ``size`` bins by ``index``, per leading axes."""
    lead = values.shape[:-1]
    if values.ndim == 1 or values.shape[0] == 1:  # one round: the fit's common case
        return np.bincount(index, values.reshape(-1), minlength=size).reshape(*lead, size)
    flat = values.reshape(-1, values.shape[-1])
    offsets = np.arange(len(flat))[:, None] * size + index[None, :]
    summed = np.bincount(offsets.ravel(), flat.ravel(), minlength=len(flat) * size)
    return summed.reshape(*lead, size)
