"""The offline judge: no keys, no network, ~hundreds of grades a second on two cores.

Relevance comes from embedding similarity (question to answer) plus the share of the
question's words the answer takes up; the context's relevance from the share of the
question's words the best passage holds. Faithfulness comes from the support check
(``arena.judge.support``): each claim held against the passages' sentences, a
contradiction worst, then the share left unverifiable. Embeddings miss what matters
there: an on-topic answer with one number or name changed, or one claim negated, embeds
about as close to the question as the right answer does. A refusal is recognised as such
(neither relevant nor complete; its faithfulness unmeasured, as for any answer that
states nothing the passages could support).

Limits, honestly: the support check's (a paraphrase reads as unverifiable, a claim that
reuses the passages' words in a new relation as supported, a number the answer works
out from the passages as unverifiable); the context's relevance counts shared words, so
passages that answer in other words ("defeated" for "won") score low; clarity and
conciseness are judged from length and form only; completeness is not measured apart
from relevance.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np

from arena.citations import MARKER
from arena.models.offline import default_embedder_factory
from knowledge.chunking import split_sentences
from knowledge.embed import Embedder

from .facts import content_words, is_refusal, numbers_in
from .faithfulness import NOTHING_STATED, judged_faithfulness
from .grades import Case, Grade, Judged, Level
from .pairwise import Preference
from .support import SupportCheck, support_check

__all__ = ["OfflineJudge", "Signals", "signals_of"]

# Thresholds, best level first: a value at or above the n-th gives LEVELS[n]. Tuned on
# the tuning slice of scripts/bench_judge.py (SQuAD questions never reported), see
# docs/benchmarks.md.
RELEVANCE_STEPS = (0.75, 0.55, 0.4, 0.15)  # answer similarity + share of question words
CONTEXT_STEPS = (0.8, 0.6, 0.4, 0.2)  # best passage's share of the question's words
CONCISE_WORDS = (80, 150, 250, 400)  # at most this many words, best level first
LONG_SENTENCE = 45  # mean words a sentence beyond which an answer reads poorly
STEP_LEVELS: tuple[Level, ...] = ("Excellent", "Good", "Fair", "Bad", "Worse")


def _level(value: float, steps: Sequence[float]) -> Level:
    for level, step in zip(STEP_LEVELS, steps, strict=False):
        if value >= step:
            return level
    return "Worse"


@dataclass(frozen=True)
class Signals:
    """What the offline judge measured; stored as the grade's raw reply."""

    refusal: bool
    answer_similarity: float
    context_coverage: float
    question_coverage: float
    support: float | None  # the support check's value (None: unmeasured)
    claims: int
    contradicted: int
    unverifiable: int
    words: int
    mean_sentence_words: float


def _terms(text: str) -> set[str]:
    """Content words and numbers: what coverage and support are counted in."""
    return content_words(text) | numbers_in(text)


def signals_of(case: Case, similarity: float, check: SupportCheck) -> Signals:
    """The measurements for one case, given its answer's cosine similarity to its question
    and its support check.

    Citation markers ("[2]") are not the answer's numbers, so they are left out.
    """
    case = replace(case, answer=MARKER.sub("", case.answer))
    answer_words = _terms(case.answer)
    question_words = _terms(case.question)
    sentences = split_sentences(case.answer) or [case.answer]
    words = len(case.answer.split())
    return Signals(
        refusal=is_refusal(case.answer),
        answer_similarity=similarity,
        context_coverage=max(
            (len(question_words & _terms(p)) / max(len(question_words), 1) for p in case.passages),
            default=0.0,
        ),
        question_coverage=len(question_words & answer_words) / max(len(question_words), 1),
        support=check.value,
        claims=len(check.claims),
        contradicted=len(check.of("contradicted")),
        unverifiable=len(check.of("unverifiable")),
        words=words,
        mean_sentence_words=words / len(sentences),
    )


def _grade_of(s: Signals, check: SupportCheck, latency_ms: float) -> Grade:
    """The grade, or an unmeasured one where the support check could not read the answer;
    an answer that states nothing (a refusal among them) is graded without faithfulness."""
    if check.unmeasured is not None:
        return Grade.failed(
            "offline", f"faithfulness unmeasured: {check.unmeasured}", raw=json.dumps(asdict(s))
        )
    faithfulness = None if s.refusal else judged_faithfulness(check)
    relevance_value = s.answer_similarity + s.question_coverage
    if s.refusal:
        relevance = Judged(reason="A refusal does not answer the question.", level="Worse")
        completeness = Judged(reason="A refusal covers nothing.", level="Worse")
    else:
        relevance = Judged(
            reason=f"Similarity to the question {s.answer_similarity:.2f}, "
            f"{s.question_coverage:.0%} of its words.",
            level=_level(relevance_value, RELEVANCE_STEPS),
        )
        completeness = Judged(
            reason="Judged from relevance: offline, whether every part is answered is unknown.",
            level=_level(relevance_value, RELEVANCE_STEPS),
        )
    if s.mean_sentence_words > LONG_SENTENCE:
        clarity = Judged(
            reason=f"Sentences average {s.mean_sentence_words:.0f} words.", level="Fair"
        )
    else:
        clarity = Judged(reason="Sentences of a readable length (form only).", level="Good")
    concise_level = next(
        (lvl for lvl, most in zip(STEP_LEVELS, CONCISE_WORDS, strict=False) if s.words <= most),
        "Worse",
    )
    criteria = {
        "relevance": relevance,
        "faithfulness": faithfulness,
        "completeness": completeness,
        "clarity": clarity,
        "conciseness": Judged(reason=f"{s.words} words.", level=concise_level),
    }
    graded = {c: j for c, j in criteria.items() if j is not None}
    context = Judged(
        reason=f"The best passage holds {s.context_coverage:.0%} of the question's words.",
        level=_level(s.context_coverage, CONTEXT_STEPS),
    )
    return Grade(
        "offline",
        graded,
        context,
        raw=json.dumps(asdict(s)),
        latency_ms=latency_ms,
        support=check,
        unmeasured_criteria={} if faithfulness else {"faithfulness": NOTHING_STATED},
    )


class OfflineJudge:
    """Grades from embeddings and lexical checks. Only questions and answers are embedded
    (each distinct text once a batch): passages are long, and embedding them cost three
    quarters of the time for the context relevance alone, which word coverage gives."""

    name = "offline"

    def __init__(self, embedder: Callable[[], Embedder] = default_embedder_factory) -> None:
        self._embedder = embedder

    async def grade(self, case: Case) -> Grade:
        return (await self.grade_many([case]))[0]

    async def grade_many(self, cases: Sequence[Case]) -> list[Grade]:
        """Grades in input order, computed off the event loop."""
        return await asyncio.to_thread(self.grade_now, list(cases))

    async def prefer(self, first: Case, second: Case) -> Preference:
        one, two = await self.grade_many([first, second])
        if one.score == two.score:
            return "tie"
        return "first" if (one.score or 0) > (two.score or 0) else "second"

    def grade_now(self, cases: list[Case]) -> list[Grade]:
        """The blocking work: one embedding call for the batch's distinct questions and answers."""
        if not cases:
            return []
        started = time.perf_counter()
        answered = [c for c in cases if not is_refusal(c.answer)]  # refusals need no vector
        texts = list(dict.fromkeys(t for c in answered for t in (c.question, c.answer)))
        row = {text: n for n, text in enumerate(texts)}
        vectors = self._embedder().embed(texts) if texts else np.zeros((0, 1))
        checks = [support_check(c.answer, c.passages) for c in cases]
        signals = [
            signals_of(
                c,
                float(vectors[row[c.answer]] @ vectors[row[c.question]])
                if c.answer in row
                else 0.0,
                check,
            )
            for c, check in zip(cases, checks, strict=True)
        ]
        each_ms = (time.perf_counter() - started) * 1000 / len(cases)
        return [_grade_of(s, c, each_ms) for s, c in zip(signals, checks, strict=True)]
