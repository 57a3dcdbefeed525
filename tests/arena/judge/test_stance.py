"""Opinions, feelings, the speaker's own experience, recommendations and courtesies are
not claims: never flagged, never a contradiction, though their words weigh in the value;
a stance that carries a number, or a name in a relation, still claims something."""

from __future__ import annotations

import pytest

from arena.judge.facts import names_in
from arena.judge.stance import is_stance
from arena.judge.support import check_support, support_check

PASSAGES = [
    "On-call shifts last one week and hand over on Mondays at 10:00. Pages go out"
    " through PagerDuty. Everyone enjoyed the release party."
]


@pytest.mark.parametrize(
    "sentence",
    [
        "I agree, I enjoy Pop music in general",
        "I played in high school.",
        "I'm not too familiar with it.",
        "Haha, well I just think he is very talented.",
        "I recommend you check it out when you are free.",
        "You may also like it.",
        "If you like thrillers, you will like it.",
        "Enjoy!",
        "She's a great actress!",
        "The team is good.",
        "I could not find this in the knowledge base.",
    ],
)
def test_opinions_recommendations_and_courtesies_are_stances(sentence: str) -> None:
    assert is_stance(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "It is a drama and crime movie.",  # three content words, no taste
        "Shifts last one week.",
        "I paid 40 EUR for the ticket.",  # a number is checkable
        "I loved him in Takers.",  # says he was in Takers
        "You might also like The Notebook starring Ryan Gosling.",
        "I believe he plays the drums and guitar.",  # what is believed is claimed
        "I'm not sure, but I believe he was born in Honolulu, Hawaii.",
        "I can confirm the pager number is on the wiki.",
        "We recognised revenue of the contract over time.",  # "we": a company's report
    ],
)
def test_statements_wrapped_in_a_stance_are_still_claims(sentence: str) -> None:
    assert not is_stance(sentence)


def test_a_stance_is_never_flagged_but_its_words_weigh_in_the_value() -> None:
    plain = "Shifts last one week."
    with_opinion = f"{plain} I really love that, it is so relaxed."
    core, opinion = check_support(with_opinion, PASSAGES)
    assert (core.support, opinion.support) == ("supported", "not_a_claim")
    assert not opinion.flagged and opinion.passage_index is None
    assert opinion.claims  # kept for the value, though not a claim
    check = support_check(with_opinion, PASSAGES)
    assert [c.text for c in check.claims] == [plain]  # what the grade names
    assert check.value < support_check(plain, PASSAGES).value == 1.0
    assert check.flagged_share == 0.0


def test_a_stance_contradicts_nothing() -> None:
    # lined up with "Everyone enjoyed the release party", the negation would read as a
    # contradiction; the speaker's own taste is not one
    (sentence,) = check_support("I never enjoyed the release party.", PASSAGES)
    assert sentence.support == "not_a_claim" and not sentence.flagged
    assert [c.support for c in sentence.claims] == ["unverifiable"]
    assert support_check("I never enjoyed the release party.", PASSAGES).value > 0
    (claimed,) = check_support("Nobody enjoyed the release party.", PASSAGES)
    assert claimed.support == "contradicted" and claimed.flagged


def test_a_pronoun_with_a_clitic_is_not_a_name() -> None:
    assert names_in("Then I'm sure He's right about Tesla's car") == {"tesla's"}


def test_a_stance_beside_a_claim_in_one_sentence_leaves_the_claim_checked() -> None:
    (sentence,) = check_support(
        "I really love that rota, and shifts hand over on Fridays at 10:00.", PASSAGES
    )
    opinion, claim = sentence.claims
    assert opinion.stance and not claim.stance
    assert sentence.support == claim.support == "contradicted"  # Mondays, not Fridays
    check = support_check(sentence.text, PASSAGES)
    assert check.claims == [claim]
