"""Two answerers that need no key and no network, so the arena has contestants offline.

Both read the numbered passages of the Prompt. ``offline-sentences`` picks the few
sentences closest to the question from the top passages, each with its citation;
``offline-passages`` quotes the single best passage. The difference is visible to a
reader, which is what a fair battle between them needs. Both prefer text whose dates
match the question's time words ("this week", "in December"), say so when the dated
list that would answer has no entry for those days (a rota whose last week is past),
and prefer text that says a time when the question asks "when". Embedding is CPU work,
so it runs in a worker thread, or in a worker process when the answerer is given a pool
(the bots: see ``bot.runtime.serve_service``): the event loop keeps serving while an
answer is composed.
"""

from __future__ import annotations

import asyncio
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from itertools import pairwise

import numpy as np

from arena.compose import NO_ENTRY, NOT_FOUND
from arena.dates import (
    Span,
    asks_when,
    days_between,
    mentioned_spans,
    overlaps,
    question_spans,
    relative_spans,
    relative_words,
    says_when,
    span_text,
)
from arena.errors import ProviderError
from arena.types import ModelSpec
from knowledge.chunking import split_sentences
from knowledge.embed import Embedder
from knowledge.lexical import query_terms
from knowledge.processes import WorkerCrashed, WorkerProcesses
from knowledge.types import Passage

from .base import Completion, Prompt
from .definitions import asked_about, defines
from .stems import stem

__all__ = [
    "MIN_RELEVANCE",
    "OFFLINE_PROVIDERS",
    "OfflineAnswerer",
    "PassageAnswerer",
    "SentenceAnswerer",
    "WorkerStopped",
    "default_embedder_factory",
    "passes_relevance_gate",
]

# Below this, nothing relevant was retrieved: no passage is close enough to the question
# in meaning (cosine similarity) and words (the share of the question's words it holds)
# together. A terse question about a named thing can embed far from the passage that
# holds all its words; an unrelated one can share a word ("capital" in a finance page)
# or embed near a page that holds none. See docs/benchmarks.md for how it was chosen.
MIN_RELEVANCE = 0.7
# A question word the passage holds that is also a word of its document's title counts
# this much: it says what kind of document the passage is in, not that it answers.
TITLE_WORD_WEIGHT = 0.5
# The constants below were chosen on the tuning slice of scripts/bench_answers.py (SQuAD
# questions set aside, never the reported ones); see docs/benchmarks.md.
OVERLAP_WEIGHT = 1.0  # word overlap finds the sentence with the asked-about names and numbers
REDUNDANT = 0.85  # a sentence this close to one already chosen adds nothing
TOP_PASSAGES = 3  # passages whose sentences compete, however the sentences rank them
# taken off a sentence's score per place its passage sits below the first (not for a
# passage read for its matching dates: the question asked for it)
RANK_PENALTY = 0.15
CUT = 0.4  # a sentence scoring this far below the best one only pads the answer
OTHER_PASSAGE_CUT = 0.15  # ... and from another passage than the best one's, this far
MAX_SENTENCES = 3
MAX_WORDS = 60
DATE_WEIGHT = 0.5  # for text whose dates fall on the days the question's time words name
WHEN_WEIGHT = 0.4  # for text that says a time, when the question asks "when"
# a lead sentence opening with one of these needs the sentence before it to be understood
# ("It was an attempt to establish a French colony" names nothing on its own)
LEANS_BACK = re.compile(
    r"(it|its|he|his|she|her|they|their|them|this|these|those|that|there|such|both)\b",
    re.IGNORECASE,
)

EmbedderFactory = Callable[[], Embedder]


def default_embedder_factory() -> Embedder:
    from knowledge.embed import default_embedder

    return default_embedder()


def _words(text: str) -> set[str]:
    """The text's word stems, lowercased, and those of each two neighbours written as one
    word, so "handover" or "rollback" in a question finds "hand over" or "roll back"."""
    words = re.findall(r"\w+", text.lower())
    return {stem(w) for w in words} | {stem(a + b) for a, b in pairwise(words)}


def _question_terms(question: str) -> set[str]:
    """The stems of the question's content words."""
    return {stem(t) for t in query_terms(question)}


def _timed_terms(question: str) -> set[str]:
    """The stems of the question's words that name days relative to today."""
    return _question_terms(relative_words(question))


def _held(question_terms: set[str], timed: AbstractSet[str], text: str) -> set[str]:
    """The question's content words the text holds. The question's ``timed`` words
    ("today", "this week") are held by a dated text: a rota row answers "today" with its
    date, never with the word."""
    held = question_terms & _words(text)
    if timed and mentioned_spans(text):
        held |= question_terms & timed
    return held


def _overlap(question_terms: set[str], timed: AbstractSet[str], text: str) -> float:
    """Share of the question's content words that the text contains."""
    if not question_terms:
        return 0.0
    return len(_held(question_terms, timed, text)) / len(question_terms)


def _held_share(question_terms: set[str], timed: AbstractSet[str], passage: Passage) -> float:
    """Share of the question's content words that the passage's text holds, a word of
    its document's title counting TITLE_WORD_WEIGHT: "policy" in a passage of "Expenses
    policy" says the document is a policy, not that it is the parental leave policy asked
    about (the lexical index counts a title match half, too)."""
    if not question_terms:
        return 0.0
    held = _held(question_terms, timed, passage.text)
    titled = held & _words(passage.title)
    return (len(held) - (1 - TITLE_WORD_WEIGHT) * len(titled)) / len(question_terms)


def _on_topic(question: str, passages: Sequence[Passage], relevance: np.ndarray) -> bool:
    """Whether anything relevant was retrieved: a passage close to the question in meaning
    and words together."""
    terms, timed = _question_terms(question), _timed_terms(question)
    held = np.array([_held_share(terms, timed, p) for p in passages])
    return float(np.max(relevance + held)) >= MIN_RELEVANCE


def passes_relevance_gate(question: str, passages: Sequence[Passage], embedder: Embedder) -> bool:
    """Whether any of ``passages`` is relevant to ``question`` by the gate the offline
    answerers refuse by (MIN_RELEVANCE): a pipeline with ``web = "fallback"`` asks it
    before it searches the web, so "nothing in the documents" means the same to both."""
    if not passages:
        return False
    vectors = embedder.embed([question, *(p.text for p in passages)])
    return _on_topic(question, passages, vectors[1:] @ vectors[0])


def _rare_word_overlap(
    question_terms: set[str], texts: list[str], timed: AbstractSet[str] = frozenset()
) -> np.ndarray:
    """For each text, its share of the question's words, each word weighted by how few of
    the texts contain it: the asked-about name that one sentence holds outweighs the
    topic word they all share."""
    if not question_terms:
        return np.zeros(len(texts))
    words = [_held(question_terms, timed, t) for t in texts]
    weight = {
        term: math.log(1 + len(texts) / (1 + sum(term in w for w in words)))
        for term in question_terms
    }
    total = sum(weight.values())
    return np.array([sum(weight[t] for t in w) / total for w in words])


class WorkerStopped(ProviderError):
    """The worker process composing the answer died (killed, out of memory)."""

    reason = "its worker process stopped; try again"


class OfflineAnswerer(ABC):
    """Shared plumbing: the embedder, the relevance gate, word limits."""

    def __init__(
        self,
        spec: ModelSpec,
        embedder: EmbedderFactory = default_embedder_factory,
        *,
        processes: WorkerProcesses | None = None,
    ):
        """``processes``: compose answers in those worker processes (each with the
        default embedder) instead of this process's worker threads."""
        self.spec = spec
        self._embedder = embedder
        self._processes = processes

    async def complete(self, prompt: Prompt) -> Completion:
        """Embedding is CPU work: it runs in a worker thread or process, so the event
        loop stays free for acknowledgements (Slack's three seconds) meanwhile. A worker
        process that dies fails this answer like any provider failure."""
        if self._processes is None:
            return await asyncio.to_thread(self._complete, prompt)
        try:
            return await self._processes.run(_complete_in_worker, type(self), self.spec, prompt)
        except WorkerCrashed as exc:
            raise WorkerStopped(self.spec.name) from exc

    def _complete(self, prompt: Prompt) -> Completion:
        if not prompt.passages:
            return Completion(NOT_FOUND)
        embedder = self._embedder()
        question = prompt.question.text
        texts = [h.passage.text for h in prompt.passages]
        vectors = embedder.embed([question, *texts])
        relevance = vectors[1:] @ vectors[0]
        if not _on_topic(question, [h.passage for h in prompt.passages], relevance):
            return Completion(NOT_FOUND)
        return Completion(self.answer(prompt, embedder, vectors[0], relevance))

    @abstractmethod
    def answer(
        self, prompt: Prompt, embedder: Embedder, question: np.ndarray, relevance: np.ndarray
    ) -> str:
        """The answer text, given the question's vector and each passage's relevance."""


class SentenceAnswerer(OfflineAnswerer):
    """The best sentences of the top passages, each cited, and only those close to the best.

    Every sentence of the top passages (and of any lower passage whose dates match the
    question's time words) competes on its own score (similarity to the question, its
    share of the question's words with rare ones counting more, matching dates, a little
    less for lower passages), so the passage holding the best sentence leads whatever its
    retrieval rank. Sentences scoring far below the best are cut: they pad a right answer
    with a loosely related line. A sentence ending with ':' is never picked: it
    introduces a code block, list or table that an extractive answer does not carry, so
    on its own it reads as cut off. A sentence that opens with a pronoun ("It was founded
    in 1555") is read with the sentence before it, which says what "it" is: it is
    compared with the question both alone and after that sentence, and when it leads the
    answer, that sentence comes with it. Question words match by stem, and a word written
    as one ("handover") matches the two it is made of ("hand over"). A heading line
    (a document's title above its first sentence) is not a sentence: it states nothing.
    A question asking what a thing is ("What is a SEV1?") is answered first by a chosen
    sentence that defines it ("SEV1: a full outage ..."), whatever its passage's rank:
    search may well rank higher a passage that names the thing beside others.
    """

    def answer(
        self, prompt: Prompt, embedder: Embedder, question: np.ndarray, relevance: np.ndarray
    ) -> str:
        terms, timed = _question_terms(prompt.question.text), _timed_terms(prompt.question.text)
        covered = _covered(prompt)
        days = _preferred_days(prompt, covered)
        dated = _date_bonus([h.passage.text for h in prompt.passages], days)
        read = {  # passage number -> its sentences
            n: split_sentences(hit.passage.text, headings=False)
            for n, hit in enumerate(prompt.passages, 1)
            if n <= TOP_PASSAGES or dated[n - 1]  # a row of the asked-about week, say
        }
        candidates = [  # (passage number, place in the passage)
            (n, k)
            for n, passage in read.items()
            for k, sentence in enumerate(passage)
            if len(sentence.split()) >= 3 and not sentence.endswith(":")
        ]
        if not candidates:
            return NOT_FOUND
        sentences = [read[n][k] for n, k in candidates]
        vectors, similarity = _similarity(embedder, question, read, candidates)
        scores = (
            similarity
            + OVERLAP_WEIGHT * _rare_word_overlap(terms, sentences, timed)
            + _date_bonus(sentences, days)
            + _when_bonus(prompt, sentences)
            - RANK_PENALTY * np.array([0 if dated[n - 1] else n - 1 for n, _ in candidates])
        )
        order = np.argsort(-scores)
        best = float(scores[order[0]])
        lead = candidates[order[0]][0]
        if not covered:
            stale = _nearest_entry(prompt, lead, sentences[order[0]], whole_passages=False)
            if stale:
                return stale
        chosen: list[int] = []
        words = 0
        for i in order:
            if len(chosen) == MAX_SENTENCES or scores[i] < best - CUT:
                break
            if candidates[i][0] != lead and scores[i] < best - OTHER_PASSAGE_CUT:
                continue
            if any(float(vectors[i] @ vectors[j]) > REDUNDANT for j in chosen):
                continue
            length = len(sentences[i].split())
            if chosen and words + length > MAX_WORDS:
                continue
            chosen.append(int(i))
            words += length
        picked = [candidates[i] for i in chosen]
        n, k = picked[0]
        leans_on = k and LEANS_BACK.match(read[n][k]) and not read[n][k - 1].endswith(":")
        if leans_on and (n, k - 1) not in picked:  # the first sentence has none before it
            picked.append((n, k - 1))
        # a sentence defining what a "What is X?" asks about first; then the best
        # sentence's passage first; within a passage, document order
        thing = asked_about(prompt.question.text)
        lead = next((p for p in picked if thing and defines(thing, read[p[0]][p[1]])), None)
        passages = list(dict.fromkeys(n for n, _ in picked))  # best first
        picked.sort(key=lambda place: (place != lead, passages.index(place[0]), place[1]))
        return " ".join(f"{_trim(read[n][k], MAX_WORDS, terms)} [{n}]" for n, k in picked)


class PassageAnswerer(OfflineAnswerer):
    """The single best passage, quoted and trimmed, with its citation."""

    def answer(
        self, prompt: Prompt, embedder: Embedder, question: np.ndarray, relevance: np.ndarray
    ) -> str:
        terms, timed = _question_terms(prompt.question.text), _timed_terms(prompt.question.text)
        texts = [h.passage.text for h in prompt.passages]
        covered = _covered(prompt)
        dated = _date_bonus(texts, _preferred_days(prompt, covered))
        scores = (
            relevance
            + OVERLAP_WEIGHT * np.array([_overlap(terms, timed, t) for t in texts])
            + dated
            + _when_bonus(prompt, texts)
        )
        best = int(np.argmax(scores))
        if not covered:
            stale = _nearest_entry(prompt, best + 1, texts[best], whole_passages=True)
            if stale:
                return stale
        passage = prompt.passages[best].passage
        name = passage.title or passage.display_source
        return f"From {name}: “{_trim(passage.text, MAX_WORDS, terms)}” [{best + 1}]"


def _complete_in_worker(kind: type[OfflineAnswerer], spec: ModelSpec, prompt: Prompt) -> Completion:
    """In a worker process: the same answer, with that process's own default embedder."""
    return kind(spec)._complete(prompt)


def _similarity(
    embedder: Embedder,
    question: np.ndarray,
    read: dict[int, list[str]],
    candidates: list[tuple[int, int]],
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate sentence's vector, and its similarity to the question. A sentence
    that leans back ("It is often found in C4 plants") is close to the question only with
    the sentence before it, which says what "it" is: it is also embedded with that one,
    and the closer of the two counts."""
    sentences = [read[n][k] for n, k in candidates]
    leaning = [i for i, (n, k) in enumerate(candidates) if k and LEANS_BACK.match(read[n][k])]
    in_context = [f"{read[n][k - 1]} {read[n][k]}" for n, k in (candidates[i] for i in leaning)]
    embedded = embedder.embed(sentences + in_context)
    vectors = embedded[: len(sentences)]
    similarity = vectors @ question
    similarity[leaning] = np.maximum(similarity[leaning], embedded[len(sentences) :] @ question)
    return vectors, similarity


def _covered(prompt: Prompt) -> bool:
    """Whether a passage's dates fall on the days the question's time words name."""
    wanted = question_spans(prompt.question.text, prompt.today)
    return any(overlaps(mentioned_spans(h.passage.text), wanted) for h in prompt.passages)


def _preferred_days(prompt: Prompt, covered: bool) -> list[Span]:
    """The days whose text an answer prefers: those the question's time words name. When
    those are days relative to today ("today", "this week") and no passage is dated on
    them, the days of the nearest entry of a dated list (a rota's last week) stand in: the
    answer leads with that entry and says it is not of the days asked (``_nearest_entry``)
    rather than with an undated sentence about the rota. ``covered``: ``_covered``'s."""
    wanted = question_spans(prompt.question.text, prompt.today)
    if not wanted or covered:
        return wanted
    relative = relative_spans(prompt.question.text, prompt.today)
    entries = _dated_entries(prompt, relative, whole_passages=False) if relative else []
    return min(entries, key=lambda e: e[:2])[3] if entries else wanted


def _date_bonus(texts: list[str], days: list[Span]) -> np.ndarray:
    """DATE_WEIGHT for each text whose dates fall on ``days`` (``_preferred_days``)."""
    if not days:
        return np.zeros(len(texts))
    return DATE_WEIGHT * np.array([overlaps(mentioned_spans(t), days) for t in texts])


def _dated_entries(
    prompt: Prompt, wanted: list[Span], *, whole_passages: bool, source: str | None = None
) -> list[tuple[int, int, str, list[Span]]]:
    """The entries of the passages' dated lists (a document with more than one dated
    entry: a rota, a changelog), of ``source`` alone if given, as (days from ``wanted``,
    passage number, text, its dates); an entry is a passage or one of its sentences."""
    entries: dict[str, list[tuple[int, int, str, list[Span]]]] = {}
    for n, hit in enumerate(prompt.passages, 1):
        if source is not None and hit.passage.source != source:
            continue
        texts = (
            [hit.passage.text]
            if whole_passages
            else split_sentences(hit.passage.text, headings=False)
        )
        for entry in texts:
            if spans := mentioned_spans(entry):
                found = (days_between(spans, wanted), n, entry, spans)
                entries.setdefault(hit.passage.source, []).append(found)
    # one dated sentence ("renamed in May 1999") is not a list of entries
    return [e for listed in entries.values() if len(listed) >= 2 for e in listed]


def _nearest_entry(prompt: Prompt, lead: int, text: str, *, whole_passages: bool) -> str | None:
    """When the question asks about days relative to today ("this week") that no passage's
    dates cover, and the text that would answer (``text``, of passage number ``lead``) is
    an entry of a dated list (a rota, a changelog), quoting it would pass an old row off
    as this week's. The answer says so instead, and quotes the entry of that document
    nearest to the days asked about (the rota's last week, say). Dates the question
    writes out are left to the date bonus: "the year ended 31 December 2019" and a
    table's "31 March 2019" can be the same year.
    """
    wanted = relative_spans(prompt.question.text, prompt.today)
    if not wanted or not mentioned_spans(text):
        return None
    source = prompt.passages[lead - 1].passage.source
    entries = _dated_entries(prompt, wanted, whole_passages=whole_passages, source=source)
    if not entries:
        return None
    _, n, entry, spans = min(entries, key=lambda e: e[:2])
    if max(last for _, last in spans) < min(first for first, _ in wanted):
        which = "The latest entry before them is"
    elif min(first for first, _ in spans) > max(last for _, last in wanted):
        which = "The earliest entry after them is"
    else:
        which = "The nearest entry is"
    asked = ", ".join(span_text(span) for span in wanted)
    passage = prompt.passages[n - 1].passage
    quoted = (
        f" from {passage.title or passage.display_source}: “{_trim(entry, MAX_WORDS)}”"
        if whole_passages
        else f": {_trim(entry, MAX_WORDS)}"
    )
    return NO_ENTRY.format(asked=asked) + f" {which}{quoted} [{n}]"


def _when_bonus(prompt: Prompt, texts: list[str]) -> np.ndarray:
    """WHEN_WEIGHT for each text that says a time, when the question asks "when": the
    sentence describing the handover note is about the handover, the one saying "Mondays
    at 10:00 UTC" answers when it is."""
    if not asks_when(prompt.question.text):
        return np.zeros(len(texts))
    return WHEN_WEIGHT * np.array([says_when(t) for t in texts])


def _trim(text: str, max_words: int, terms: AbstractSet[str] = frozenset()) -> str:
    """At most ``max_words`` words, centred on the run holding the most of the question's
    ``terms``: in a long sentence the answer sits beside the words the question repeats,
    before or after them, not necessarily in its first half."""
    words = text.split()
    if len(words) <= max_words:
        return " ".join(words)
    held = np.cumsum([0] + [bool(terms & _words(w)) for w in words])
    counts = held[max_words:] - held[: len(held) - max_words]  # per window start
    starts = np.flatnonzero(counts == counts.max()) if counts.max() else [0]
    start = int(starts[len(starts) // 2])
    end = start + max_words
    return ("… " if start else "") + " ".join(words[start:end]) + (" …" if end < len(words) else "")


OFFLINE_PROVIDERS: dict[str, type[OfflineAnswerer]] = {
    "offline-sentences": SentenceAnswerer,
    "offline-passages": PassageAnswerer,
}
