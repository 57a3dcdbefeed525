"""Live faithfulness flags in the service: computed once per single answer, against the
passages it was shown, numbered as its sources are, off the event loop, never at the
cost of the answer."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from arena.compose import NOT_FOUND
from arena.judge.support import MAX_ANSWER_WORDS
from arena.store import Store
from bot.service import Ask, Reply
from knowledge.types import Hit, Passage
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes

HITS = [
    Hit(Passage("p1", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.9),
    Hit(Passage("p2", "On-call rota is in the wiki.", "/hb/oncall.md", "On-call"), 0.8),
]


async def asked(store: Store, *replies: str, channel: str = "eng", **settings) -> Reply:
    service = service_over_fakes(store, roster(fake("alpha", *replies)), hits=HITS, **settings)
    return await service.ask(Ask("Where is the rota?", "ana", channel, None, "slack"))


def verdicts(reply: Reply) -> list[tuple[str, str, int | None, bool]]:
    (shown,) = reply.answers
    assert shown.flags is not None
    return [(f.text, f.support, f.source, f.flagged) for f in shown.flags]


async def test_each_claim_names_the_source_as_numbered_under_the_answer(store: Store) -> None:
    """The model cited passage 2 only, so it is source [1] under the answer."""
    reply = await asked(store, "The on-call rota is not in the wiki [2].")
    assert reply.answers[0].answer.text == "The on-call rota is not in the wiki [1]."
    assert verdicts(reply) == [
        ("The on-call rota is not in the wiki [1].", "contradicted", 1, True)
    ]


async def test_a_claim_a_shown_but_uncited_passage_supports_names_no_source(
    store: Store,
) -> None:
    reply = await asked(store, "Run shipit rollback [1]. The on-call rota is in the wiki.")
    assert verdicts(reply) == [
        ("Run shipit rollback [1].", "supported", 1, False),
        ("The on-call rota is in the wiki.", "supported", None, False),  # p2 shown, not listed
    ]


async def test_questions_greetings_and_the_not_found_line_are_left_out(store: Store) -> None:
    reply = await asked(store, f"Hi! {NOT_FOUND} Do you mean the on-call rota? Hope this helps!")
    assert verdicts(reply) == []  # checked, and nothing claimed: no marks, no line


async def test_code_in_fences_is_not_a_claim(store: Store) -> None:
    reply = await asked(store, "Run shipit rollback [1].\n\n```\nkubectl rollout undo web\n```")
    assert verdicts(reply) == [("Run shipit rollback [1].", "supported", 1, False)]


async def test_an_answer_the_check_cannot_measure_has_no_flags(store: Store) -> None:
    reply = await asked(store, " ".join(["rollback"] * (MAX_ANSWER_WORDS + 1)))
    assert reply.answers[0].answer.ok and reply.answers[0].flags is None


async def test_a_sentence_is_flagged_as_the_support_check_flags_it(store: Store) -> None:
    """Contradicted, or stating a number or name no passage states; a remark that is
    merely not in the passages is unverifiable but not flagged."""
    reply = await asked(
        store,
        "On-call rota is not in the wiki [2]. Rollbacks take 10 minutes. Ask Maria first."
        " Rollbacks are usually quick.",
    )
    assert [(support, flagged) for _, support, _, flagged in verdicts(reply)] == [
        ("contradicted", True),
        ("unverifiable", True),  # 10
        ("unverifiable", True),  # Maria
        ("unverifiable", False),
    ]


async def test_a_quoted_title_or_heading_is_what_the_source_says(store: Store) -> None:
    """An offline quote opens with its passage's title ("From Super Bowl 50: ..."), and a
    sentence may name a heading: the title and headings are the source's words too."""
    hits = [
        Hit(
            Passage(
                "s",
                "The Broncos beat the Panthers 24-10.",
                "/wiki/sb50.md",
                "Super Bowl 50",
                ("Super Bowl 50", "Levi's Stadium, Santa Clara"),
            ),
            0.9,
        )
    ]
    answer = "From Super Bowl 50: “The Broncos beat the Panthers 24-10.” [1]"
    service = service_over_fakes(store, roster(fake("alpha", answer)), hits=hits)
    reply = await service.ask(Ask("Who won Super Bowl 50?", "ana", "eng", None, "slack"))
    assert [(support, flagged) for _, support, _, flagged in verdicts(reply)] == [
        ("supported", False)
    ]
    reply = await asked(store, "The Deploys page says to run shipit rollback [1].")
    assert verdicts(reply)[0][1:] == ("supported", 1, False)


async def test_the_flags_are_off_where_the_settings_say(store: Store) -> None:
    off = await asked(store, "Rollbacks take ten minutes.", faithfulness_flags=False)
    assert off.answers[0].flags is None
    quiet = {"eng": False}
    here = await asked(store, "Rollbacks take ten minutes.", channel_faithfulness_flags=quiet)
    assert here.answers[0].flags is None
    elsewhere = await asked(
        store, "Rollbacks take ten minutes.", channel="ops", channel_faithfulness_flags=quiet
    )
    assert verdicts(elsewhere) == [("Rollbacks take ten minutes.", "unverifiable", 1, False)]


async def test_battles_are_not_checked(store: Store) -> None:
    service = service_over_fakes(
        store,
        roster(fake("alpha", "Rollbacks take ten minutes."), fake("beta", "It is not.")),
        battle_share=1.0,
        hits=HITS,
    )
    reply = await service.ask(Ask("Where is the rota?", "ana", "eng", None, "slack"))
    assert reply.is_battle and [s.flags for s in reply.answers] == [None, None]


async def test_the_check_runs_in_a_worker_thread(store: Store, monkeypatch) -> None:
    import arena.judge.support

    threads = []
    real = arena.judge.support.check_support

    def watched(answer, passages):
        threads.append(threading.current_thread())
        return real(answer, passages)

    monkeypatch.setattr(arena.judge.support, "check_support", watched)
    reply = await asked(store, "Rollbacks take ten minutes.")
    assert verdicts(reply)[0][1] == "unverifiable"
    assert threads and threads[0] is not threading.current_thread()


async def test_a_failing_check_costs_the_marks_not_the_answer(
    store: Store, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(answer, passages):
        raise RuntimeError("a bug in the check")

    monkeypatch.setattr("arena.judge.support.check_support", broken)
    reply = await asked(store, "Run shipit rollback [1].")
    (shown,) = reply.answers
    assert shown.answer.text == "Run shipit rollback [1]." and shown.flags is None
    assert await store.answer_record(shown.answer_id) is not None
    assert "the support check failed" in caplog.text


async def test_a_question_that_cannot_be_stored_leaves_no_check_running(
    store: Store, monkeypatch
) -> None:
    async def disk_full(**_) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "record_question", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        await asked(store, "Run shipit rollback [1].")
    left = asyncio.all_tasks() - {asyncio.current_task()}
    assert left and all(task.cancelling() for task in left)  # the check, called off
