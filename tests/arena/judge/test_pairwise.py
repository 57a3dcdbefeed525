"""Both orders are judged; a verdict that flips with the order is a tie."""

from __future__ import annotations

from arena.judge.grades import Case
from arena.judge.pairwise import judge_pair

A = Case("q", ["p"], "answer one")
B = Case("q", ["p"], "answer two")


class FirstAlways:
    """The classic position bias: whatever is shown first wins."""

    name = "biased"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def prefer(self, first: Case, second: Case):
        self.seen.append((first.answer, second.answer))
        return "first"


class Prefers:
    name = "fair"

    def __init__(self, best: str | None) -> None:
        self.best = best

    async def prefer(self, first: Case, second: Case):
        if self.best is None:
            return "tie"
        return "first" if first.answer == self.best else "second"


class Fails:
    name = "broken"

    async def prefer(self, first: Case, second: Case):
        return None if first is B else "first"


async def test_position_bias_becomes_a_tie() -> None:
    judge = FirstAlways()
    verdict = await judge_pair(judge, A, B)
    assert verdict.winner == "tie" and not verdict.consistent
    assert sorted(judge.seen) == [("answer one", "answer two"), ("answer two", "answer one")]


async def test_consistent_verdicts_stand() -> None:
    assert (await judge_pair(Prefers("answer one"), A, B)).winner == "model_a"
    assert (await judge_pair(Prefers("answer two"), A, B)).winner == "model_b"
    tie = await judge_pair(Prefers(None), A, B)
    assert tie.winner == "tie" and tie.consistent


async def test_a_tie_against_a_preference_is_an_inconsistent_tie() -> None:
    class TieFirst:
        name = "half"

        async def prefer(self, first: Case, second: Case):
            return "tie" if first is A else "first"

    verdict = await judge_pair(TieFirst(), A, B)
    assert verdict.winner == "tie" and not verdict.consistent


async def test_an_unmeasured_order_gives_no_verdict() -> None:
    verdict = await judge_pair(Fails(), A, B)
    assert verdict.winner is None and verdict.b_first is None
