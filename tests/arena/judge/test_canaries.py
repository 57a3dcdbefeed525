"""Canaries are made from real answers and the report judges the judge by them."""

from __future__ import annotations

import math
import random

import pytest

from arena.compose import NOT_FOUND
from arena.judge.canaries import auc, canary_report, make_canaries
from arena.judge.facts import names_in, negations_in, numbers_in

PASSAGES = ["Tesla was born in 1856 in Smiljan. He moved to New York in 1884."]
ANSWER = "Tesla was born in 1856 in Smiljan."
OTHERS = ["Marconi built a radio in Bologna.", "The Normans settled in Normandy."]


def kinds(answer: str = ANSWER, others=OTHERS, seed: int = 0) -> dict[str, str]:
    return {c.kind: c.answer for c in make_canaries(answer, PASSAGES, others, random.Random(seed))}


def test_every_kind_is_made() -> None:
    made = kinds()
    assert set(made) == {"refusal", "off_topic", "swapped_number", "swapped_name", "negated"}
    assert made["refusal"] == NOT_FOUND
    assert made["off_topic"] in OTHERS


@pytest.mark.parametrize("seed", range(5))
def test_contradictions_state_what_the_passages_do_not(seed: int) -> None:
    made = kinds(seed=seed)
    context = " ".join(PASSAGES)
    new_numbers = numbers_in(made["swapped_number"]) - numbers_in(context)
    assert len(new_numbers) == 1 and made["swapped_number"] != ANSWER
    assert names_in(made["swapped_name"]) - names_in(context) <= {
        "bologna",
        "marconi",
        "normans",
        "normandy",
    }
    assert names_in(made["swapped_name"]) != names_in(ANSWER)
    assert made["negated"] == "Tesla was not born in 1856 in Smiljan."


def test_negation_takes_a_not_away_and_handles_plain_verbs() -> None:
    assert kinds("Tesla was not a chemist.")["negated"] == "Tesla was a chemist."
    assert kinds("Tesla moved to New York.")["negated"] == "Tesla never moved to New York."
    assert negations_in(kinds("Tesla moved to New York.")["negated"]) == 1


def test_nothing_to_swap_gives_no_such_canary() -> None:
    made = kinds("yes", others=[])
    assert set(made) == {"refusal"}


def test_auc_by_hand() -> None:
    assert auc([90, 80], [20, 30]) == 1.0
    assert auc([50], [50]) == 0.5
    assert auc([90, 40], [50, 20]) == pytest.approx(0.75)  # 3 of 4 pairs won
    assert math.isnan(auc([], [1]))


def test_report_flags_a_judge_that_fails_its_canaries() -> None:
    good = canary_report(
        [
            (1, "negated", 90, 20),
            (1, "refusal", 90, 50),
            (2, "negated", 80, 20),
            (2, "refusal", 80, None),
        ]
    )
    assert not good.flagged and good.auc == 1.0
    assert good.below == {"negated": 1.0, "refusal": 1.0} and good.counts["refusal"] == 1
    blind = canary_report([(1, "negated", 90, 90), (2, "negated", 80, 30)])
    assert blind.flagged and blind.below["negated"] == 0.5
    assert canary_report([(1, "negated", None, 20)]).flagged  # nothing measured, nothing shown
