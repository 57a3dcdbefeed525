"""The leaderboard's rows: Bradley-Terry scores with 95% intervals, Rank (UB), online Elo,
rates. Drawing them (the CLI table, the PNG chart, Block Kit, embeds) is the surfaces'.

Computed from the pair counts and thumb counts only, so it costs O(models²) whatever
the number of votes; the online Elo beside it is cached in the store and replays only
new votes. Scores are on the Elo scale with mean 1000 over the rated models (see
``arena.ratings``); intervals are the sandwich ones by default (normal, with the
strengths' prior counted as data) or bootstrap percentiles (2.5, 97.5) on request. The
bootstrap is seeded from the counts unless a seed is given, so the same votes always
give the same board.

A model is provisional while it has fewer than ``provisional_votes`` battle votes: its
interval is honest but too wide to rank by, so it counts for nobody else's Rank (UB)
(its own counts the firm models above it) and the surfaces show neither. Models with
thumbs but no counted battle (or whose battles were all left out) are not rated: they
are listed apart, in ``Leaderboard.unrated``, so a board without votes has no rows.

Votes that are kept but do not count (battle hygiene: an answer named its own model,
or a user's votes past the daily cap) are left out of everything above and counted
per model in ``left_out_votes``. With ``style=True`` the board adds style-controlled
scores (``arena.style``) and the fitted style coefficients. With ``ties="half"`` the
fits count a tie (or "both bad") as half a win for each side instead of fitting the tie
model, as FastChat and lmarena.ai do, so the scores can be read beside theirs; the
votes and rates stay as counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np

from arena.pair_table import Counted, PairTable
from arena.ratings import (
    BTFit,
    bootstrap_scores,
    cautious_covariance,
    data_seed,
    fit_bradley_terry,
    normal_intervals,
    rank_upper_bounds,
    spread_prior_sd,
)
from arena.store import Store
from arena.style import FEATURE_NAMES, StyleRow, fit_style_control

__all__ = [
    "INTERVAL_METHODS",
    "TIE_RULES",
    "Intervals",
    "Leaderboard",
    "LeaderboardRow",
    "board_fit",
    "build_board",
    "leaderboard_rows",
    "thumbs_up_rate",
]

Intervals = Literal["sandwich", "bootstrap"]
INTERVAL_METHODS: tuple[Intervals, ...] = ("sandwich", "bootstrap")
TieRule = Literal["model", "half"]  # the tie model, or a tie as half a win each
TIE_RULES: tuple[TieRule, ...] = ("model", "half")
SPREAD_REFITS = 4  # at most, while the prior read from the firm models' spread widens


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's line; the field names are the keys of ``parley leaderboard --json``.
    The ``style_*`` fields are None unless the board was built with style control."""

    rank_ub: int | None
    model: str
    score: float | None
    ci_low: float | None
    ci_high: float | None
    votes: int
    win_rate: float | None
    both_bad_rate: float | None
    thumbs_up_rate: float | None
    provisional: bool
    elo: float | None = None
    left_out_votes: int = 0
    style_score: float | None = None
    style_ci_low: float | None = None
    style_ci_high: float | None = None
    style_rank_ub: int | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready values."""
        return asdict(self)

    def shown(self) -> LeaderboardRow:
        """The row as a board shows it: a provisional model's intervals and ranks are too
        wide to rank by, so they are None (its score and rates stay)."""
        if not self.provisional:
            return self
        return replace(
            self,
            rank_ub=None,
            ci_low=None,
            ci_high=None,
            style_rank_ub=None,
            style_ci_low=None,
            style_ci_high=None,
        )


@dataclass(frozen=True)
class Leaderboard:
    """The rated rows (best first), the unrated models, and what the board says about
    all of them."""

    rows: list[LeaderboardRow]
    intervals: Intervals = "sandwich"
    tie_shape: float | None = None  # λ of the tie model the fit chose (None: no votes)
    style_coefficients: dict[str, float] | None = None
    left_out: dict[str, int] = field(default_factory=dict)  # votes per reason
    # models with thumbs or left-out votes but no counted battle: no score, no rank
    unrated: list[LeaderboardRow] = field(default_factory=list)
    ties: TieRule = "model"

    @property
    def too_few_votes(self) -> bool:
        """Every rated model is provisional: no interval is narrow enough to rank by."""
        return bool(self.rows) and all(r.provisional for r in self.rows)


async def build_board(
    store: Store,
    *,
    channel: str | None = None,
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
    intervals: Intervals = "sandwich",
    style: bool = False,
    daily_cap: int | None = None,
    ties: TieRule = "model",
) -> Leaderboard:
    """The leaderboard of one channel's votes (all channels when ``channel`` is None).

    ``daily_cap`` counts at most that many of each user's votes per UTC day (off when
    None); ``rounds`` and ``seed`` are the bootstrap's. The fits run in a worker thread,
    off the event loop.
    """
    counts = await store.pair_counts(channel, daily_cap=daily_cap)
    thumbs = await store.thumb_counts(channel)
    elo = await store.elo_ratings(channel, daily_cap=daily_cap)
    left = await store.left_out_counts(channel, daily_cap=daily_cap)
    style_rows = await store.style_rows(channel, daily_cap=daily_cap) if style else None
    left_out: dict[str, int] = {}
    per_model: dict[str, int] = {}
    for reason, pair in left:
        left_out[reason] = left_out.get(reason, 0) + pair.total
        for model in (pair.model_a, pair.model_b):
            per_model[model] = per_model.get(model, 0) + pair.total

    def compute() -> Leaderboard:
        table = PairTable.from_counts(counts)
        fitted = table.ties_as_half_wins() if ties == "half" else table
        fit = board_fit(fitted, provisional_votes) if table.models else None
        rows = leaderboard_rows(
            table,
            rounds=rounds,
            provisional_votes=provisional_votes,
            seed=seed,
            intervals=intervals,
            elo=elo,
            thumbs=thumbs,
            left_out=per_model,
            fit=fit,
            ties=ties,
        )
        coefficients = None
        if style_rows is not None:
            rows, coefficients = _with_style(rows, style_rows, fit, ties)
        unrated = _unrated(table.models, thumbs, elo, per_model)
        tie_shape = fit.tie_shape if fit is not None else None
        return Leaderboard(
            rows, intervals, tie_shape, coefficients, left_out, unrated=unrated, ties=ties
        )

    return await asyncio.to_thread(compute)


def board_fit(table: PairTable, provisional_votes: int) -> BTFit:
    """The fit a board shows: the strengths' prior as wide as the firm models' spread
    (``spread_prior_sd``; refitted while it widens) and the firm models
    anchoring the mean at 1000, so no newcomer moves their scores or intervals."""
    firm = table.per_model(table.battles, table.battles) >= provisional_votes
    fit = fit_bradley_terry(table)
    for _ in range(SPREAD_REFITS):  # the prior shrinks the spread it is read from
        prior_sd = spread_prior_sd(fit, firm)
        if prior_sd <= 1.02 * fit.prior_sd:
            break
        fit = fit_bradley_terry(table, start=fit, prior_sd=prior_sd)
    return replace(fit, anchor=firm)


def leaderboard_rows(
    counts: Sequence[Counted] | PairTable,
    *,
    rounds: int = 100,
    provisional_votes: int = 20,
    seed: int | None = None,
    intervals: Intervals = "sandwich",
    elo: Mapping[str, float] | None = None,
    thumbs: Mapping[str, tuple[int, int]] | None = None,
    left_out: Mapping[str, int] | None = None,
    fit: BTFit | None = None,
    ties: TieRule = "model",
) -> list[LeaderboardRow]:
    """The rated models' rows from pair counts (or their table), best first. ``fit``
    (``board_fit``'s, of the table as ``ties`` counts it) saves refitting when the
    caller has it already."""
    if rounds < 1:
        raise ValueError(f"bootstrap rounds must be at least 1, not {rounds}")
    if intervals not in INTERVAL_METHODS:
        raise ValueError(f"intervals are one of {', '.join(INTERVAL_METHODS)}, not {intervals!r}")
    elo, thumbs, left_out = elo or {}, thumbs or {}, left_out or {}
    table = counts if isinstance(counts, PairTable) else PairTable.from_counts(counts)
    if not table.models:
        return []
    battles = table.battles
    votes = table.per_model(battles, battles)
    provisional = votes < provisional_votes
    fitted = table.ties_as_half_wins() if ties == "half" else table
    fit = fit or board_fit(fitted, provisional_votes)
    if intervals == "sandwich":
        low, high = normal_intervals(fit, cautious_covariance(fitted, fit))
    else:
        rng = np.random.default_rng(data_seed(table) if seed is None else seed)
        samples = bootstrap_scores(fitted, fit, rounds, rng)
        low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    ranks = rank_upper_bounds(low, high, counted=~provisional)
    wins = table.per_model(table.wins_i, table.wins_j)
    both_bad = table.per_model(table.both_bad, table.both_bad)
    scores = fit.scores  # computed on each access: once, not once per row
    rows = [
        LeaderboardRow(
            rank_ub=int(ranks[k]),
            model=model,
            score=round(float(scores[k]), 1),
            ci_low=round(float(low[k]), 1),
            ci_high=round(float(high[k]), 1),
            votes=int(votes[k]),
            win_rate=round(float(wins[k] / votes[k]), 4),
            both_bad_rate=round(float(both_bad[k] / votes[k]), 4),
            thumbs_up_rate=thumbs_up_rate(thumbs.get(model)),
            provisional=bool(provisional[k]),
            elo=_rounded(elo.get(model)),
            left_out_votes=left_out.get(model, 0),
        )
        for k, model in enumerate(table.models)
    ]
    return sorted(rows, key=lambda row: (-(row.score or 0.0), row.model))


def _unrated(
    rated: Sequence[str],
    thumbs: Mapping[str, tuple[int, int]],
    elo: Mapping[str, float],
    left_out: Mapping[str, int],
) -> list[LeaderboardRow]:
    """Rows for the models with thumbs or left-out votes but no counted battle."""
    return [
        LeaderboardRow(
            None,
            model,
            None,
            None,
            None,
            0,
            None,
            None,
            thumbs_up_rate(thumbs.get(model)),
            True,
            elo=_rounded(elo.get(model)),
            left_out_votes=left_out.get(model, 0),
        )
        for model in sorted((set(thumbs) | set(left_out)) - set(rated))
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _with_style(
    rows: list[LeaderboardRow],
    style_rows: Sequence[StyleRow],
    fit: BTFit | None,
    ties: TieRule = "model",
) -> tuple[list[LeaderboardRow], dict[str, float]]:
    """The rows with their style-controlled scores and ranks (provisional models move
    no one's, as on the plain board), and the style coefficients."""
    if ties == "half":
        style_rows = _ties_halved(style_rows)
    firm = {row.model for row in rows if not row.provisional}
    styled = fit_style_control(style_rows, fit, anchor=firm)
    index = {model: k for k, model in enumerate(styled.models)}
    ranks = rank_upper_bounds(
        styled.ci_low, styled.ci_high, counted=np.array([m in firm for m in styled.models])
    )
    out = []
    for row in rows:
        k = index.get(row.model)
        if k is not None:
            row = replace(
                row,
                style_score=round(float(styled.scores[k]), 1),
                style_ci_low=round(float(styled.ci_low[k]), 1),
                style_ci_high=round(float(styled.ci_high[k]), 1),
                style_rank_ub=int(ranks[k]),
            )
        out.append(row)
    coefficients = {name: round(styled.coefficients.get(name, 0.0), 4) for name in FEATURE_NAMES}
    return out, coefficients


def _ties_halved(rows: Sequence[StyleRow]) -> list[StyleRow]:
    """Each tie (or "both bad") row as half its count won by A and half by B."""
    out: list[StyleRow] = []
    for r in rows:
        if r.choice in ("tie", "both_bad"):
            out += [replace(r, choice=side, count=r.count / 2) for side in ("a", "b")]
        else:
            out.append(r)
    return out


def thumbs_up_rate(counts: tuple[int, int] | None) -> float | None:
    """Share of thumbs that were up; None when the model has none."""
    if not counts or sum(counts) == 0:
        return None
    return round(counts[0] / sum(counts), 4)
