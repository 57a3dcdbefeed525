"""Two answerers that need no key and no network, so the arena has contestants offline.

Both read the numbered passages of the Prompt. ``offline-sentences`` picks the few
sentences closest to the question from the top passages, each with its citation;
``offline-passages`` quotes the single best passage. The difference is visible to a
reader, which is what a fair battle between them needs.
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

from arena.compose import NOT_FOUND
from arena.types import ModelSpec
from knowledge.chunking import split_sentences
from knowledge.embed import Embedder
from knowledge.lexical import query_terms

from .base import Completion, Prompt

__all__ = [
    "MIN_RELEVANCE",
    "OFFLINE_PROVIDERS",
    "OfflineAnswerer",
    "PassageAnswerer",
    "SentenceAnswerer",
    "default_embedder_factory",
]

# Below this cosine similarity between question and best passage, nothing relevant was
# retrieved. Handbook questions score 0.45-0.8; unrelated ones 0.0-0.2.
MIN_RELEVANCE = 0.3
# The constants below were chosen on the tuning slice of scripts/bench_answers.py (SQuAD
# questions set aside, never the reported ones); see docs/benchmarks.md.
OVERLAP_WEIGHT = 1.0  # word overlap finds the sentence with the asked-about names and numbers
REDUNDANT = 0.85  # a sentence this close to one already chosen adds nothing
TOP_PASSAGES = 3
MAX_SENTENCES = 3
MAX_WORDS = 60

EmbedderFactory = Callable[[], Embedder]


def default_embedder_factory() -> Embedder:
    from knowledge.embed import default_embedder

    return default_embedder()


def _overlap(question_terms: set[str], text: str) -> float:
    """Share of the question's content words that the text contains."""
    if not question_terms:
        return 0.0
    words = set(re.findall(r"\w+", text.lower()))
    return len(question_terms & words) / len(question_terms)


class OfflineAnswerer(ABC):
    """Shared plumbing: the embedder, the relevance gate, word limits."""

    def __init__(self, spec: ModelSpec, embedder: EmbedderFactory = default_embedder_factory):
        self.spec = spec
        self._embedder = embedder

    async def complete(self, prompt: Prompt) -> Completion:
        """Embedding is CPU work: it runs in a worker thread, so the event loop stays free
        for acknowledgements (Slack's three seconds) while an answer is composed."""
        return await asyncio.to_thread(self._complete, prompt)

    def _complete(self, prompt: Prompt) -> Completion:
        if not prompt.passages:
            return Completion(NOT_FOUND)
        embedder = self._embedder()
        question = prompt.question.text
        texts = [h.passage.text for h in prompt.passages]
        vectors = embedder.embed([question, *texts])
        relevance = vectors[1:] @ vectors[0]
        if float(relevance.max()) < MIN_RELEVANCE:
            return Completion(NOT_FOUND)
        return Completion(self.answer(prompt, embedder, vectors[0], relevance))

    @abstractmethod
    def answer(
        self, prompt: Prompt, embedder: Embedder, question: np.ndarray, relevance: np.ndarray
    ) -> str:
        """The answer text, given the question's vector and each passage's relevance."""


class SentenceAnswerer(OfflineAnswerer):
    """The most relevant, non-redundant sentences of the top passages, each cited.

    A sentence ending with ':' is never picked: it introduces a code block, list or table
    that an extractive answer does not carry, so on its own it reads as cut off.
    """

    def answer(
        self, prompt: Prompt, embedder: Embedder, question: np.ndarray, relevance: np.ndarray
    ) -> str:
        terms = set(query_terms(prompt.question.text))
        # the passages in retrieval (hybrid) order: on the tuning slice that beat
        # re-ranking them by dense similarity alone, 78% against 71%
        candidates = [
            (n, sentence)
            for n, hit in enumerate(prompt.passages[:TOP_PASSAGES], 1)
            for sentence in split_sentences(hit.passage.text)
            if len(sentence.split()) >= 3 and not sentence.endswith(":")
        ]
        if not candidates:
            return NOT_FOUND
        vectors = embedder.embed([s for _, s in candidates])
        scores = vectors @ question + OVERLAP_WEIGHT * np.array(
            [_overlap(terms, s) for _, s in candidates]
        )
        chosen: list[int] = []
        words = 0
        for i in np.argsort(-scores):
            if len(chosen) == MAX_SENTENCES:
                break
            if any(float(vectors[i] @ vectors[j]) > REDUNDANT for j in chosen):
                continue
            length = len(candidates[i][1].split())
            if chosen and words + length > MAX_WORDS:
                continue
            chosen.append(int(i))
            words += length
        chosen.sort(key=lambda i: (candidates[i][0], i))  # read in document order
        return " ".join(
            f"{_trim(candidates[i][1], MAX_WORDS)} [{candidates[i][0]}]" for i in chosen
        )


class PassageAnswerer(OfflineAnswerer):
    """The single best passage, quoted and trimmed, with its citation."""

    def answer(
        self, prompt: Prompt, embedder: Embedder, question: np.ndarray, relevance: np.ndarray
    ) -> str:
        terms = set(query_terms(prompt.question.text))
        scores = relevance + OVERLAP_WEIGHT * np.array(
            [_overlap(terms, h.passage.text) for h in prompt.passages]
        )
        best = int(np.argmax(scores))
        passage = prompt.passages[best].passage
        name = passage.title or passage.display_source
        return f"From {name}: “{_trim(passage.text, MAX_WORDS)}” [{best + 1}]"


def _trim(text: str, max_words: int) -> str:
    words = text.split()
    return " ".join(words) if len(words) <= max_words else " ".join(words[:max_words]) + " …"


OFFLINE_PROVIDERS: dict[str, type[OfflineAnswerer]] = {
    "offline-sentences": SentenceAnswerer,
    "offline-passages": PassageAnswerer,
}
