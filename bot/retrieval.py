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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import TYPE_CHECKING

from arena.pipelines import Retrieval
from arena.roster import Contestant
from arena.types import Question, Turn
from knowledge.errors import WebSearchError
from knowledge.retrieve import collapse_duplicates
from knowledge.types import Hit, Mode

from . import messages
from .followup import followup_search, previous_question, thread_query

if TYPE_CHECKING:
    from knowledge.web import WebSource

__all__ = ["PipelineRetrieval", "RelevanceFn", "Retrieved", "SearchFn", "offline_gate"]

log = logging.getLogger(__name__)

SearchFn = Callable[[str, int, Mode], Sequence[Hit]]
# whether any of the texts answers the question (the offline answerers' gate)
RelevanceFn = Callable[[str, Sequence[str]], bool]


def offline_gate(question: str, texts: Sequence[str]) -> bool:
    """The offline answerers' relevance gate, with their embedder (loaded on first use)."""
    from arena.models.offline import default_embedder_factory, passes_relevance_gate

    return passes_relevance_gate(question, texts, default_embedder_factory())


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
    ) -> None:
        self._search = search
        self._web = web
        self._relevant = relevant
        self._private = frozenset(private_channels)

    async def retrieve(
        self, text: str, history: list[Turn], channel: str, contestants: Sequence[Contestant]
    ) -> Retrieved:
        """Raises KnowledgeError when the knowledge base cannot be searched; a failed web
        search only becomes the answers' note."""
        settings = list(dict.fromkeys(_retrieval(c) for c in contestants))
        found = await asyncio.gather(*(self._documents(text, history, r) for r in settings))
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

    async def _documents(self, text: str, history: list[Turn], retrieval: Retrieval) -> list[Hit]:
        def search(query: str, k: int) -> Sequence[Hit]:
            return self._search(query, k, retrieval.mode)

        return await asyncio.to_thread(
            followup_search, search, text, history, retrieval.k, retrieval.followup
        )

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
            if not await asyncio.to_thread(
                self._relevant, text, [h.passage.text for h in documents[r]]
            )
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


def _retrieval(contestant: Contestant) -> Retrieval:
    assert contestant.pipeline is not None
    return contestant.pipeline.retrieval


def _new_to(web: list[Hit], documents: list[Hit]) -> list[Hit]:
    """The web hits that repeat no document passage (nor each other)."""
    ids = {h.passage.id for h in web}
    return [h for h in collapse_duplicates([*documents, *web]) if h.passage.id in ids]


def _interleaved(documents: list[Hit], web: list[Hit]) -> list[Hit]:
    """Documents and web alternately, each in its own order, so a context budget trims
    the tails of both rather than all of the web."""
    return [h for pair in zip_longest(documents, web) for h in pair if h is not None]
