"""Grades and pairwise verdicts become rows; unmeasured grades never become a mean."""

from __future__ import annotations

import json

import pytest

from arena.errors import StoreError
from arena.judge.grades import CRITERIA, Grade, Judged
from arena.judge.pairwise import PairVerdict
from arena.store import Store
from arena.types import Answer

pytestmark = pytest.mark.both_engines


def graded(level: str, faithfulness: str | None = None) -> Grade:
    criteria = {c: Judged(reason=c, level=level) for c in CRITERIA}
    if faithfulness:
        criteria["faithfulness"] = Judged(reason="made up", level=faithfulness)
    return Grade("judge-x", criteria, Judged(reason="ctx", level="Good"), raw="{}", cost_usd=0.01)


async def answers(store: Store) -> tuple[int, int]:
    q = await store.record_question(
        platform="cli", channel="c", user="u", thread=None, text="q", hits=[]
    )
    return (
        await store.record_answer(q, Answer(model="alpha", text="a")),
        await store.record_answer(q, Answer(model="beta", text="b")),
    )


async def test_grades_summarised_per_model_without_unmeasured(store) -> None:
    alpha, beta = await answers(store)
    await store.record_grade(graded("Excellent"), alpha)
    await store.record_grade(graded("Excellent", faithfulness="Worse"), alpha)
    await store.record_grade(Grade.failed("judge-x", "invalid reply twice", raw="oops"), alpha)
    await store.record_grade(graded("Worse"), beta, kind="negated")  # a canary: not beta's
    await store.record_grade(graded("Good"), beta)
    await store.record_grade(graded("Worse"), beta)
    first, second = await store.judge_summary()
    assert (first.model, first.graded, first.unmeasured) == ("alpha", 2, 1)
    assert first.score == pytest.approx((100 + 20) / 2)
    assert first.legacy_score == pytest.approx((100 + 84) / 2)
    assert first.criteria["faithfulness"] == pytest.approx(3.0)
    assert (second.model, second.graded, second.score) == ("beta", 2, pytest.approx(50))
    assert await store.judge_summary(judge="someone-else") == []


async def test_rows_keep_raw_reply_and_refuse_a_score_when_unmeasured(store) -> None:
    alpha, _ = await answers(store)
    await store.record_grade(Grade.failed("judge-x", "timed out", raw="partial", latency_ms=5.0))
    rows = await store._rows("SELECT raw, error, score, unmeasured, criteria FROM grades")
    assert tuple(rows[0]) == ("partial", "timed out", None, 1, "{}")
    with pytest.raises(StoreError, match=r"CHECK|check"):  # the schema itself refuses it
        await store._write(
            lambda s: s.execute(
                "INSERT INTO grades (judge, score, unmeasured, created_at) VALUES ('j', 50, 1, 0)"
            )
        )
    await store.record_grade(graded("Good"), alpha)
    (row,) = await store._rows("SELECT criteria, context_relevance FROM grades WHERE score = 80")
    assert json.loads(row[0])["clarity"] == {"reason": "clarity", "level": "Good"}
    assert json.loads(row[1])["level"] == "Good"


async def test_audit_candidates_and_reports(store) -> None:
    alpha, beta = await answers(store)
    liked = await store.record_answer(1, Answer(model="alpha", text="c"))
    await store.record_answer(1, Answer(model="beta", error="failed"))  # never audited
    await store.record_thumb(alpha, "u", -1, "wrong")
    await store.record_thumb(liked, "u", 1)
    assert await store.answers_to_audit("judge-x", 10) == [alpha, liked, beta]
    assert await store.answers_to_audit("judge-x", 2) == [alpha, liked]
    await store.record_grade(graded("Good"), alpha)
    await store.record_grade(graded("Good"), beta, kind="negated")  # a canary: still to audit
    assert await store.answers_to_audit("judge-x", 10) == [liked, beta]
    assert await store.answers_to_audit("judge-y", 10) == [alpha, liked, beta]
    assert await store.latest_audit() is None
    await store.record_audit("judge-x", {"answers": 1, "agreement": None})
    await store.record_audit("judge-x", {"answers": 2, "agreement": None})
    assert await store.latest_audit() == {"answers": 2, "agreement": None}
    # an audit that graded nothing (as older Parleys stored them) never hides the last real one
    await store.record_audit("judge-x", {"answers": 0, "agreement": None})
    assert (await store.latest_audit())["answers"] == 2
    await store.record_audit("judge-x", {"answers": 0, "agreement": {"battles": 1}})
    assert (await store.latest_audit())["agreement"] == {"battles": 1}


async def test_pair_verdicts_are_stored(store) -> None:
    alpha, beta = await answers(store)
    battle = await store.record_battle(1, alpha, beta)
    await store.record_pair_verdict(battle, "judge-x", PairVerdict("tie", "first", "first"))
    await store.record_pair_verdict(battle, "judge-x", PairVerdict(None, None, "second"))
    rows = await store._rows("SELECT winner, a_first, b_first FROM pair_verdicts ORDER BY id")
    assert [tuple(r) for r in rows] == [("tie", "first", "first"), (None, None, "second")]


async def test_an_unmeasured_criterion_is_kept_with_its_reason_and_left_out_of_means(
    store,
) -> None:
    alpha, _ = await answers(store)
    await store.record_grade(graded("Good", faithfulness="Worse"), alpha)
    nothing = graded("Good")
    del nothing.criteria["faithfulness"]
    nothing.unmeasured_criteria = {"faithfulness": "states nothing the passages could support"}
    await store.record_grade(nothing, alpha)
    (summary,) = await store.judge_summary()
    assert summary.graded == 2 and summary.criteria["faithfulness"] == pytest.approx(1.0)
    assert summary.score == pytest.approx((20 + 80) / 2)
    (row,) = await store._rows("SELECT criteria FROM grades WHERE score = 80")
    assert json.loads(row[0])["faithfulness"] == {
        "reason": "states nothing the passages could support",
        "level": None,
    }
