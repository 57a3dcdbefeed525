"""Style control: scores with the answers' length and markdown taken out, as LMArena does.

Per answer, four features are counted once, when it is stored: its length in tokens
(the MiniLM word pieces ``knowledge.tokens`` counts) and, with fenced code blocks
removed first so that code is not read as markdown, its headers, list items and bold
spans. Per battle, each feature enters as (a - b) / (a + b), standardised over the
battles that have features; a battle without them (a bulk import has no text) gets
zero differences, so it informs the strengths only. The differences are covariates in
the Bradley-Terry logit beside the strengths (``arena.ratings`` with a little L2 on
their coefficients), fitted with the tie shape of the plain fit. Intervals are the
sandwich ones: each battle is its own row, so there are no pair counts to resample.
"""

from __future__ import annotations

import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, replace

import numpy as np

from arena.likelihood import PRIOR_SD
from arena.pair_table import PairTable
from arena.ratings import BTFit, cautious_covariance, fit_bradley_terry, normal_intervals
from arena.types import Choice

__all__ = [
    "FEATURE_NAMES",
    "StyleFeatures",
    "StyleRow",
    "StyleScores",
    "fit_style_control",
    "style_covariates",
    "style_features",
]

FEATURE_NAMES = ("length", "headers", "lists", "bold")
_CODE_BLOCK = re.compile(r"^\s*(```|~~~).*?^\s*\1[^\n]*$", re.MULTILINE | re.DOTALL)
_HEADER = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+?\*\*|__[^_\n]+?__")


@dataclass(frozen=True)
class StyleFeatures:
    """What an answer's style is measured by."""

    tokens: int
    headers: int
    list_items: int
    bold: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.tokens, self.headers, self.list_items, self.bold)


@dataclass(frozen=True)
class StyleRow:
    """``count`` battles between two answers' styles with one outcome (A shown first).
    Features are None when the answers' text was never stored (imports)."""

    model_a: str
    model_b: str
    choice: Choice
    features_a: tuple[int, int, int, int] | None
    features_b: tuple[int, int, int, int] | None
    count: int = 1


@dataclass(frozen=True)
class StyleScores:
    """Style-controlled scores per model, their sandwich 95% intervals, and the fitted
    coefficient of each standardised feature (logit per standard deviation; positive
    means that more of it wins more votes)."""

    models: list[str]
    scores: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    coefficients: dict[str, float]


def style_features(text: str) -> StyleFeatures:
    """Count the answer's tokens, and its headers, list items and bold spans outside code."""
    from knowledge.tokens import count_tokens  # the tokenizer only when answers are stored

    prose = _CODE_BLOCK.sub("", text)
    return StyleFeatures(
        tokens=count_tokens(text) if text else 0,
        headers=len(_HEADER.findall(prose)),
        list_items=len(_LIST_ITEM.findall(prose)),
        bold=len(_BOLD.findall(prose)),
    )


def style_covariates(rows: Sequence[StyleRow]) -> np.ndarray:
    """Per row, each feature's (a - b) / (a + b) standardised over the rows that have
    features (weighted by their counts); zeros where a row has none, or a + b is 0."""
    present = np.array([r.features_a is not None and r.features_b is not None for r in rows])
    out = np.zeros((len(rows), len(FEATURE_NAMES)))
    if not present.any():
        return out
    a = np.array([r.features_a for r, p in zip(rows, present, strict=True) if p], dtype=float)
    b = np.array([r.features_b for r, p in zip(rows, present, strict=True) if p], dtype=float)
    total = a + b
    diff = np.divide(a - b, total, out=np.zeros_like(total), where=total > 0)
    weights = np.array([r.count for r in rows], dtype=float)[present]
    mean = np.average(diff, axis=0, weights=weights)
    sd = np.sqrt(np.average((diff - mean) ** 2, axis=0, weights=weights))
    out[present] = np.divide(diff - mean, sd, out=np.zeros_like(diff), where=sd > 0)
    return out


def _style_table(rows: Sequence[StyleRow]) -> PairTable:
    """One table row per style row, with its covariates."""
    models = sorted({r.model_a for r in rows} | {r.model_b for r in rows})
    index = {m: n for n, m in enumerate(models)}
    cells = np.zeros((len(rows), 4))
    column = {"a": 0, "b": 1, "tie": 2, "both_bad": 3}
    for n, r in enumerate(rows):
        cells[n, column[r.choice]] = r.count
    return PairTable(
        models,
        np.array([index[r.model_a] for r in rows], dtype=np.int64),
        np.array([index[r.model_b] for r in rows], dtype=np.int64),
        *cells.T,
        covariates=style_covariates(rows),
    )


def fit_style_control(
    rows: Sequence[StyleRow], plain: BTFit | None = None, *, anchor: Set[str] = frozenset()
) -> StyleScores:
    """Style-controlled Bradley-Terry from battle rows; ``plain`` (the fit without
    covariates) lends its tie shape and prior. ``anchor`` names the models whose mean score is
    1000 (empty: all), as ``BTFit.anchor``. Rows must name a battle each
    (self-battles are refused as in ``PairTable``)."""
    if any(r.model_a == r.model_b for r in rows):
        raise ValueError("a model cannot battle itself")
    rows = [r for r in rows if r.count > 0]
    table = _style_table(rows)
    if not table.models:
        return StyleScores([], np.zeros(0), np.zeros(0), np.zeros(0), {})
    shape = plain.tie_shape if plain is not None else 0.0
    prior_sd = plain.prior_sd if plain is not None else PRIOR_SD
    fit = fit_bradley_terry(table, tie_shape=shape, prior_sd=prior_sd)
    fit = replace(fit, anchor=np.array([m in anchor for m in table.models]))
    low, high = normal_intervals(fit, cautious_covariance(table, fit))
    coefficients = dict(zip(FEATURE_NAMES, fit.coefficients.tolist(), strict=True))
    return StyleScores(table.models, fit.scores, low, high, coefficients)
