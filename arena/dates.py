"""Which days a question's time words point at, and which days a text mentions.

"Who is on call this week?" means the week that holds today; a rota row "Week starting:
2026-11-30" covers that week. The offline answerers use both halves to prefer the rows
whose dates match the question; ``today`` is always passed in, so tests can fix it.
Only unambiguous forms are read: ISO dates (2026-11-30), "30 November 2026",
"November 30, 2026", "November 2026" and, in questions, month names alone. A question
asking "when" is answered by a text that says a time in any form ("on Mondays at 10:00
UTC", "in 1555", "every spring"): ``asks_when`` and ``says_when`` tell both apart.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

__all__ = [
    "Span",
    "asks_when",
    "days_between",
    "mentioned_spans",
    "overlaps",
    "question_spans",
    "relative_spans",
    "relative_words",
    "says_when",
    "span_text",
]

Span = tuple[date, date]  # first and last day, both included

# English names, written out: calendar.month_name follows the process's locale.
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTHS = {name: n for n, name in enumerate(_MONTH_NAMES, 1)}
_MONTHS |= {name[:3]: n for n, name in enumerate(_MONTH_NAMES, 1)} | {"sept": 9}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? ({_MONTH})\.?,? (\d{{4}})\b", re.I)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b({_MONTH})\.?,? (?:of |in )?(\d{{4}})\b", re.I)  # "May of 2000"
# A month named alone counts after a preposition only ("in May", not "May I"), in full,
# and not when a year follows ("in May of 2000" is May 2000, not this year's May).
_MONTH_ALONE = re.compile(
    r"\b(?:in|during|for|of|until|through|by|from|since|before|after) ("
    + "|".join(_MONTH_NAMES)
    + r")\b(?!\.?,? (?:of |in )?\d)",
    re.I,
)
_RELATIVE = re.compile(
    r"\b(today|tonight|tomorrow|yesterday|(?:this|next|last) (?:week|month))\b", re.I
)
_WEEK = re.compile(r"\bweeks?\b", re.I)
_WHEN = re.compile(
    r"^\W*when\b|\b(?:what|which) (?:year|month|day|date|time|century|decade|season)s?\b", re.I
)
# a time in any form: a year or decade, a time of day, a weekday, a season, a century, how
# often; month names count capitalised only ("May", not "may")
_TIME_SAID = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b|\b\d{1,2}:\d{2}\b|\b\d{1,2} ?[ap]\.?m\b"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)days?\b|\b(?:centur(?:y|ies)|decades?|daily"
    r"|weekly|monthly|yearly|annually|nightly|morning|evening|night|noon|midnight|spring"
    r"|summer|autumn|winter|dawn|dusk|BCE?|AD)\b",
    re.I,
)
_MONTH_SAID = re.compile(r"\b(?:" + "|".join(n.title() for n in _MONTHS) + r")\b")


def question_spans(question: str, today: date) -> list[Span]:
    """The days the question's time words and dates name; [] when it names none."""
    return relative_spans(question, today) + mentioned_spans(question)


def relative_spans(question: str, today: date) -> list[Span]:
    """The days the question names relative to ``today`` ("this week", "in December")."""
    spans = [_relative_span(m.group(1).lower(), today) for m in _RELATIVE.finditer(question)]
    for match in _MONTH_ALONE.finditer(question):
        month = _MONTHS[match.group(1).lower()]
        spans.append(_month_span(today.year, month))
    return spans


def relative_words(question: str) -> str:
    """The question's words that name days relative to today ("today", "this week", "in
    December"), which a dated text answers by its dates rather than by saying them."""
    found = [m.group(1) for m in _RELATIVE.finditer(question)]
    found += [m.group(1) for m in _MONTH_ALONE.finditer(question)]
    return " ".join(found)


def mentioned_spans(text: str) -> list[Span]:
    """The dates written in a text; in a text about weeks ("Week starting ...") each
    date stands for the seven days it starts, and a month with its year for the month."""
    days = [_day(int(y), int(m), int(d)) for y, m, d in _ISO.findall(text)]
    days += [_day(int(y), _MONTHS[m.lower()], int(d)) for d, m, y in _DAY_MONTH.findall(text)]
    days += [_day(int(y), _MONTHS[m.lower()], int(d)) for m, d, y in _MONTH_DAY.findall(text)]
    length = timedelta(days=6 if _WEEK.search(text) else 0)
    spans = [(day, day + length) for day in days if day is not None]
    dated = _DAY_MONTH.sub("", _MONTH_DAY.sub("", text))  # a full date is not also a month
    spans += [_month_span(int(y), _MONTHS[m.lower()]) for m, y in _MONTH_YEAR.findall(dated)]
    return spans


def overlaps(spans: list[Span], others: list[Span]) -> bool:
    return any(a <= d and c <= b for a, b in spans for c, d in others)


def days_between(spans: list[Span], others: list[Span]) -> int:
    """Days from the nearest of ``spans`` to the nearest of ``others``; 0 when they overlap."""
    return min(max((c - b).days, (a - d).days, 0) for a, b in spans for c, d in others)


def span_text(span: Span) -> str:
    """A span as a reader checks it against a dated document: ISO days."""
    first, last = span
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def asks_when(question: str) -> bool:
    """Whether the question asks for a time ("When is the handover?", "What year...")."""
    return bool(_WHEN.search(question))


def says_when(text: str) -> bool:
    """Whether the text says a time in a form a "when" question is answered with."""
    return bool(_TIME_SAID.search(text) or _MONTH_SAID.search(text) or mentioned_spans(text))


def _relative_span(words: str, today: date) -> Span:
    if words in ("today", "tonight"):
        return today, today
    if words in ("tomorrow", "yesterday"):
        day = today + timedelta(days=1 if words == "tomorrow" else -1)
        return day, day
    which, unit = words.split()
    step = {"this": 0, "next": 1, "last": -1}[which]
    if unit == "week":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
        return monday, monday + timedelta(days=6)
    month = today.month - 1 + step
    return _month_span(today.year + month // 12, month % 12 + 1)


def _month_span(year: int, month: int) -> Span:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 2026-02-30 and the like are not dates
        return None
