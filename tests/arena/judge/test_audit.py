"""Audits: thumbs-down answers first, canaries graded beside them, a slow grade held to
its timeout while the rest finish, and the report stored."""

from __future__ import annotations

import json
import random
import time

import pytest

from arena.compose import NOT_FOUND
from arena.judge.audit import graded_nothing, run_audit
from arena.judge.grades import GRADE_SCHEMA
from arena.judge.llm import LLMJudge
from arena.judge.offline import OfflineJudge
from arena.roster import build_roster
from arena.store import Store
from arena.types import Answer, ModelSpec
from knowledge.types import Hit, Passage
from tests.fakes.http_server import Scripted
from tests.fakes.providers import openai_reply

pytestmark = pytest.mark.both_engines

BOWL = Passage(
    "p1",
    "The Denver Broncos defeated the Carolina Panthers 24–10 to win Super Bowl 50.",
    "/kb/bowl.md",
    "Super Bowl",
)
MEALS = Passage(
    "p2", "Meals on business trips are capped at 60 EUR a day.", "/kb/exp.md", "Expenses"
)


async def ask(store: Store, text: str, passage: Passage, *answers: tuple[str, str]) -> list[int]:
    q = await store.record_question(
        platform="cli", channel="c", user="u", thread=None, text=text, hits=[Hit(passage, 0.9)]
    )
    return [
        await store.record_answer(q, Answer(model=model, text=reply, shown=[passage]))
        for model, reply in answers
    ]


async def test_audit_grades_reports_and_remembers(store, real_embedder) -> None:
    _, wrong = await ask(
        store,
        "Who won Super Bowl 50?",
        BOWL,
        ("alpha", "The Denver Broncos defeated the Carolina Panthers 24–10."),
        ("beta", "The Denver Broncos defeated the Carolina Panthers 31–10."),
    )
    (meals,) = await ask(
        store, "What is the meal cap?", MEALS, ("alpha", "Meals are capped at 60 EUR a day.")
    )
    await store.record_thumb(wrong, "ann", -1, "the score is wrong")
    await store.record_thumb(meals, "bo", 1)
    judge = OfflineJudge(lambda: real_embedder)
    report = await run_audit(store, judge, sample=10, rng=random.Random(1))
    assert report["answers"] == 3 and report["unmeasured"] == 0
    assert report["models"]["alpha"]["score"] > report["models"]["beta"]["score"] == 20
    worst = report["worst"][0]
    assert worst["answer_id"] == wrong and worst["thumbs_down"] == ["the score is wrong"]
    assert "states 31 where passage 1 says 24" in worst["faults"]["faithfulness"]
    assert report["thumbs"]["down"] == {"answers": 1, "score": 20}
    assert report["thumbs"]["up"] == {"answers": 1, "score": 74}  # bo's thumb on meals
    assert [w["thumbs_down"] for w in report["worst"]][1:] == [[], []]
    # both thumbs agree with the judge (20 is below approval, 74 above)
    assert report["thumbs"]["agreement"] == {"thumbs": 2, "ratio": 1.0, "kappa": 1.0}
    canaries = report["canaries"]
    # beta's wrong answer is at the floor: its canaries cannot score below it, so they
    # do not count; alpha's two answers hold theirs
    assert canaries["counts"]["refusal"] == 2 and canaries["counts"]["off_topic"] == 2
    assert not canaries["flagged"]
    # the support check ran beside the judge: beta's one sentence contradicts its passage
    assert report["models"]["beta"]["support"]["flagged_share"] == 1.0
    assert report["models"]["alpha"]["support"]["flagged_share"] == 0.0
    assert report["models"]["alpha"]["support"]["disagree"] == 0  # the judge is the check
    # stored: the grades (canaries apart), and the report as the latest audit
    assert {s.model: s.graded for s in await store.judge_summary("offline")} == {
        "alpha": 2,
        "beta": 1,
    }
    assert await store.latest_audit() == json.loads(json.dumps(report))
    again = await run_audit(store, judge, sample=10)
    assert again["answers"] == 0 and again["canaries"] is None
    # nothing new was graded: the last real report stays the latest (issue 22, item 9)
    assert await store.latest_audit() == json.loads(json.dumps(report))
    (count,) = await store._rows("SELECT COUNT(*) FROM audits")
    assert count[0] == 1
    assert meals in (w["answer_id"] for w in report["worst"])


async def test_a_slow_grade_is_cut_off_and_does_not_hold_the_rest(
    store, fake_api, monkeypatch, closing
) -> None:
    reply = {c: {"reason": "fine", "level": "Good"} for c in GRADE_SCHEMA["required"]}

    def respond(seen) -> Scripted:
        slow = "SLOW" in json.dumps(seen.body)
        return Scripted(body=openai_reply(json.dumps(reply)), delay=3.0 if slow else 0.2)

    fake_api.route("POST", "/v1/chat/completions", respond)
    for n in range(5):
        await ask(store, f"Question {n}?", BOWL, ("alpha", "SLOW" if n == 2 else f"Answer {n}."))
    monkeypatch.setenv("TEST_KEY", "sk-test")
    spec = ModelSpec(
        name="judge-model",
        provider="openai",
        model="gpt-judge",
        base_url=fake_api.url + "/v1",
        api_key_env="TEST_KEY",
        max_retries=0,
        concurrency=8,
    )
    judge = LLMJudge(closing(build_roster([spec])).get("judge-model"), timeout=0.8)
    started = time.perf_counter()
    report = await run_audit(store, judge, sample=10, canary_answers=0)
    elapsed = time.perf_counter() - started
    assert report["answers"] == 5 and report["unmeasured"] == 1
    assert report["models"]["alpha"]["score"] == 80  # the four measured grades
    # the support check ran beside the LLM judge: "Answer 1." is nowhere in the passage,
    # so it calls the four measured answers unfaithful where the judge said Good
    support = report["models"]["alpha"]["support"]
    assert (support["compared"], support["disagree"], support["disagreement"]) == (4, 4, 1.0)
    # the slow answer's check counts too: "SLOW" is unverifiable but names no number or
    # name, so it is not flagged, where "Answer 1." states a number the passage lacks
    assert support["flagged_share"] == 0.8
    rows = await store._rows("SELECT judge, support IS NOT NULL FROM grades")
    assert {tuple(r) for r in rows} == {("judge-model", 1)}
    assert elapsed < 2.5  # not 5 x 0.2 s in a row, and not the slow 3 s
    assert len(fake_api.seen("/v1/chat/completions")) == 5


async def test_audit_sets_pairwise_verdicts_against_the_votes(store, real_embedder) -> None:
    right, wrong = await ask(
        store,
        "Who won Super Bowl 50?",
        BOWL,
        ("alpha", "The Denver Broncos defeated the Carolina Panthers 24–10."),
        ("beta", "The Seattle Seahawks defeated the Carolina Panthers 24–10."),
    )
    battle = await store.record_battle(1, wrong, right)  # the wrong answer shown as A
    await store.record_vote(battle, "ann", "b")  # agrees with the judge
    await store.record_vote(battle, "bob", "a")  # does not
    await store.record_vote(battle, "cy", "both_bad")  # a tie: only counts with ties
    judge = OfflineJudge(lambda: real_embedder)
    report = await run_audit(store, judge, sample=10, canary_answers=0)
    votes = report["agreement"]
    assert (votes["battles"], votes["unmeasured"], votes["position_flips"]) == (1, 0, 0)
    assert (votes["with_ties"]["agree"], votes["with_ties"]["total"]) == (1, 3)
    assert (votes["without_ties"]["agree"], votes["without_ties"]["total"]) == (1, 2)
    rows = await store._rows("SELECT battle_id, judge, winner FROM pair_verdicts")
    assert [tuple(r) for r in rows] == [(battle, "offline", "model_b")]
    assert (await run_audit(store, judge, sample=10))["agreement"] is None  # judged once


async def test_an_answer_that_states_nothing_is_graded_without_faithfulness(
    store, hash_embedder
) -> None:
    await ask(
        store,
        "Who won Super Bowl 50?",
        BOWL,
        ("alpha", "The Denver Broncos defeated the Carolina Panthers 24–10."),
        ("beta", NOT_FOUND),
    )
    judge = OfflineJudge(lambda: hash_embedder)
    report = await run_audit(store, judge, sample=10, canary_answers=0)
    beta = report["models"]["beta"]
    # the refusal is scored (relevance Worse) but its faithfulness is neither Excellent nor
    # unfaithful: no level to average, nothing to compare the check against
    assert beta["unmeasured"] == 0 and beta["score"] < 50
    assert beta["criteria"]["faithfulness"] is None
    assert beta["support"]["compared"] == 0 and beta["support"]["flagged_share"] is None
    assert report["models"]["alpha"]["support"]["compared"] == 1


def test_an_audit_graded_nothing_only_without_answers_and_without_battles() -> None:
    """The CLI and the scheduler say "nothing new" only when neither part graded."""
    assert graded_nothing({"answers": 0, "agreement": None})
    assert graded_nothing({"answers": 0})
    assert not graded_nothing({"answers": 0, "agreement": {"battles": 3}})
    assert not graded_nothing({"answers": 2, "agreement": None})
    assert not graded_nothing({"answers": 2, "agreement": {"battles": 3}})


async def test_an_audit_holds_an_answer_against_the_passages_as_shown_with_title_and_place(
    store, hash_embedder
) -> None:
    """The prompt heads each passage with its title and place, so "Berlin" from a heading
    is in the sources: the audit, reading the answer back from the store, agrees with the
    live flags rather than calling it a name the sources never state."""
    from bot.flags import sentence_flags

    per_diem = Passage(
        "p3",
        "Meals are capped at 60 EUR a day.",
        "/kb/travel.pdf",
        "Travel policy",
        heading_path=("Per diem", "Berlin"),
        location="page 4",
    )
    reply = "In Berlin, meals are capped at 60 EUR a day."
    await ask(store, "What is the meal cap in Berlin?", per_diem, ("alpha", reply))
    (live,) = sentence_flags(Answer(model="alpha", text=reply, shown=[per_diem]))
    assert (live.support, live.flagged) == ("supported", False)
    report = await run_audit(store, OfflineJudge(lambda: hash_embedder), sample=10)
    support = report["models"]["alpha"]["support"]
    assert support["compared"] == 1 and support["flagged_share"] == 0
