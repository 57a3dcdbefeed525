"""Audits: grade answers not yet audited, with canaries, and report what was found.

An audit takes up to ``sample`` answers this judge has not graded (thumbs-down answers
first, with their reasons), grades them against exactly the passages they were shown,
and grades canaries made from the first ``canary_answers`` of them (a refusal, another
question's answer, one contradiction); a canary counts only against a real answer that
scored above the lowest score, since nothing can score below that. The judge grades
concurrently under its own limit with a timeout per grade, so one slow grade holds one
slot, not the audit. Beside the grades, voted battles the judge has not compared are
judged in both orders and its verdicts set against the votes (agreement and kappa, with
and without ties). The support check runs beside whichever judge grades, on every
audited answer; each grade row names its judge and keeps the check, and the report
gives per model the share of sentences the check flagged and how often the two
disagree on whether the answer is faithful (an alarm for a drifting or broken judge).
Grades, verdicts and the report are stored, unless the audit found nothing new to grade
(then the last real report stays the latest); the report is a plain dict (JSON), which
the CLI and the chat posters draw (``bot.audit_report``).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from arena.battles_io import WINNER_OF
from arena.passage_records import AnswerRecord
from arena.store import Store

from . import DEFAULT_SAMPLE, Judge
from .agreement import PairwiseVerdict, agreement, cohen_kappa
from .canaries import CONTRADICTIONS, Canary, canary_report, make_canaries
from .faithfulness import is_faithful, judged_faithfulness
from .grades import CRITERIA, LEVEL_VALUE, LOWEST_SCORE, Case, Grade
from .pairwise import judge_pair
from .support import support_check

__all__ = [
    "APPROVES",
    "CANARY_ANSWERS",
    "DEFAULT_SAMPLE",
    "WORST_SHOWN",
    "graded_nothing",
    "run_audit",
]

CANARY_ANSWERS = 10  # audited answers whose canaries are graded too (three each)
WORST_SHOWN = 5
APPROVES = 60.0  # a score above this (better than all Fair) counts as the judge's thumbs-up


@dataclass(frozen=True)
class _Audited:
    record: AnswerRecord
    grade: Grade
    thumbs: list[tuple[str, int, str | None]]


def _canaries_for(
    records: Sequence[AnswerRecord], cases: Sequence[Case], limit: int, rng: random.Random
) -> list[tuple[int, Canary]]:
    """(index of the real answer, canary): a refusal, an off-topic answer, a contradiction."""
    chosen = []
    for n, record in enumerate(records[:limit]):
        others = [r.text for r in records if r.question_id != record.question_id]
        made = make_canaries(record.text, cases[n].passages, others, rng)
        contradictions = [c for c in made if c.kind in CONTRADICTIONS]
        picked = [c for c in made if c.kind in ("refusal", "off_topic")]
        if contradictions:
            picked.append(rng.choice(contradictions))
        chosen += [(n, c) for c in picked]
    return chosen


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _beside(grades: Sequence[Grade]) -> dict:
    """The support check against the judge on the same answers: the share of sentences it
    flagged, and how often the two disagree on whether an answer is faithful."""
    flagged = [s for g in grades if g.support and (s := g.support.flagged_share) is not None]
    both = [
        (is_faithful(judged), is_faithful(check))
        for g in grades
        if (judged := g.criteria.get("faithfulness")) is not None
        and g.support is not None
        and (check := judged_faithfulness(g.support)) is not None
    ]
    return {
        "flagged_share": _mean(flagged),
        "compared": len(both),
        "disagree": sum(a != b for a, b in both),
        "disagreement": _mean([float(a != b) for a, b in both]),
    }


def graded_nothing(report: dict) -> bool:
    """Whether an audit found nothing new to grade (no answer, no battle)."""
    return not report["answers"] and not report.get("agreement")


def _per_model(audited: Sequence[_Audited]) -> dict[str, dict]:
    models: dict[str, dict] = {}
    for model in sorted({a.record.model for a in audited}):
        mine = [a.grade for a in audited if a.record.model == model]
        measured = [g for g in mine if not g.unmeasured]
        models[model] = {
            "support": _beside(mine),
            "answers": len(mine),
            "unmeasured": len(mine) - len(measured),
            "score": _mean([g.score for g in measured]),
            "legacy_score": _mean([g.legacy_score for g in measured]),
            "criteria": {
                c: _mean([LEVEL_VALUE[g.criteria[c].level] for g in measured if c in g.criteria])
                for c in CRITERIA
            },
        }
    return models


def _worst(audited: Sequence[_Audited]) -> list[dict]:
    measured = sorted((a for a in audited if not a.grade.unmeasured), key=lambda a: a.grade.score)
    return [
        {
            "answer_id": a.record.answer_id,
            "model": a.record.model,
            "question": a.record.question,
            "answer": a.record.text,
            "score": a.grade.score,
            "faults": {
                c: f"{j.level}: {j.reason}"
                for c, j in a.grade.criteria.items()
                if LEVEL_VALUE[j.level] <= LEVEL_VALUE["Fair"]
            },
            "thumbs_down": [reason or "(no reason)" for _, value, reason in a.thumbs if value < 0],
        }
        for a in measured[:WORST_SHOWN]
    ]


def _thumbs(audited: Sequence[_Audited]) -> dict[str, dict]:
    """The judge's mean score of the answers people thumbed up and of those thumbed down,
    and how often a thumb agrees with the judge (approval: a score above ``APPROVES``)."""
    out: dict[str, dict] = {}
    for label, sign in (("up", 1), ("down", -1)):
        scores = [
            a.grade.score
            for a in audited
            if not a.grade.unmeasured and any(v == sign for _, v, _ in a.thumbs)
        ]
        out[label] = {"answers": len(scores), "score": _mean(scores)}
    pairs = [
        ("up" if value > 0 else "down", "up" if a.grade.score > APPROVES else "down")
        for a in audited
        if not a.grade.unmeasured
        for _, value, _ in a.thumbs
    ]
    out["agreement"] = {
        "thumbs": len(pairs),
        "ratio": _mean([float(t == j) for t, j in pairs]),
        "kappa": cohen_kappa(pairs),
    }
    return out


async def _case(store: Store, answer_id: int) -> Case | None:
    record = await store.answer_record(answer_id)
    if record is None:
        return None
    return Case(record.question, [p.as_shown() for p in record.passages], record.text)


async def _battle_agreement(store: Store, judge: Judge, limit: int, since: float) -> dict | None:
    """Judge voted battles not yet compared (both orders), store the verdicts, and measure
    agreement with the people who voted, as ``parley judge agreement`` does."""
    battles = []
    for battle, a, b in await store.battles_to_judge(judge.name, limit, since):
        first, second = await _case(store, a), await _case(store, b)
        if first and second:
            battles.append((battle, first, second))
    if not battles:
        return None
    verdicts = await asyncio.gather(*(judge_pair(judge, a, b) for _, a, b in battles))
    for (battle, _, _), verdict in zip(battles, verdicts, strict=True):
        await store.record_pair_verdict(battle, judge.name, verdict)
    votes = await store.battle_votes([battle for battle, _, _ in battles])
    models = {battle: (a, b) for battle, a, b, _, _ in votes}
    people = [
        PairwiseVerdict(str(battle), a, b, WINNER_OF[choice], judge=user)
        for battle, a, b, choice, user in votes
    ]
    ours = [
        PairwiseVerdict(str(battle), *models[battle], verdict.winner, judge=judge.name)
        for (battle, _, _), verdict in zip(battles, verdicts, strict=True)
        if verdict.winner is not None
    ]
    turns = agreement(ours, people)
    return {
        "battles": len(battles),
        "unmeasured": sum(v.winner is None for v in verdicts),
        "position_flips": sum(v.winner is not None and not v.consistent for v in verdicts),
        **(turns[0].as_dict() if turns else {}),
    }


async def run_audit(
    store: Store,
    judge: Judge,
    *,
    sample: int = DEFAULT_SAMPLE,
    since: float = 0.0,
    canary_answers: int = CANARY_ANSWERS,
    rng: random.Random | None = None,
) -> dict:
    """Grade, store and report; the report is stored as the latest audit unless nothing
    new was graded (no answer, no battle), so ``latest_audit`` keeps the last real one."""
    rng = rng or random.Random()
    started, clock = time.time(), time.perf_counter()
    records = [
        r
        for i in await store.answers_to_audit(judge.name, sample, since)
        if (r := await store.answer_record(i)) is not None
    ]
    cases = [Case(r.question, [p.as_shown() for p in r.passages], r.text) for r in records]
    canaries = _canaries_for(records, cases, canary_answers, rng)
    grades, battles = await asyncio.gather(
        judge.grade_many(
            [*cases, *(Case(cases[n].question, cases[n].passages, c.answer) for n, c in canaries)]
        ),
        _battle_agreement(store, judge, sample, since),
    )
    real, fake = grades[: len(cases)], grades[len(cases) :]
    if not records and battles is None:  # nothing new: the last real report stays the latest
        return _report(judge.name, started, clock, [], [], None, None, grades)
    checks = await asyncio.to_thread(lambda: [support_check(c.answer, c.passages) for c in cases])
    for grade, check in zip(real, checks, strict=True):
        grade.support = grade.support or check  # the offline judge ran it already
    for record, grade in zip(records, real, strict=True):
        await store.record_grade(grade, record.answer_id)
    for (n, canary), grade in zip(canaries, fake, strict=True):
        await store.record_grade(grade, records[n].answer_id, kind=canary.kind)
    audited = [
        _Audited(r, g, await store.thumb_reasons(r.answer_id))
        for r, g in zip(records, real, strict=True)
    ]
    # a canary is held to its real answer only where that answer scored above the floor:
    # nothing can score below an answer the judge already found worthless
    held = canary_report(
        [
            (n, c.kind, real[n].score, g.score)
            for (n, c), g in zip(canaries, fake, strict=True)
            if real[n].score is not None and real[n].score > LOWEST_SCORE
        ]
    )
    canary_checks = held.as_dict() if canaries else None
    report = _report(judge.name, started, clock, audited, real, canary_checks, battles, grades)
    await store.record_audit(judge.name, report)
    return report


def _report(
    judge: str,
    started: float,
    clock: float,
    audited: Sequence[_Audited],
    real: Sequence[Grade],
    canaries: dict | None,
    battles: dict | None,
    grades: Sequence[Grade],
) -> dict:
    latencies = [g.latency_ms for g in grades]
    return {
        "judge": judge,
        "started_at": started,
        "wall_s": round(time.perf_counter() - clock, 3),
        "answers": len(audited),
        "unmeasured": sum(g.unmeasured for g in real),
        "models": _per_model(audited),
        "worst": _worst(audited),
        "canaries": canaries,
        "thumbs": _thumbs(audited),
        "agreement": battles,
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
        "cost_usd": round(sum(g.cost_usd for g in grades), 6),
    }
