"""A question in a thread is searched on its own and with the thread's subject, fused."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.types import Turn
from bot.followup import followup_search, fuse_rankings, previous_question, thread_query
from knowledge.base import KnowledgeBase
from knowledge.types import Hit, Passage
from tests.conftest import HANDBOOK


@pytest.fixture(scope="module")
def handbook(tmp_path_factory, real_embedder) -> KnowledgeBase:
    kb = KnowledgeBase.open(tmp_path_factory.mktemp("followup"), embedder=real_embedder)
    kb.index([HANDBOOK])
    yield kb
    kb.close()


def thread(*questions: str) -> list[Turn]:
    turns = []
    for question in questions:
        turns += [Turn("user", question), Turn("assistant", "An answer [1].")]
    return turns


def test_a_question_that_names_its_subject_is_answered_from_that_subject(handbook) -> None:
    history = thread("How do I roll back a deploy?")
    top = [h.passage.text for h in followup_search(handbook.search, "What is a SEV1?", history, 5)]
    fused_rank = next(n for n, text in enumerate(top) if text.startswith("SEV1: a full outage"))
    # the old rule (previous question + this one) ranks the severity levels lower, behind
    # deploy pages that never define SEV1
    old = handbook.search(thread_query("What is a SEV1?", previous_question(history)), 5)
    old_texts = [h.passage.text for h in old]
    old_rank = next(
        (n for n, text in enumerate(old_texts) if text.startswith("SEV1: a full outage")), 5
    )
    assert fused_rank <= 2 and fused_rank < old_rank
    assert "SEV1" not in old_texts[0]


def test_a_question_that_leans_on_the_thread_gets_its_subject(handbook) -> None:
    history = thread("When does the billing worker run?")
    hits = followup_search(handbook.search, "Who owns it?", history, 5)
    assert hits[0].passage.text.startswith("Service: billing-worker")
    assert Path(hits[0].passage.source).name == "service-catalogue.xlsx"


def passage(name: str) -> Passage:
    return Passage(id=name, text=f"text of {name}", source=f"/docs/{name}.md", title=name)


def ranking(*names: str) -> list[Hit]:
    """Hits scored as hybrid search scores them: a clear best, one close behind, a tail."""
    scores = [0.9, 0.85, 0.1, 0.05, 0.0]
    return [Hit(passage(n), s) for n, s in zip(names, scores, strict=False)]


class FakeSearch:
    """Fixed rankings per query; records what it was asked."""

    def __init__(self, rankings: dict[str, list[str]]) -> None:
        self.rankings = rankings
        self.calls: list[tuple[str, int]] = []

    def __call__(self, query: str, k: int) -> list[Hit]:
        self.calls.append((query, k))
        return ranking(*self.rankings.get(query, []))[:k]


def test_without_an_earlier_question_there_is_one_plain_search() -> None:
    search = FakeSearch({"What is a SEV1?": ["sev", "deploy"]})
    hits = followup_search(search, "What is a SEV1?", [Turn("assistant", "Hello")], 5)
    assert [h.passage.id for h in hits] == ["sev", "deploy"]
    assert search.calls == [("What is a SEV1?", 5)]


def test_both_searches_run_deeper_than_k_and_a_shared_passage_comes_first() -> None:
    joined = "How do I roll back?\nWho owns it?"
    search = FakeSearch(
        {"Who owns it?": ["alone-only", "shared", "x"], joined: ["joined-only", "shared", "y"]}
    )
    history = [Turn("user", "Older question"), *thread("How do I roll back?")]
    hits = followup_search(search, "Who owns it?", history, 3)
    assert hits[0].passage.id == "shared"
    assert {h.passage.id for h in hits[1:]} == {"alone-only", "joined-only"}
    assert hits[0].score > hits[1].score > hits[2].score
    # the thread part is the latest user question only
    assert [q for q, _ in search.calls] == ["Who owns it?", joined]
    assert all(k > 3 for _, k in search.calls)


@pytest.mark.parametrize(("alone_weight", "second"), [(0.7, "a"), (0.3, "j")])
def test_the_weight_decides_between_the_two_rankings(alone_weight: float, second: str) -> None:
    alone, joined = ranking("a", "s", "x"), ranking("j", "s", "y")
    fused = fuse_rankings(alone, joined, 2, alone_weight=alone_weight)
    assert [h.passage.id for h in fused] == ["s", second]
