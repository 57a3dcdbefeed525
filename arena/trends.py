"""Figures a dashboard draws, computed from the store's reads: each model's score over
time, the pairwise win-fraction and battle-count matrices, its grades audit by audit, and
unanswered questions grouped by topic. Rows and numbers only; the surfaces draw them.

Score over time refits Bradley-Terry on the votes up to the end of each period (one fit
per period, warm-started, with the tie shape the fit on all the votes chose), so the
last point is the board's score. Topics are the words unanswered questions share, by
stem (the Porter stemmer, as the lexical index matches words): the word most of the
remaining questions hold makes a group, greedily, until no word is shared.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arena.insights import AuditRecord, UnansweredQuestion, VotePeriods
from arena.leaderboard import TieRule
from arena.models.stems import stem
from arena.pair_table import Counted, PairTable
from arena.ratings import BTFit, fit_bradley_terry
from arena.vote_counts import PairCount
from knowledge.lexical import query_terms

__all__ = [
    "AuditGrades",
    "PairMatrix",
    "ScoreHistory",
    "TopicGroup",
    "audit_grades",
    "pair_matrix",
    "score_history",
    "topic_groups",
]


@dataclass(frozen=True)
class PairMatrix:
    """Per ordered pair of models (row, column): the share of their battles the row's
    model won (ties left out, or counted as half a win each) and how many they had."""

    models: list[str]
    win_fraction: list[list[float | None]]
    battles: list[list[int]]


def pair_matrix(
    counts: Sequence[Counted], models: Sequence[str], ties: TieRule = "model"
) -> PairMatrix:
    """The matrices over ``models`` (in that order); pairs with another model are left out.

    With ``ties="model"`` a fraction is wins over decided battles, as Chatbot Arena's
    heatmap shows it; with ``"half"`` a tie or "both bad" is half a win for each side.
    A pair that never met (or only tied, without half wins) has no fraction.
    """
    index = {model: k for k, model in enumerate(models)}
    n = len(models)
    wins, tied = np.zeros((n, n)), np.zeros((n, n))
    for c in counts:
        i, j = index.get(c.model_a), index.get(c.model_b)
        if i is None or j is None or i == j:
            continue
        wins[i, j] += c.a_wins
        wins[j, i] += c.b_wins
        tied[i, j] += c.ties + c.both_bad
        tied[j, i] += c.ties + c.both_bad
    battles = wins + wins.T + tied
    won, out_of = (wins + tied / 2, battles) if ties == "half" else (wins, wins + wins.T)
    share = won / np.where(out_of > 0, out_of, 1)
    fraction = [
        [None if i == j or out_of[i, j] == 0 else round(float(share[i, j]), 4) for j in range(n)]
        for i in range(n)
    ]
    return PairMatrix(list(models), fraction, battles.astype(int).tolist())


@dataclass(frozen=True)
class ScoreHistory:
    """Each period's end, and per model its score (None before its first battle) and
    its battles so far at each of them."""

    times: list[float]
    scores: dict[str, list[float | None]]
    battles: dict[str, list[int]]


def score_history(periods: VotePeriods, ties: TieRule = "model") -> ScoreHistory:
    """Scores fitted on the votes up to the end of each period."""
    by_period: dict[int, list[PairCount]] = defaultdict(list)
    for period, pair in periods.counts:
        by_period[period].append(pair)
    totals: dict[tuple[str, str], np.ndarray] = {}
    tables: list[PairTable | None] = []
    for period in range(periods.count):
        for c in by_period.get(period, []):
            cell = totals.setdefault((c.model_a, c.model_b), np.zeros(4))
            cell += (c.a_wins, c.b_wins, c.ties, c.both_bad)
        tables.append(_table(totals, ties) if period in by_period else None)
    last = next((t for t in reversed(tables) if t is not None), None)
    shape = fit_bradley_terry(last).tie_shape if last is not None else 0.0
    models = last.models if last is not None else []
    scores: dict[str, list[float | None]] = {m: [] for m in models}
    battles: dict[str, list[int]] = {m: [] for m in models}
    fit: BTFit | None = None
    current: dict[str, tuple[float, int]] = {}
    for table in tables:
        if table is not None:
            start = fit if fit is not None and len(fit.strengths) == len(table.models) else None
            fit = fit_bradley_terry(table, start=start, tie_shape=shape)
            played = table.per_model(table.battles, table.battles)
            current = {
                m: (round(float(s), 1), int(played[k]))
                for k, (m, s) in enumerate(zip(table.models, fit.scores, strict=True))
            }
        for model in models:
            score, n = current.get(model, (None, 0))
            scores[model].append(score)
            battles[model].append(n)
    times = [periods.start + (k + 1) * periods.width for k in range(periods.count)]
    return ScoreHistory(times, scores, battles)


def _table(totals: dict[tuple[str, str], np.ndarray], ties: TieRule) -> PairTable:
    table = PairTable.from_counts([PairCount(a, b, *cells) for (a, b), cells in totals.items()])
    return table.ties_as_half_wins() if ties == "half" else table


@dataclass(frozen=True)
class TopicGroup:
    """Unanswered questions that share words (``label``; "" for those that share none
    with any other), newest first."""

    label: str
    questions: list[UnansweredQuestion]


def topic_groups(questions: Sequence[UnansweredQuestion]) -> list[TopicGroup]:
    """Groups by shared word stems, the largest first; questions alone last, as one group."""
    words: dict[str, Counter[str]] = defaultdict(Counter)  # a stem's words, for labels
    stems: list[set[str]] = []
    for q in questions:
        terms = query_terms(q.text)
        found = [stem(term) for term in terms]
        for term, word_stem in zip(terms, found, strict=True):
            words[word_stem][term] += 1
        stems.append(set(found))
    remaining = set(range(len(questions)))
    groups: list[TopicGroup] = []
    while remaining:
        shared = Counter(stem for k in remaining for stem in stems[k])
        if not shared:
            break
        best = min(shared, key=lambda s: (-shared[s], s))
        if shared[best] < 2:
            break
        members = sorted(
            (k for k in remaining if best in stems[k]), key=lambda k: -questions[k].question_id
        )
        remaining -= set(members)
        also = Counter(s for k in members for s in stems[k] if s != best)
        label = [best] + [s for s, n in also.most_common(1) if 2 * n >= len(members) and n > 1]
        groups.append(
            TopicGroup(
                " ".join(words[s].most_common(1)[0][0] for s in label),
                [questions[k] for k in members],
            )
        )
    if remaining:
        alone = sorted(remaining, key=lambda k: -questions[k].question_id)
        groups.append(TopicGroup("", [questions[k] for k in alone]))
    return groups


@dataclass(frozen=True)
class AuditGrades:
    """One model's judge grades in one audit: answers graded, mean score, and the mean
    level (5 best .. 1 worst) per criterion."""

    audit_id: int
    judge: str
    created_at: float
    answers: int
    score: float | None
    criteria: dict[str, float | None]


def audit_grades(audits: Sequence[AuditRecord], model: str) -> list[AuditGrades]:
    """The model's grades in each audit that graded it, in the audits' order."""
    out = []
    for audit in audits:
        figures = audit.report.get("models", {}).get(model)
        if figures:
            out.append(
                AuditGrades(
                    audit.audit_id,
                    audit.judge,
                    audit.created_at,
                    int(figures.get("answers", 0)),
                    figures.get("score"),
                    dict(figures.get("criteria", {})),
                )
            )
    return out
