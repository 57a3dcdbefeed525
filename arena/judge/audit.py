"""Audits: grade answers not yet audited, with canaries, and report what was found.

An audit takes up to ``sample`` answers this judge has not graded (thumbs-down answers
first, with their reasons), grades them against exactly the passages they were shown,
and grades canaries made from the first ``canary_answers`` of them (a refusal, another
question's answer, one contradiction); a canary counts only against a real answer that
scored above the lowest score, since nothing can score below that. The judge grades
concurrently under its own limit with a timeout per grade, so one slow grade holds one
slot, not the audit. Beside the grades, voted battles the judge has not compared are
judged in both orders and its verdicts set against the votes (agreement and kappa, with
and without ties). Grades, verdicts and the report are stored; the report is a plain
dict (JSON), so ``parley audit --report`` and a chat post read the same thing.
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

from . import Judge
from .agreement import PairwiseVerdict, agreement, cohen_kappa
from .canaries import CONTRADICTIONS, Canary, canary_report, make_canaries
from .grades import CRITERIA, LEVEL_VALUE, LOWEST_SCORE, Case, Grade
from .pairwise import judge_pair

__all__ = [
    "APPROVES",
    "CANARY_ANSWERS",
    "DEFAULT_SAMPLE",
    "WORST_SHOWN",
    "report_lines",
    "run_audit",
]

DEFAULT_SAMPLE = 20
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


def _per_model(audited: Sequence[_Audited]) -> dict[str, dict]:
    models: dict[str, dict] = {}
    for model in sorted({a.record.model for a in audited}):
        mine = [a.grade for a in audited if a.record.model == model]
        measured = [g for g in mine if not g.unmeasured]
        models[model] = {
            "answers": len(mine),
            "unmeasured": len(mine) - len(measured),
            "score": _mean([g.score for g in measured]),
            "legacy_score": _mean([g.legacy_score for g in measured]),
            "criteria": {
                c: _mean([LEVEL_VALUE[g.criteria[c].level] for g in measured]) for c in CRITERIA
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
    return Case(record.question, [p.text for p in record.passages], record.text)


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
    """Grade, store and report; the report is also stored as the latest audit."""
    rng = rng or random.Random()
    started, clock = time.time(), time.perf_counter()
    records = [
        r
        for i in await store.answers_to_audit(judge.name, sample, since)
        if (r := await store.answer_record(i)) is not None
    ]
    cases = [Case(r.question, [p.text for p in r.passages], r.text) for r in records]
    canaries = _canaries_for(records, cases, canary_answers, rng)
    grades, battles = await asyncio.gather(
        judge.grade_many(
            [*cases, *(Case(cases[n].question, cases[n].passages, c.answer) for n, c in canaries)]
        ),
        _battle_agreement(store, judge, sample, since),
    )
    real, fake = grades[: len(cases)], grades[len(cases) :]
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
    checks = canary_report(
        [
            (n, c.kind, real[n].score, g.score)
            for (n, c), g in zip(canaries, fake, strict=True)
            if real[n].score is not None and real[n].score > LOWEST_SCORE
        ]
    )
    latencies = [g.latency_ms for g in grades]
    report = {
        "judge": judge.name,
        "started_at": started,
        "wall_s": round(time.perf_counter() - clock, 3),
        "answers": len(records),
        "unmeasured": sum(g.unmeasured for g in real),
        "models": _per_model(audited),
        "worst": _worst(audited),
        "canaries": checks.as_dict() if canaries else None,
        "thumbs": _thumbs(audited),
        "agreement": battles,
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
        "cost_usd": round(sum(g.cost_usd for g in grades), 6),
    }
    await store.record_audit(judge.name, report)
    return report


def report_lines(report: dict) -> tuple[str, list[str]]:
    """A one-line summary and the details under it, in plain text (a chat thread's shape)."""
    canaries = report.get("canaries")
    verdict = (
        "no canaries"
        if not canaries
        else ("FAILED its canaries" if canaries["flagged"] else "passed its canaries")
        + f" (AUC {canaries['auc']:.2f})"
    )
    summary = (
        f"Audit by {report['judge']}: {report['answers']} answers graded"
        f" ({report['unmeasured']} unmeasured); the judge {verdict};"
        f" {report['wall_s']:.1f} s, ${report['cost_usd']:.4f}."
    )
    details = []
    for model, m in report["models"].items():
        criteria = ", ".join(f"{c} {v:.1f}" for c, v in m["criteria"].items() if v is not None)
        score = "-" if m["score"] is None else f"{m['score']:.0f}"
        legacy = "-" if m["legacy_score"] is None else f"{m['legacy_score']:.0f}"
        details.append(
            f"{model}: score {score} (legacy {legacy}) over {m['answers']} answers; {criteria}"
        )
    for w in report["worst"]:
        details.append(
            f"worst: #{w['answer_id']} {w['model']} scored {w['score']:.0f} on {w['question']!r}"
        )
        details += [f"  {c}: {why}" for c, why in w["faults"].items()]
        details += [f"  thumbs down: {reason}" for reason in w["thumbs_down"]]
    if canaries:
        below = ", ".join(f"{k} {v:.0%}" for k, v in sorted(canaries["below"].items()))
        details.append(f"canaries below their real answer: {below}")
    thumbs = report["thumbs"]
    for label in ("up", "down"):
        t = thumbs[label]
        if t["answers"]:
            details.append(f"thumbs {label}: {t['answers']} answers, judge score {t['score']:.0f}")
    agree = thumbs["agreement"]
    if agree["thumbs"]:
        kappa = "-" if agree["kappa"] is None else f"{agree['kappa']:.2f}"
        details.append(
            f"thumbs vs judge: {agree['ratio']:.0%} of {agree['thumbs']} agree, kappa {kappa}"
        )
    votes = report.get("agreement")
    if votes and votes.get("with_ties"):
        with_ties, without = votes["with_ties"], votes["without_ties"]
        details.append(
            f"judge vs votes on {votes['battles']} battles: {_share(with_ties)} with ties,"
            f" {_share(without)} without; {votes['position_flips']} verdicts flipped with"
            " the order (ties)"
        )
    latency = report["latency_ms"]
    if latency["p50"] is not None:
        details.append(f"judge latency p50 {latency['p50']:.0f} ms, max {latency['max']:.0f} ms")
    return summary, details


def _share(figures: dict) -> str:
    ratio, kappa = figures["ratio"], figures["kappa"]
    agree = "-" if ratio is None else f"{ratio:.0%}"
    k = "-" if kappa is None else f"{kappa:.2f}"
    return f"{agree} ({figures['agree']}/{figures['total']}, kappa {k})"
