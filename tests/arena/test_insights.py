"""The dashboard's reads and figures: recent questions with everything they got, text
search, knowledge gaps, a model's answers and reasons, audits, votes per period, the
score history, the pair matrices, topics, and the board with ties as half wins."""

from __future__ import annotations

import math
import time

import pytest

from arena.compose import NOT_FOUND
from arena.insights import MAX_SEARCH_CHARS, UnansweredQuestion, like_pattern
from arena.leaderboard import build_board
from arena.pair_table import PairTable
from arena.store import BattleRecord, PairCount, Store
from arena.trends import audit_grades, pair_matrix, score_history, topic_groups
from arena.types import Answer, Citation
from knowledge.types import Passage

pytestmark = pytest.mark.both_engines

PASSAGE = Passage("p1", "Run shipit rollback.", "/docs/deploys.md", "Deploys", ("Rollback",), "")


async def ask(store: Store, text: str, *answers: Answer, channel: str = "C1") -> tuple[int, list]:
    question = await store.record_question(
        platform="slack", channel=channel, user="u", thread=None, text=text, hits=[]
    )
    return question, [await store.record_answer(question, a) for a in answers]


async def test_recent_questions_carry_answers_sources_votes_and_thumbs(store: Store) -> None:
    cited = Answer("alpha", text="Run it [1].", citations=[Citation(1, PASSAGE)])
    question, (left, right) = await ask(
        store, "How to roll back?", cited, Answer("beta", text="No.")
    )
    battle = await store.record_battle(question, left, right)
    for user, choice in (("a", "a"), ("b", "a"), ("c", "tie")):
        await store.record_vote(battle, user, choice)
    await store.record_thumb(left, "d", 1)
    await store.record_thumb(right, "e", -1, "wrong")
    await store.bulk_record_battles([BattleRecord("alpha", "beta", "a", 1.0)])  # no text
    (record,) = await store.recent_questions()
    assert record.text == "How to roll back?" and record.channel == "C1"
    first, second = record.answers
    assert (first.model, first.thumbs_up, first.thumbs_down) == ("alpha", 1, 0)
    assert [(s.number, s.source, s.location) for s in first.sources] == [
        (1, "/docs/deploys.md", "Rollback")
    ]
    assert (second.model, second.thumbs_down) == ("beta", 1)
    assert record.battle.answer_a == left and record.battle.votes == {"a": 2, "tie": 1}


async def test_a_search_longer_than_the_limit_is_refused_before_any_sql(store: Store) -> None:
    """SQLite refuses a LIKE pattern over 50,000 bytes ("pattern too complex"), and
    nobody searches with a page of text: the limit is far below both."""
    await ask(store, "a" * MAX_SEARCH_CHARS, Answer("alpha", text="Yes."))
    assert len(await store.recent_questions(search="a" * MAX_SEARCH_CHARS)) == 1
    with pytest.raises(ValueError, match=f"at most {MAX_SEARCH_CHARS}"):
        await store.recent_questions(search="é" * 30_000)


async def test_questions_page_back_and_search_their_answers_too(store: Store) -> None:
    ids = [
        (await ask(store, f"Question {n}", Answer("alpha", text=f"Answer {n}")))[0]
        for n in range(5)
    ]
    newest = await store.recent_questions(2)
    assert [r.question_id for r in newest] == ids[:-3:-1]
    older = await store.recent_questions(2, before=newest[-1].question_id)
    assert [r.question_id for r in older] == [ids[2], ids[1]]
    await ask(store, "100% uptime_goal?", Answer("alpha", text="Only in the SLA."))
    assert [r.text for r in await store.recent_questions(search="sla")] == ["100% uptime_goal?"]
    assert [r.text for r in await store.recent_questions(search="100%")] == ["100% uptime_goal?"]
    assert await store.recent_questions(search="0_u") == []  # _ is a character, not a wildcard
    assert like_pattern("A%b_c\\") == "%a\\%b\\_c\\\\%"


async def test_a_gap_is_a_refusal_everywhere_or_a_not_in_the_docs_thumb(store: Store) -> None:
    await ask(
        store, "Where is the VPN?", Answer("alpha", text=NOT_FOUND), Answer("beta", text=NOT_FOUND)
    )
    await ask(
        store, "Who runs payroll?", Answer("alpha", text=NOT_FOUND), Answer("beta", text="HR.")
    )
    failed = Answer("alpha", error="The model did not answer.")
    await ask(store, "Is anyone there?", failed)
    _, (marked,) = await ask(store, "What is our SLA?", Answer("alpha", text="99.9% [1]."))
    await store.record_thumb(marked, "u", -1, "not_in_docs")
    _, (disliked,) = await ask(store, "What is X?", Answer("alpha", text="X is Y."))
    await store.record_thumb(disliked, "u", -1, "wrong")
    gaps = await store.unanswered_questions(reasons=("not_in_docs",))
    assert [q.text for q in gaps] == ["What is our SLA?", "Where is the VPN?"]
    assert [q.text for q in await store.unanswered_questions()] == ["Where is the VPN?"]


async def test_a_models_answers_and_thumbs_down_reasons(store: Store) -> None:
    _, (a1,) = await ask(store, "One?", Answer("alpha", text="One."))
    _, (a2,) = await ask(store, "Two?", Answer("alpha", text="Two."))
    await ask(store, "Three?", Answer("beta", text="Three."))
    for user, reason in (("u1", "wrong"), ("u2", "wrong"), ("u3", None)):
        await store.record_thumb(a1, user, -1, reason)
    await store.record_thumb(a2, "u4", -1, "My own words")
    await store.record_thumb(a2, "u5", 1)
    answers = await store.model_answers("alpha")
    assert [(a.question, a.text) for a in answers] == [("Two?", "Two."), ("One?", "One.")]
    assert await store.model_thumbs_down("alpha") == [("wrong", 2), (None, 1), ("My own words", 1)]
    assert await store.model_known("beta") and not await store.model_known("gamma")


async def test_audits_come_back_newest_first_and_grades_follow_a_model(store: Store) -> None:
    criteria = {"relevance": 4.0, "faithfulness": 5.0}
    await store.record_audit(
        "offline", {"models": {"alpha": {"answers": 3, "score": 70, "criteria": criteria}}}
    )
    await store.record_audit(
        "referee", {"models": {"beta": {"answers": 1, "score": 20, "criteria": {}}}}
    )
    audits = await store.audits()
    assert [a.judge for a in audits] == ["referee", "offline"]
    (graded,) = audit_grades(audits, "alpha")
    assert (graded.judge, graded.answers, graded.score, graded.criteria) == (
        "offline",
        3,
        70,
        criteria,
    )


async def test_votes_version_moves_with_every_vote_and_thumb(store: Store) -> None:
    before = await store.votes_version()
    question, (left, right) = await ask(
        store, "Q?", Answer("alpha", text="a"), Answer("beta", text="b")
    )
    battle = await store.record_battle(question, left, right)
    await store.record_vote(battle, "u", "a")
    after_vote = await store.votes_version()
    await store.record_vote(battle, "u", "b")  # a changed mind
    after_change = await store.votes_version()
    await store.record_thumb(left, "v", 1)
    assert len({before, after_vote, after_change, await store.votes_version()}) == 4


async def test_votes_per_period_cover_the_span_and_count_what_counts(store: Store) -> None:
    start = time.time() - 1000
    records = [
        BattleRecord("alpha", "beta", "a", start + t, channel="C1") for t in (0, 10, 500, 1000)
    ]
    records.append(BattleRecord("alpha", "beta", "b", start + 999, excluded="names_model"))
    await store.bulk_record_battles(records)
    periods = await store.vote_periods(4)
    assert periods.count == 4 and periods.width == pytest.approx(250)
    by_period = {p: c for p, c in periods.counts}
    assert sorted(by_period) == [0, 2, 3]
    assert by_period[0].a_wins == 2 and by_period[3].a_wins == 1  # the last vote, last period
    assert sum(c.total for _, c in periods.counts) == 4  # the excluded one is not there
    short = await store.vote_periods(30, min_width=600.0)
    assert short.count == 2 and short.width == 600.0


def test_score_history_ends_at_the_boards_score() -> None:
    from arena.insights import VotePeriods

    early = [(0, PairCount("alpha", "beta", 10, 10, 2, 0))]
    late = [
        (2, PairCount("alpha", "beta", 30, 5, 2, 1)),
        (2, PairCount("beta", "gamma", 5, 5, 0, 0)),
    ]
    history = score_history(VotePeriods(0.0, 10.0, 3, early + late))
    assert history.times == [10.0, 20.0, 30.0]
    assert history.scores["gamma"][:2] == [None, None] and history.scores["gamma"][2] is not None
    assert history.scores["alpha"][0] == pytest.approx(1000, abs=1)  # even at first
    assert history.scores["alpha"][1] == history.scores["alpha"][0]  # nothing new in period 1
    assert history.battles["alpha"] == [22, 22, 60]
    totals = [PairCount("alpha", "beta", 40, 15, 4, 1), PairCount("beta", "gamma", 5, 5, 0, 0)]
    from arena.ratings import fit_bradley_terry

    table = PairTable.from_counts(totals)
    final = dict(zip(table.models, fit_bradley_terry(table).scores, strict=True))
    assert history.scores["alpha"][2] == pytest.approx(final["alpha"], abs=0.1)


def test_pair_matrix_wins_over_decided_battles_or_ties_as_half() -> None:
    counts = [PairCount("alpha", "beta", 6, 2, 1, 1), PairCount("beta", "gamma", 1, 3, 0, 0)]
    matrix = pair_matrix(counts, ["alpha", "beta", "gamma"])
    assert matrix.win_fraction[0][1] == 0.75 and matrix.win_fraction[1][0] == 0.25
    assert matrix.win_fraction[0][2] is None and matrix.win_fraction[0][0] is None
    assert matrix.battles[0][1] == matrix.battles[1][0] == 10 and matrix.battles[1][2] == 4
    half = pair_matrix(counts, ["alpha", "beta"], ties="half")
    assert half.win_fraction[0][1] == 0.7 and half.win_fraction[1][0] == 0.3
    assert half.models == ["alpha", "beta"] and len(half.battles) == 2


def test_topics_group_questions_by_the_words_they_share() -> None:
    texts = [
        "How do I get VPN access?",
        "Who approves VPN access requests?",
        "vpn is down again",
        "Where is the parking garage?",
        "Parking permits for visitors?",
        "What is the wifi password?",
    ]
    questions = [UnansweredQuestion(n, "C1", t, float(n)) for n, t in enumerate(texts)]
    groups = topic_groups(questions)
    assert [len(g.questions) for g in groups] == [3, 2, 1]
    assert groups[1].label == "parking" and groups[2].label == ""
    assert groups[0].label.startswith("vpn")
    assert [q.question_id for q in groups[0].questions] == [2, 1, 0]  # newest first
    assert groups[-1].questions[0].text == "What is the wifi password?"
    assert topic_groups([]) == []


async def test_ties_as_half_wins_fit_the_half_win_shares(store: Store) -> None:
    await store.bulk_record_battles(
        [
            BattleRecord("alpha", "beta", c, float(n))
            for n, c in enumerate(["a"] * 30 + ["b"] * 10 + ["tie"] * 20)
        ]
    )
    half = await build_board(store, ties="half", rounds=20)
    modelled = await build_board(store, rounds=20)
    half_gap = half.rows[0].score - half.rows[1].score
    modelled_gap = modelled.rows[0].score - modelled.rows[1].score
    # 40 of 60 won; the strengths' prior (arena.ratings) shrinks the gap a little
    mle_gap = 400 * math.log10(40 / 20)
    assert 0.95 * mle_gap < half_gap < mle_gap
    assert abs(modelled_gap - half_gap) > 5
    assert half.ties == "half" and modelled.ties == "model"
    for h, m in zip(half.rows, modelled.rows, strict=True):
        assert (h.votes, h.win_rate, h.both_bad_rate) == (m.votes, m.win_rate, m.both_bad_rate)
    styled = await build_board(store, ties="half", style=True, rounds=20)
    assert all(r.style_score is not None for r in styled.rows)
