"""The offline answerers composing in worker processes, as a serving bot runs them:
the same answers as in this process, and a worker that dies mid-answer gives the user
the usual reply for a model that failed (try again), never a hang."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from datetime import date

from arena.models.base import Prompt
from arena.models.offline import PassageAnswerer, SentenceAnswerer
from arena.roster import build_roster
from arena.store import Store
from arena.types import ModelSpec, Question
from bot.service import Ask
from knowledge.embed import default_embedder
from knowledge.processes import WorkerProcesses
from knowledge.types import Hit, Passage
from tests.fakes.service import service_over_fakes

PASSAGES = [
    Passage(
        "deploys",
        "Deploys go out from the main branch twice a day. To roll back a deploy, run shipit"
        " rollback with the release number. It takes about five minutes to finish.",
        "deploys.md",
        "Deploys",
    ),
    Passage(
        "oncall",
        "The on-call engineer carries the pager for one week. Handovers happen on Monday"
        " at ten. Swap a shift in the rota spreadsheet.",
        "oncall.md",
        "On call",
    ),
    Passage(
        "expenses",
        "Travel expenses up to 500 euros need no approval. Above that, ask your manager"
        " before booking.",
        "expenses.md",
        "Expenses",
    ),
]
QUESTIONS = [
    "How do I roll back a deploy?",
    "When do on-call handovers happen?",
    "What is the limit for travel expenses?",
    "What colour is the office cat?",
]


def prompt(question: str) -> Prompt:
    hits = [Hit(p, 1.0 - n / 10) for n, p in enumerate(PASSAGES)]
    return Prompt(
        system="",
        messages=[{"role": "user", "content": question}],
        passages=hits,
        question=Question(question, hits=hits),
        today=date(2026, 12, 7),
    )


async def test_answers_composed_in_worker_processes_equal_those_composed_here() -> None:
    pool = WorkerProcesses(1, prepare=default_embedder)
    try:
        for kind in (SentenceAnswerer, PassageAnswerer):
            spec = ModelSpec(name=kind.__name__, provider="offline-sentences")
            here, there = kind(spec), kind(spec, processes=pool)
            for question in QUESTIONS:
                expected = await here.complete(prompt(question))
                assert await there.complete(prompt(question)) == expected, question
    finally:
        pool.close()


def slow_start() -> None:
    time.sleep(60)  # a worker still loading its model when it is killed


async def test_a_worker_killed_mid_battle_gives_the_usual_reply(store: Store) -> None:
    pool = WorkerProcesses(1, prepare=slow_start)
    try:
        service = service_over_fakes(
            store, build_roster([], pool), battle_share=1.0, hits=[Hit(PASSAGES[0], 0.9)]
        )
        asked = asyncio.create_task(service.ask(Ask(QUESTIONS[0], "ana", "eng", None, "slack")))
        while not multiprocessing.active_children():
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGKILL)
        reply = await asyncio.wait_for(asked, 20)
    finally:
        pool.close()
    assert reply.answers == []
    assert reply.notices[0].startswith("No model could answer right now.")
    assert "its worker process stopped; try again" in reply.notices[0]
