"""The composer: history budget, deduplicated context, the no-passages path; citations."""

from __future__ import annotations

from datetime import date

from arena.citations import resolve_citations
from arena.compose import NOT_FOUND, SYSTEM_PROMPT, compose, fit_history
from arena.types import Question, Turn
from knowledge.types import Hit, Passage


def hit(n: int, text: str, score: float = 1.0) -> Hit:
    return Hit(Passage(id=f"p{n}", text=text, source=f"doc{n}.md", title=f"Doc {n}"), score)


def test_history_keeps_newest_turns_whole_and_drops_older() -> None:
    history = [
        Turn("user", "old " * 300),
        Turn("assistant", "middle answer"),
        Turn("user", "newest"),
    ]
    kept = fit_history(history, budget=50)
    assert [t.text for t in kept] == ["middle answer", "newest"]


def test_prompt_dedupes_passages_numbers_them_and_ends_with_question() -> None:
    text = "Refunds are issued within fourteen days of a written request."
    hits = [hit(1, text), hit(2, text), hit(3, "Shipping takes three days.")]
    prompt = compose(Question("How long do refunds take?", hits, []))
    assert len(prompt.passages) == 2
    last = prompt.messages[-1]["content"]
    assert "[1]" in last and "[2]" in last and "[3]" not in last
    assert last.rstrip().endswith("How long do refunds take?")
    assert "instructions" in prompt.system and NOT_FOUND in prompt.system


def test_prompt_without_passages_says_so() -> None:
    prompt = compose(Question("Anything?", [], []))
    assert prompt.passages == []
    assert "no passages" in prompt.messages[-1]["content"]


def test_citations_map_ranges_lists_and_drop_dangling_markers() -> None:
    hits = [hit(n, f"text {n}") for n in range(1, 5)]
    text, citations, fallback = resolve_citations("A [1, 2]. B [3-4]. C [9].", hits)
    assert text == "A [1][2]. B [3][4]. C."
    assert [c.number for c in citations] == [1, 2, 3, 4]
    assert fallback is False


def test_uncited_answer_falls_back_to_top_passages_marked_uncited() -> None:
    hits = [hit(n, f"text {n}") for n in range(1, 6)]
    _, citations, fallback = resolve_citations("No markers here.", hits)
    assert fallback is True and [c.number for c in citations] == [1, 2, 3]


def test_system_message_tells_the_model_todays_date() -> None:
    prompt = compose(
        Question("Who is on call this week?", [hit(1, "rota")]), today=date(2026, 11, 30)
    )
    assert prompt.system.startswith(SYSTEM_PROMPT)
    assert "Today is Monday 30 November 2026 (2026-11-30)." in prompt.system
    assert prompt.today == date(2026, 11, 30)
    assert str(date.today().year) in compose(Question("When?", [])).system
