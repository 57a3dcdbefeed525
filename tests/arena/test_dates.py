"""Time words in questions and dates in text, with today fixed."""

from __future__ import annotations

from datetime import date

import pytest

from arena.dates import mentioned_spans, overlaps, question_spans

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
