"""The offline judge catches what embeddings miss: swapped numbers and names, negations,
off-topic answers and refusals score below the right answer."""

from __future__ import annotations

import json

import pytest

from arena.judge.faithfulness import NOTHING_STATED
from arena.judge.grades import Case
from arena.judge.offline import OfflineJudge
from arena.judge.pairwise import judge_pair

PASSAGES = [
    "Super Bowl 50 was played on February 7, 2016, at Levi's Stadium in Santa Clara. "
    "The Denver Broncos defeated the Carolina Panthers 24–10 to earn their third title.",
    "The game was not broadcast in 3D. CBS televised it in the United States.",
]
QUESTION = "Who won Super Bowl 50?"
RIGHT = "The Denver Broncos defeated the Carolina Panthers 24–10 to earn their third title."
WRONG = {
    "swapped number": RIGHT.replace("24", "27"),
    "swapped name": RIGHT.replace("Denver", "Seattle"),
    "negated": RIGHT.replace("defeated", "never defeated"),
    "off topic": "The Normans gave their name to Normandy, a region in France.",
    "refusal": "I could not find this in the knowledge base.",
}


@pytest.fixture(scope="module")
def judge(real_embedder) -> OfflineJudge:
    return OfflineJudge(lambda: real_embedder)


async def test_right_answer_scores_well(judge) -> None:
    grade = await judge.grade(Case(QUESTION, PASSAGES, RIGHT))
    assert grade.criteria["faithfulness"].level == "Excellent"
    # shares no word with the question ("won" / "defeated"), so relevance is only Good
    assert grade.score >= 70 and grade.context_relevance.level in ("Excellent", "Good")
    signals = json.loads(grade.raw)
    assert (signals["claims"], signals["contradicted"], signals["unverifiable"]) == (1, 0, 0)
    assert [s.support for s in grade.support.sentences] == ["supported"]


@pytest.mark.parametrize("kind", list(WRONG))
async def test_each_canary_scores_below_the_right_answer(judge, kind) -> None:
    right, wrong = await judge.grade_many(
        [Case(QUESTION, PASSAGES, RIGHT), Case(QUESTION, PASSAGES, WRONG[kind])]
    )
    assert wrong.score < right.score, wrong.criteria


async def test_faults_are_named_in_the_reason(judge) -> None:
    grades = await judge.grade_many([Case(QUESTION, PASSAGES, WRONG[k]) for k in WRONG])
    reasons = {
        k: g.criteria["faithfulness"].reason
        for k, g in zip(WRONG, grades, strict=True)
        if k != "refusal"
    }
    assert "states 27 where passage 1 says 24" in reasons["swapped number"]
    assert "names seattle" in reasons["swapped name"]
    assert "denies what passage 1 says" in reasons["negated"]
    refusal = grades[-1]
    assert refusal.criteria["relevance"].level == "Worse"
    # a refusal states nothing: its faithfulness is neither Excellent nor unfaithful but
    # unmeasured, and the score weighs the four graded criteria
    assert "faithfulness" not in refusal.criteria
    assert refusal.unmeasured_criteria == {"faithfulness": NOTHING_STATED}
    assert not refusal.unmeasured and refusal.score == refusal.legacy_score < 50


async def test_a_negation_the_passages_share_is_faithful(judge) -> None:
    grade = await judge.grade(
        Case("Was the game shown in 3D?", PASSAGES, "The game was not broadcast in 3D.")
    )
    assert grade.criteria["faithfulness"].level == "Excellent"
    dropped = await judge.grade(
        Case("Was the game shown in 3D?", PASSAGES, "The game was broadcast in 3D.")
    )
    assert dropped.criteria["faithfulness"].level == "Worse"


async def test_grades_keep_input_order_and_embed_each_text_once(hash_embedder) -> None:
    judge = OfflineJudge(lambda: hash_embedder)
    cases = [Case(QUESTION, PASSAGES, a) for a in (RIGHT, WRONG["negated"], RIGHT)]
    grades = await judge.grade_many(cases)
    assert grades[0].score == grades[2].score > grades[1].score
    assert hash_embedder.calls == 1 and hash_embedder.texts == 3  # question and two answers
    assert await judge.grade_many([]) == []


async def test_offline_pairwise_prefers_the_faithful_answer(hash_embedder) -> None:
    judge = OfflineJudge(lambda: hash_embedder)
    right, wrong = Case(QUESTION, PASSAGES, RIGHT), Case(QUESTION, PASSAGES, WRONG["swapped name"])
    assert (await judge_pair(judge, wrong, right)).winner == "model_b"


async def test_citation_markers_are_not_numbers(hash_embedder) -> None:
    judge = OfflineJudge(lambda: hash_embedder)
    grade = await judge.grade(Case(QUESTION, PASSAGES, RIGHT[:-1] + " [1, 2]."))
    assert grade.criteria["faithfulness"].level == "Excellent"
