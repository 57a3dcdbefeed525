"""An answer's claims: sentences where they stand, clauses where a sentence joins two,
and no claim in a question, greeting, bare agreement or hedge."""

from __future__ import annotations

import pytest

from arena.judge.claims import clauses_of, is_claim, sentences_of
from arena.judge.stance import without_lead_in


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # lower-case chat is split
            "Hi there! shifts last one week. they hand over on Mondays.\nPages use PagerDuty",
            [
                "Hi there!",
                "shifts last one week.",
                "they hand over on Mondays.",
                "Pages use PagerDuty",
            ],
        ),
        (  # citation markers after a sentence end it rather than start the next
            "Expenses under 100 EUR are approved automatically. [1] Larger ones need your"
            " manager. [1][2] Over 1,000 EUR, finance signs too [3]. Ask in #finance.\n"
            "[4] is the form.",
            [
                "Expenses under 100 EUR are approved automatically. [1]",
                "Larger ones need your manager. [1][2]",
                "Over 1,000 EUR, finance signs too [3].",
                "Ask in #finance.",
                "[4] is the form.",  # a marker on a line of its own begins that line
            ],
        ),
    ],
)
def test_sentences_are_split_and_keep_their_place(text: str, expected: list[str]) -> None:
    sentences = sentences_of(text)
    assert [s.text for s in sentences] == expected
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_initials_and_abbreviations_do_not_end_a_sentence() -> None:
    text = "He was succeeded by Sergeant Major Daniel A. Dailey in 2015, e.g. after a vote."
    assert [s.text for s in sentences_of(text)] == [text]


def test_an_over_long_sentence_is_cut_where_it_stands() -> None:
    text = " ".join(f"cell{n}" for n in range(150))  # a table row with no full stop
    pieces = sentences_of(text)
    assert [len(p.text.split()) for p in pieces] == [60, 60, 30]
    assert all(text[p.start : p.end] == p.text for p in pieces)


@pytest.mark.parametrize(
    "sentence",
    [
        "What genres are you interested in?",
        "Hope this helps!",
        "Thanks so much!",
        "Yes, that's right.",
        "I'm not sure.",
        "Let me know if you need anything else.",
        "...",
    ],
)
def test_questions_greetings_agreement_and_hedges_are_not_claims(sentence: str) -> None:
    assert not is_claim(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Shifts last one week.",
        "I'm not sure, but the stipend is 250 EUR a week.",  # a hedge that still claims
        "Yes, the pager number is +1 555 0100.",
    ],
)
def test_statements_are_claims(sentence: str) -> None:
    assert is_claim(sentence)


def test_a_sentence_that_joins_two_statements_is_two_claims() -> None:
    two = "Pages go out through PagerDuty, and the secondary is paged after 10 minutes."
    assert clauses_of(two) == [
        "Pages go out through PagerDuty",
        "the secondary is paged after 10 minutes.",
    ]
    # a short list joined with "and" stays one claim
    assert clauses_of("It takes red, and blue.") == ["It takes red, and blue."]
    assert without_lead_in("I'm not sure, but the stipend is 250 EUR") == "the stipend is 250 EUR"


def test_a_lead_in_is_dropped_only_where_it_stands_apart() -> None:
    assert without_lead_in("No, the stipend is 250 EUR") == "the stipend is 250 EUR"
    assert without_lead_in("I think that shifts last a week") == "shifts last a week"
    # "No" that belongs to the claim stays: it is what the claim says
    assert without_lead_in("No significant gains were reclassified") == (
        "No significant gains were reclassified"
    )
