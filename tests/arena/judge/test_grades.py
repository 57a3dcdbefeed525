"""Score arithmetic on the legacy scale, and the faithfulness cap."""

from __future__ import annotations

import pytest

from arena.judge.grades import (
    CRITERIA,
    GRADE_SCHEMA,
    LEGACY_WEIGHTS,
    Grade,
    GradeReply,
    Judged,
    legacy_score,
    parley_score,
)


def levels(default: str, **overrides: str) -> dict[str, str]:
    return {c: overrides.get(c, default) for c in CRITERIA}


def test_legacy_scale_ends() -> None:
    assert legacy_score(levels("Excellent")) == 100
    assert legacy_score(levels("Worse")) == 20
    assert sum(LEGACY_WEIGHTS.values()) == pytest.approx(1.0)


def test_legacy_weights_relevance_counts_most() -> None:
    # relevance 0.5: Excellent -> Worse costs 0.5 * 4 * 20 = 40 points
    assert legacy_score(levels("Excellent", relevance="Worse")) == pytest.approx(60)
    # faithfulness 0.2: the old system could lose at most 16 points for an invented fact
    assert legacy_score(levels("Excellent", faithfulness="Worse")) == pytest.approx(84)
    assert legacy_score(levels("Good", clarity="Fair")) == pytest.approx(78)


def test_faithfulness_caps_parley_score() -> None:
    wrong = levels("Excellent", faithfulness="Worse")
    assert legacy_score(wrong) == pytest.approx(84)
    assert parley_score(wrong) == 20
    assert parley_score(levels("Excellent", faithfulness="Fair")) == 60
    # below the cap the two scores are the same
    modest = levels("Fair", faithfulness="Excellent")
    assert parley_score(modest) == legacy_score(modest) == pytest.approx(68)


def test_an_unmeasured_criterion_is_left_out_of_the_scores() -> None:
    graded = {c: "Excellent" for c in CRITERIA if c != "faithfulness"} | {"relevance": "Worse"}
    # relevance weighs 0.5 of the 0.8 still graded: (0.5 * 1 + 0.3 * 5) / 0.8 levels
    assert legacy_score(graded) == pytest.approx(50)
    assert parley_score(graded) == legacy_score(graded)  # no faithfulness cap to apply
    grade = Grade("offline", {c: Judged(reason="-", level=v) for c, v in graded.items()})
    grade.unmeasured_criteria = {"faithfulness": "states nothing the passages could support"}
    assert not grade.unmeasured and grade.score == pytest.approx(50)
    assert grade.as_dict()["unmeasured_criteria"] == grade.unmeasured_criteria


def test_unmeasured_grade_has_no_score() -> None:
    grade = Grade.failed("judge", "invalid reply twice")
    assert grade.unmeasured and grade.score is None and grade.legacy_score is None
    assert grade.as_dict()["score"] is None


def test_reply_shape_and_schema_agree() -> None:
    reply = GradeReply.model_validate(
        {c: {"reason": "ok", "level": "Good"} for c in GRADE_SCHEMA["required"]}
    )
    grade = Grade.from_reply("judge", reply)
    assert grade.score == 80 and grade.context_relevance == Judged(reason="ok", level="Good")
    assert set(GRADE_SCHEMA["required"]) == set(CRITERIA) | {"context_relevance"}
    for name in GRADE_SCHEMA["required"]:
        criterion = GRADE_SCHEMA["properties"][name]
        assert list(criterion["properties"]) == ["reason", "level"]  # reason written first
        assert criterion["additionalProperties"] is False
