"""Each contestant's passages: one search per distinct retrieval setting, and the web
where a pipeline asks for it.

Contestants whose retrieval settings (``k``, ``mode``, ``followup``) are the same share
one search and exactly the same passages, so a battle between two models on one
pipeline still compares the models alone; the knowledge base is searched once per
distinct setting, never once per contestant. The web is searched at most once per
question, and only when needed: for a ``blend`` pipeline always, for a ``fallback`` one
only when its passages fail the offline answerers' relevance gate (nothing in the
documents). Never for a channel listed as private, and never without a configured
engine. Web passages that repeat a document's are dropped (the document wins). When the
search fails or runs past its deadline, the pipelines that wanted it answer from the
documents alone, and their answers say why (``Question.source_note``).

Passages of documents attached in the conversation (``bot.attachments``) are searched
as the knowledge base is, for each retrieval setting; then the attached file's ``k``
best and the knowledge base's ``k`` best are ranked again together, in one in-memory
index, for the ``k`` places: the two searches' scores are not on one scale, and a file
that always led would push the knowledge base's answer out of the few passages an
offline answerer reads when the question is not about the file. A knowledge-base
passage that repeats an attached one is dropped.

A question about days relative to today ("Who is on call today?") is searched deeper,
and the passages dated on those days, or nearest to them, join the ones read
(``nearest_dated``): search ranks a rota's rows by words and meaning, not by date.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import zip_longest
from typing import TYPE_CHECKING

from arena.dates import Span, days_between, mentioned_spans, relative_spans
from arena.pipelines import Retrieval
from arena.roster import Contestant
from arena.types import Question, Turn
from knowledge.errors import WebSearchError
from knowledge.retrieve import collapse_duplicates
from knowledge.types import Hit, Mode, Passage

from . import messages
from .attachments import attached_index
from .followup import POOL, followup_search, previous_question, thread_query

if TYPE_CHECKING:
    from knowledge.memory_index import MemoryIndex
    from knowledge.web import WebSource

__all__ = [
    "AttachedIndexFn",
    "PipelineRetrieval",
    "RelevanceFn",
    "Retrieved",
    "SearchFn",
    "nearest_dated",
    "offline_gate",
]

log = logging.getLogger(__name__)

SearchFn = Callable[[str, int, Mode], Sequence[Hit]]
# whether any of the passages answers the question (the offline answerers' gate)
RelevanceFn = Callable[[str, Sequence[Passage]], bool]
# attached passages made searchable (``search(query, k, mode)``, ``close()``)
AttachedIndexFn = Callable[[Sequence[Passage]], "MemoryIndex"]


def offline_gate(question: str, passages: Sequence[Passage]) -> bool:
    """The offline answerers' relevance gate, with their embedder (loaded on first use)."""
    from arena.models.offline import default_embedder_factory, passes_relevance_gate

    return passes_relevance_gate(question, passages, default_embedder_factory())


@dataclass(frozen=True)
class Retrieved:
    """Each contestant's Question (by its name), and every passage retrieved for any of
    them, in order and once each, for the question's record."""

    questions: dict[str, Question]
    hits: list[Hit]


class PipelineRetrieval:
    """Retrieval for a question's contestants over ``search`` (the knowledge base) and
    ``web`` (None: no engine configured)."""

    def __init__(
        self,
        search: SearchFn,
        *,
        web: WebSource | None = None,
        relevant: RelevanceFn = offline_gate,
        private_channels: Collection[str] = (),
        today: Callable[[], date] = date.today,
        attached_index: AttachedIndexFn = attached_index,
    ) -> None:
        """``today``: the date "today" and "this week" in a question count from;
        ``attached_index`` makes attached passages searchable."""
        self._search = search
        self._attached_index = attached_index
        self._today = today
        self._web = web
        self._relevant = relevant
        self._private = frozenset(private_channels)

    async def retrieve(
        self,
        text: str,
        history: list[Turn],
        channel: str,
        contestants: Sequence[Contestant],
        attached: Sequence[Passage] = (),
    ) -> Retrieved:
        """Raises KnowledgeError when the knowledge base cannot be searched; a failed web
        search only becomes the answers' note. ``attached``: the conversation's attached
        passages, ranked with the knowledge base's."""
        settings = list(dict.fromkeys(_retrieval(c) for c in contestants))
        index = await asyncio.to_thread(self._attached_index, attached) if attached else None
        try:
            found = await asyncio.gather(*(self._led(text, history, r, index) for r in settings))
        finally:
            if index is not None:
                index.close()
        documents = dict(zip(settings, found, strict=True))
        wanting = await self._wanting_web(text, channel, contestants, documents)
        web: list[Hit] = []
        note = None
        if wanting:
            web, note = await self._search_web(thread_query(text, previous_question(history)))
        questions = {}
        for contestant in contestants:
            passages = documents[_retrieval(contestant)]
            wants = contestant.name in wanting
            if wants and web:
                fresh = _new_to(web, passages)
                if contestant.pipeline.web == "blend":
                    passages = _interleaved(passages, fresh)
                else:  # fallback: the documents had nothing, the web leads
                    passages = [*fresh, *passages]
            questions[contestant.name] = Question(
                text, passages, history, source_note=note if wants else None
            )
        every = {h.passage.id: h for q in questions.values() for h in q.hits}
        return Retrieved(questions, list(every.values()))

    async def _led(
        self, text: str, history: list[Turn], retrieval: Retrieval, index: MemoryIndex | None
    ) -> list[Hit]:
        """The knowledge base's passages; with documents attached in the conversation,
        the attached ones' best and the knowledge base's ranked together, on one scale."""
        documents = await self._documents(text, history, retrieval)
        if index is None:
            return documents
        return await asyncio.to_thread(
            self._with_attached, index, documents, text, history, retrieval
        )

    def _with_attached(
        self,
        index: MemoryIndex,
        documents: list[Hit],
        text: str,
        history: list[Turn],
        retrieval: Retrieval,
    ) -> list[Hit]:
        """The attached files' ``k`` best and ``documents`` ranked again together, in one
        index of both. Blocking: run in a worker thread."""
        lead = _ranked(index, text, history, retrieval)
        pool = self._attached_index([h.passage for h in (*lead, *_new_to(documents, lead))])
        try:
            return _ranked(pool, text, history, retrieval)
        finally:
            pool.close()

    async def _documents(self, text: str, history: list[Turn], retrieval: Retrieval) -> list[Hit]:
        def search(query: str, k: int) -> Sequence[Hit]:
            return self._search(query, k, retrieval.mode)

        days = relative_spans(text, self._today())
        if not days:
            return await asyncio.to_thread(
                followup_search, search, text, history, retrieval.k, retrieval.followup
            )
        pool = await asyncio.to_thread(
            followup_search, search, text, history, POOL * retrieval.k, retrieval.followup
        )
        return nearest_dated(pool, retrieval.k, days)

    async def _wanting_web(
        self,
        text: str,
        channel: str,
        contestants: Sequence[Contestant],
        documents: dict[Retrieval, list[Hit]],
    ) -> set[str]:
        """The contestants whose answer should have web passages this time."""
        users = [c for c in contestants if c.pipeline.web != "off"]
        if not users or channel in self._private:
            return set()
        gated = {_retrieval(c) for c in users if c.pipeline.web == "fallback"}
        found_nothing = {
            r
            for r in gated
            if not await asyncio.to_thread(self._relevant, text, [h.passage for h in documents[r]])
        }
        return {
            c.name for c in users if c.pipeline.web == "blend" or _retrieval(c) in found_nothing
        }

    async def _search_web(self, query: str) -> tuple[list[Hit], str | None]:
        """The web's hits, or none and the line that says why."""
        if self._web is None:
            return [], messages.web_search_failed("no search engine is set up")
        try:
            return await self._web.search(query), None
        except WebSearchError as exc:
            log.warning("web search failed: %s", exc)
            return [], messages.web_search_failed(str(exc))
        except Exception:  # a fault in reading the web must not cost the answer
            log.exception("web search failed")
            return [], messages.web_search_failed("an unexpected error")


def nearest_dated(hits: Sequence[Hit], k: int, days: list[Span]) -> list[Hit]:
    """The first ``k`` of ``hits``, with those dated on ``days`` (or, when none is, the
    ones dated nearest to them) among them, in their place by rank: a question about
    "today" ranks a rota's twelve rows alike on words and meaning, and the row of this
    week (or the rota's last, to say it has no row for today) would be left out by
    chance. At most half of the ``k`` places go to dated hits."""
    distance = {
        h.passage.id: days_between(spans, days)
        for h in hits
        if (spans := mentioned_spans(h.passage.text))
    }
    if not distance:
        return list(hits[:k])
    nearest = min(distance.values())
    chosen = [h for h in hits if distance.get(h.passage.id) == nearest][: max(1, k // 2)]
    others = [h for h in hits if h not in chosen][: k - len(chosen)]
    kept = {h.passage.id for h in [*chosen, *others]}
    return [h for h in hits if h.passage.id in kept]


def _ranked(index: MemoryIndex, text: str, history: list[Turn], retrieval: Retrieval) -> list[Hit]:
    """The ``k`` best of ``index`` for ``text``, the thread's history read as the
    retrieval setting says. Blocking: run in a worker thread."""

    def search(query: str, limit: int) -> Sequence[Hit]:
        return index.search(query, limit, retrieval.mode)

    return followup_search(search, text, history, retrieval.k, retrieval.followup)


def _retrieval(contestant: Contestant) -> Retrieval:
    assert contestant.pipeline is not None
    return contestant.pipeline.retrieval


def _new_to(hits: list[Hit], before: list[Hit]) -> list[Hit]:
    """The ``hits`` that repeat none of the passages ``before`` (nor each other): web
    pages after the documents, the documents after the attached files."""
    ids = {h.passage.id for h in hits}
    return [h for h in collapse_duplicates([*before, *hits]) if h.passage.id in ids]


def _interleaved(documents: list[Hit], web: list[Hit]) -> list[Hit]:
    """Documents and web alternately, each in its own order, so a context budget trims
    the tails of both rather than all of the web."""
    return [h for pair in zip_longest(documents, web) for h in pair if h is not None]
