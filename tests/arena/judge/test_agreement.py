"""Agreement and Cohen's kappa, checked against counts worked out by hand."""

from __future__ import annotations

import json

import pytest

from arena.errors import InputError
from arena.judge.agreement import (
    PairwiseVerdict,
    agreement,
    cohen_kappa,
    experts_only,
    read_verdicts,
)


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


def mt_bench_rows() -> tuple[list[dict], list[dict]]:
    """A few rows in the shape of MT-Bench's GPT-4 pair judgments and human judgments
    (the real files are not available offline): experts and the paper's authors vote."""

    def row(q, a, b, winner, judge, turn=1):
        return {
            "question_id": q,
            "model_a": a,
            "model_b": b,
            "winner": winner,
            "judge": judge,
            "turn": turn,
        }

    gpt4 = ["gpt-4", "pair-v2"]
    gpt4_rows = [
        row(81, "alpaca-13b", "gpt-3.5-turbo", "model_b", gpt4),
        row(82, "llama-13b", "vicuna-13b-v1.2", "tie", gpt4),
        row(83, "alpaca-13b", "gpt-3.5-turbo", "model_a", gpt4, turn=2),
    ]
    human_rows = [
        row(81, "alpaca-13b", "gpt-3.5-turbo", "model_b", "expert_0"),  # agrees
        row(81, "gpt-3.5-turbo", "alpaca-13b", "model_a", "expert_1"),  # agrees, mirrored
        row(81, "alpaca-13b", "gpt-3.5-turbo", "model_a", "author_0"),  # an author: left out
        row(82, "llama-13b", "vicuna-13b-v1.2", "tie (bothbad)", "expert_2"),  # tie = tie
        row(82, "llama-13b", "vicuna-13b-v1.2", "model_a", "author_1"),  # an author
        row(83, "alpaca-13b", "gpt-3.5-turbo", "model_b", "expert_0", turn=2),  # disagrees
    ]
    return gpt4_rows, human_rows


def test_mt_bench_counts_leave_the_authors_votes_out_as_fastchat_does(tmp_path) -> None:
    # FastChat's compute_agreement groups judges by name: "expert_N" are the humans its
    # published table counts, "author_N" a group of their own that it never compares
    gpt4_rows, human_rows = mt_bench_rows()
    gpt4_file, human_file = tmp_path / "gpt4.jsonl", tmp_path / "human.jsonl"
    gpt4_file.write_text("".join(json.dumps(r) + "\n" for r in gpt4_rows))
    human_file.write_text("".join(json.dumps(r) + "\n" for r in human_rows))
    gpt4, human = read_verdicts(gpt4_file), read_verdicts(human_file)
    assert [v.judge for v in human][:3] == ["expert_0", "expert_1", "author_0"]
    first, second = agreement(experts_only(gpt4), experts_only(human))
    # turn 1 with ties: (81, expert_0), (81, expert_1), (82, expert_2) all agree
    assert (first.with_ties.agree, first.with_ties.total) == (3, 3)
    # without ties GPT-4's tie on 82 drops that match
    assert (first.without_ties.agree, first.without_ties.total) == (2, 2)
    assert (second.turn, second.with_ties.agree, second.with_ties.total) == (2, 0, 1)
    # counting the authors, as Parley did, adds two disagreeing pairs with ties, one without
    with_authors, _ = agreement(gpt4, human)
    assert (with_authors.with_ties.agree, with_authors.with_ties.total) == (3, 5)
    assert (with_authors.without_ties.agree, with_authors.without_ties.total) == (2, 3)
