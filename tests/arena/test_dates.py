"""Time words in questions and dates in text, with today fixed."""

from __future__ import annotations

from datetime import date

import pytest

from arena.dates import (
    asks_when,
    days_between,
    mentioned_spans,
    overlaps,
    question_spans,
    relative_spans,
    says_when,
    span_text,
)

MONDAY = date(2026, 11, 30)
WEDNESDAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("question", "today", "span"),
    [
        ("Who is on call today?", WEDNESDAY, (WEDNESDAY, WEDNESDAY)),
        ("Who is on call tomorrow?", MONDAY, (date(2026, 12, 1), date(2026, 12, 1))),
        ("Who is on call this week?", WEDNESDAY, (MONDAY, date(2026, 12, 6))),
        ("Who is on call next week?", MONDAY, (date(2026, 12, 7), date(2026, 12, 13))),
        ("Who was on call last week?", MONDAY, (date(2026, 11, 23), date(2026, 11, 29))),
        ("Any freeze next month?", MONDAY, (date(2026, 12, 1), date(2026, 12, 31))),
        ("Any freeze next month?", date(2026, 12, 15), (date(2027, 1, 1), date(2027, 1, 31))),
        ("Who is on call in December?", MONDAY, (date(2026, 12, 1), date(2026, 12, 31))),
        ("What changed on 2026-11-16?", MONDAY, (date(2026, 11, 16), date(2026, 11, 16))),
        ("What changed on 3 March 2025?", MONDAY, (date(2025, 3, 3), date(2025, 3, 3))),
        ("What changed on March 3, 2025?", MONDAY, (date(2025, 3, 3), date(2025, 3, 3))),
        ("Where did it move in May of 2000?", MONDAY, (date(2000, 5, 1), date(2000, 5, 31))),
        (
            "Who spoke on the 20th of October in 1880?",
            MONDAY,
            (date(1880, 10, 1), date(1880, 10, 31)),
        ),
    ],
)
def test_question_time_words_name_days(question: str, today: date, span: tuple) -> None:
    assert question_spans(question, today) == [span]


def test_questions_without_time_words_name_no_days() -> None:
    assert question_spans("May I deploy on a Friday?", MONDAY) == []
    assert question_spans("What is the meal expense limit?", MONDAY) == []


def test_a_dated_row_about_weeks_covers_the_week_it_starts() -> None:
    row = "Week starting: 2026-11-30; Primary: Mei Chen"
    assert mentioned_spans(row) == [(MONDAY, date(2026, 12, 6))]
    assert overlaps(mentioned_spans(row), question_spans("on call today?", WEDNESDAY))
    earlier = mentioned_spans("Week starting: 2026-11-23; Primary: Luis Ortega")
    assert not overlaps(earlier, question_spans("on call today?", WEDNESDAY))


def test_text_dates_in_other_forms_and_impossible_ones() -> None:
    assert mentioned_spans("Reviewed October 2026.") == [(date(2026, 10, 1), date(2026, 10, 31))]
    assert mentioned_spans("Signed on 30 November 2026.") == [(MONDAY, MONDAY)]
    assert mentioned_spans("Version 2026-02-30 is not a day.") == []


def test_only_time_words_name_days_relative_to_today() -> None:
    assert relative_spans("Who is on call next week?", MONDAY) == [
        (date(2026, 12, 7), date(2026, 12, 13))
    ]
    assert relative_spans("Who is on call in December?", MONDAY) == [
        (date(2026, 12, 1), date(2026, 12, 31))
    ]
    assert relative_spans("What changed on 2026-11-16?", MONDAY) == []
    assert relative_spans("Where did it move in May of 2000?", MONDAY) == []


def test_days_between_spans_and_how_a_span_reads() -> None:
    week = (MONDAY, date(2026, 12, 6))
    assert days_between([week], [(date(2026, 12, 7), date(2026, 12, 13))]) == 1
    assert days_between([(date(2026, 12, 20), date(2026, 12, 20))], [week]) == 14
    assert days_between([week], [(WEDNESDAY, WEDNESDAY)]) == 0
    assert span_text(week) == "2026-11-30 to 2026-12-06"
    assert span_text((WEDNESDAY, WEDNESDAY)) == "2026-12-02"


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("When is the next on-call handover?", True),
        ("In what year was the colony founded?", True),
        ("Which century saw the first printing press?", True),
        ("Who is on call when the primary is away?", False),
        ("What is the meal expense limit?", False),
    ],
)
def test_questions_that_ask_when(question: str, asks: bool) -> None:
    assert asks_when(question) is asks


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Shifts hand over on Mondays at 10:00 UTC.", True),
        ("It was founded in 1555 by French sailors.", True),
        ("The fair is held every spring.", True),
        ("The report is due in May.", True),
        ("Week starting: 2026-11-30", True),
        ("You may deploy after the smoke tests pass.", False),
        ("At handover, the outgoing engineer writes a short note.", False),
        ("Hotels are reimbursed up to 150 EUR.", False),
    ],
)
def test_texts_that_say_a_time(text: str, says: bool) -> None:
    assert says_when(text) is says
