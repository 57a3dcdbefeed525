"""Agreement and Cohen's kappa, checked against counts worked out by hand."""

from __future__ import annotations

import json

import pytest

from arena.errors import InputError
from arena.judge.agreement import PairwiseVerdict, agreement, cohen_kappa, read_verdicts


def v(q: str, a: str, b: str, winner: str, judge: str = "", turn: int = 1) -> PairwiseVerdict:
    return PairwiseVerdict(q, a, b, winner, turn, judge)


def test_matches_either_order_and_counts_ties_as_fastchat() -> None:
    judge = [
        v("1", "x", "y", "model_a"),  # x wins
        v("2", "y", "x", "model_a"),  # y wins, shown in the other order
        v("3", "x", "y", "tie"),
        v("4", "x", "y", "model_b"),  # y wins
        v("5", "x", "z", "model_a"),  # nobody else judged this match
    ]
    people = [
        v("1", "y", "x", "model_b", "u1"),  # x wins: agrees, mirrored
        v("1", "x", "y", "model_b", "u2"),  # y wins: disagrees
        v("2", "x", "y", "model_b", "u1"),  # y wins: agrees
        v("3", "x", "y", "tie (bothbad)", "u1"),  # both ties: agree
        v("4", "x", "y", "tie", "u1"),  # tie against y: disagree, dropped without ties
    ]
    (turn,) = agreement(judge, people)
    # with ties: pairs (1,u1) (1,u2) (2,u1) (3,u1) (4,u1) -> 3 of 5 agree
    assert (turn.with_ties.agree, turn.with_ties.total) == (3, 5)
    # without ties: (1,u1) (1,u2) (2,u1) -> 2 of 3
    assert (turn.without_ties.agree, turn.without_ties.total) == (2, 3)
    assert turn.without_ties.ratio == pytest.approx(2 / 3)


def test_kappa_by_hand() -> None:
    # first: a .5, b .25, tie .25; second: a .5, b .5; observed 2/4
    # expected by chance: .5*.5 + .25*.5 + .25*0 = .375; kappa (.5-.375)/(1-.375) = .2
    pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("tie", "a")]
    assert cohen_kappa(pairs) == pytest.approx(0.2)
    assert cohen_kappa([("a", "a"), ("b", "b")]) == pytest.approx(1.0)
    assert cohen_kappa([("a", "a")]) is None  # chance explains everything
    assert cohen_kappa([]) is None


def test_one_set_with_itself_pairs_different_judges() -> None:
    votes = [
        v("1", "x", "y", "model_a", "u1"),
        v("1", "x", "y", "model_a", "u2"),
        v("1", "x", "y", "model_b", "u3"),
        v("1", "x", "y", "model_b", "u3", turn=2),
        v("1", "x", "y", "model_b", "u4", turn=2),
    ]
    first, second = agreement(votes)
    assert (first.with_ties.agree, first.with_ties.total) == (1, 3)  # u1-u2, u1-u3, u2-u3
    assert (second.turn, second.with_ties.agree, second.with_ties.total) == (2, 1, 1)


def test_read_verdicts_reports_bad_lines(tmp_path) -> None:
    good = {"question_id": 81, "model_a": "x", "model_b": "y", "winner": "model_a", "turn": 2}
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps(good) + "\n\n")
    (verdict,) = read_verdicts(path)
    assert verdict.match == ("81", 2, "x", "y")
    path.write_text(json.dumps({**good, "winner": "tie (inconsistent)"}) + "\n")
    assert read_verdicts(path)[0].outcome == "tie"  # as FastChat's judge files write it
    path.write_text(
        json.dumps(good)
        + "\n"
        + json.dumps({**good, "winner": "x"})
        + "\n{\n"
        + json.dumps({"model_a": "x"})
        + "\n"
    )
    with pytest.raises(InputError, match=r"line 2: winner.*line 3.*line 4: missing field"):
        read_verdicts(path)
