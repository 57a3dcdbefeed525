"""An arena with a known story, for the dashboard's tests: votes whose plain order differs
from their style-controlled one, a channel with its own order, answers with sources and
thumbs (some marked "not in the docs"), a question full of markup, and an audit by a
judge model that grades by a simple rule.

Four models, with true strengths and habits: ``cobalt`` is the weakest but writes four
to eight times as much as the others, and long answers win votes whatever the model, so
plain Bradley-Terry ranks it first while style control puts ``atlas`` first (the tests
check the fitted boards rather than assume it). In channel ``C0ENG``, ``dune`` beats
``bramble`` seven times in ten.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from arena.compose import NOT_FOUND
from arena.judge.grades import GradeReply
from arena.models.base import Completion, Prompt
from arena.roster import Roster
from arena.store import Store
from arena.types import Answer, ModelSpec
from bot.service import Ask, Service
from knowledge.base import KnowledgeBase
from tests.conftest import HANDBOOK, HashEmbedder
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes

__all__ = [
    "ADMIN_TOKEN",
    "MARKUP_ANSWER",
    "MARKUP_QUESTION",
    "MODELS",
    "STYLE_CHANNEL",
    "TEAM_CHANNEL",
    "VIEWER_TOKEN",
    "Seeded",
    "open_seeded",
]

VIEWER_TOKEN = "viewer-token-for-tests"
ADMIN_TOKEN = "admin-token-for-tests"
STYLE_CHANNEL = "C0SUPPORT"
TEAM_CHANNEL = "C0ENG"
TRUTH = {"atlas": 1150.0, "bramble": 1060.0, "cobalt": 960.0, "dune": 1010.0}
WORDS = {"atlas": 30, "bramble": 70, "cobalt": 260, "dune": 50}
MODELS = sorted(TRUTH)
STYLE_BATTLES = 400
TEAM_BATTLES = 80
MARKUP_QUESTION = '<script>window.parleyPwned = 1</script> *bold* <@U0123> <!channel> & "x" ?'
MARKUP_ANSWER = '<img src=x onerror="window.parleyPwned = 2"> _it_ <https://evil.example|click>'


@dataclass
class Seeded:
    service: Service
    store: Store
    knowledge: KnowledgeBase


def _text(model: str, rng: random.Random | None) -> str:
    """About the model's usual length (exactly 50 words without ``rng``)."""
    words = max(5, round(WORDS[model] * math.exp(rng.gauss(0, 0.5)))) if rng else 50
    return " ".join(f"step{n % 17}" for n in range(words))


async def _battle(
    service: Service, store: Store, n: int, pair: tuple[str, str], channel: str, choice: str
) -> None:
    rng = random.Random(n) if channel == STYLE_CHANNEL else None  # the team's: equal lengths
    question = await store.record_question(
        platform="slack",
        channel=channel,
        user=f"asker{n}",
        thread=None,
        text=f"How do I handle case {n}?",
        hits=[],
    )
    left = await store.record_answer(question, Answer(pair[0], text=_text(pair[0], rng)))
    right = await store.record_answer(question, Answer(pair[1], text=_text(pair[1], rng)))
    battle = await store.record_battle(question, left, right)
    await service.vote(battle, f"voter{n % 40}", choice, platform="slack", channel=channel)


async def _votes(service: Service, store: Store) -> None:
    rng = random.Random(7)
    for n in range(STYLE_BATTLES):
        a, b = rng.sample(MODELS, 2)
        # the lengths are drawn again (same seed) in _battle; draw them here to decide
        text_rng = random.Random(n)
        la, lb = (len(_text(m, text_rng).split()) for m in (a, b))
        logit = (TRUTH[a] - TRUTH[b]) * math.log(10) / 400 + 4.0 * (la - lb) / (la + lb)
        if rng.random() < 0.08:
            choice = "tie"
        else:
            choice = "a" if rng.random() < 1 / (1 + math.exp(-logit)) else "b"
        await _battle(service, store, n, (a, b), STYLE_CHANNEL, choice)
    for n in range(STYLE_BATTLES, STYLE_BATTLES + TEAM_BATTLES):
        choice = "b" if rng.random() < 0.7 else "a"
        await _battle(service, store, n, ("bramble", "dune"), TEAM_CHANNEL, choice)


class Referee:
    """A judge model with structured output and one rule: an answer that cites a passage
    is Excellent throughout, any other Bad; of two answers, the shorter wins."""

    spec = ModelSpec(name="referee", provider="fake")

    async def complete(self, prompt: Prompt) -> Completion:
        return Completion("OK")

    async def complete_json(self, prompt: Prompt, schema: dict, name: str) -> Completion:
        request = prompt.messages[-1]["content"]
        if name == "verdict":
            first, second = request.split("\n\nAnswer A:\n", 1)[1].split("\n\nAnswer B:\n")
            winner = "A" if len(first) <= len(second) else "B"
            return Completion(json.dumps({"reason": "The shorter one.", "winner": winner}))
        level = "Excellent" if "[1]" in request.split("\n\nAnswer:\n", 1)[1] else "Bad"
        reply = {c: {"reason": "By the rule.", "level": level} for c in GradeReply.model_fields}
        return Completion(json.dumps(reply))


def _roster() -> Roster:
    cited = "Run shipit rollback to roll back [1]."
    return roster(
        fake("atlas", cited, NOT_FOUND, NOT_FOUND, cited),
        fake("bramble", MARKUP_ANSWER + " [1]", NOT_FOUND),
        fake("cobalt", cited),
        fake("dune", cited),
        Referee(),
    )


async def _answers(service: Service) -> None:
    """Questions through the service's own door: cited answers, refusals, thumbs."""
    ask = lambda text, user: Ask(text, user, TEAM_CHANNEL, None, "slack")  # noqa: E731
    rolled = await service.ask(ask("How do I roll back a deploy?", "ana"), model="atlas")
    await service.thumb(rolled.answers[0].answer_id, "bo", 1)
    for text, user in (
        ("How do I get VPN access?", "cy"),
        ("Who approves VPN access requests?", "di"),
    ):
        refused = await service.ask(ask(text, user), model="atlas")
        await service.thumb(refused.answers[0].answer_id, "bo", -1, "not_in_docs")
    marked = await service.ask(ask(MARKUP_QUESTION, "eve"), model="bramble")
    await service.thumb(marked.answers[0].answer_id, "bo", -1, "wrong")
    await service.thumb(marked.answers[0].answer_id, "cy", -1, "It quoted <b>nothing</b> useful")
    await service.ask(ask("Where is the parking garage?", "fy"), model="bramble")  # refused
    await service.ask(ask("Who owns the billing service?", "gu"), model="atlas")


def _knowledge(folder: Path) -> tuple[KnowledgeBase, Path]:
    docs = folder / "docs"
    docs.mkdir()
    for name in ("deploys-and-rollbacks.md", "on-call.md", "glossary.txt"):
        (docs / name).write_bytes((HANDBOOK / name).read_bytes())
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    kb = KnowledgeBase.open(folder / "index", embedder=HashEmbedder())
    kb.index([docs])
    return kb, docs


async def open_seeded(folder: Path, *, audit: bool = True, **options) -> Seeded:
    """The seeded arena in ``folder`` (its database, and an index of a few handbook files
    with one broken file), behind a Service with web admins ``web:alice``."""
    knowledge, docs = _knowledge(folder)
    store = await Store.open(folder / "parley.db")
    service = service_over_fakes(
        store,
        _roster(),
        admins=["web:alice"],
        sources=[docs],
        judge="referee",
        index=lambda paths, progress, passages: knowledge.index(
            paths, progress, on_passages=passages
        ),
        knowledge_status=knowledge.status,
        **options,
    )
    await _votes(service, store)
    await _answers(service)
    if audit:
        await service.audit(sample=8)
    return Seeded(service, store, knowledge)
