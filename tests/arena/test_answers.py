"""One contestant answers one question: what the Answer carries besides the text."""

from __future__ import annotations

from arena.answers import answer_question
from arena.compose import NOT_FOUND
from arena.types import Question
from knowledge.types import Hit, Passage
from tests.fakes.providers import fake, roster

HITS = [
    Hit(Passage("p1", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.9),
    Hit(Passage("p2", "Meals are capped at 60 EUR.", "/hb/expenses.pdf", "Expenses"), 0.5),
]


async def test_a_not_found_answer_cites_nothing_even_when_the_model_adds_markers() -> None:
    contestant = roster(fake("m", f"{NOT_FOUND} [1][2]")).get("m")
    answer = await answer_question(contestant, Question("What is the office wifi?", HITS))
    assert NOT_FOUND in answer.text
    assert answer.citations == [] and not answer.cited_fallback


async def test_an_uncited_answer_falls_back_to_the_top_passages() -> None:
    contestant = roster(fake("m", "Use shipit rollback.")).get("m")
    answer = await answer_question(contestant, Question("How do I roll back?", HITS))
    assert answer.cited_fallback and [c.passage.id for c in answer.citations][:1] == ["p1"]


async def test_the_answer_keeps_the_passages_its_prompt_showed() -> None:
    contestant = roster(fake("m", "Use shipit rollback [1].")).get("m")
    answer = await answer_question(contestant, Question("How do I roll back?", HITS))
    assert [p.id for p in answer.shown] == ["p1", "p2"]
