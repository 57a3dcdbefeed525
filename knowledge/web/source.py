"""The web as a source of passages: search, keep the allowed results, read their pages.

One call searches once and returns the top results as Hits whose passages carry the
page's URL as their source (``Passage.is_web``) and its title. A result whose page can
be read contributes its passages that share most words with the question; one whose
page cannot (robots.txt, a binary file, a timeout, an error) contributes the engine's
snippet. The whole call has one deadline: a search that has not answered by then is an
error (WebSearchError, "timed out after 5 s"); pages still loading then are given up
and their snippets used.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Self

import httpx

from ..chunking import chunk_document
from ..errors import WebSearchError
from ..lexical import query_terms
from ..loaders.common import squash
from ..loaders.html import load_html
from ..types import Hit, LoadedDocument, Passage
from .pages import Page, PageFetcher
from .search import DEFAULT_RESULTS, DEFAULT_TIMEOUT, DomainRules, SearchBackend, WebResult

__all__ = [
    "MAX_TITLE_CHARS",
    "PASSAGES_PER_PAGE",
    "WebLimits",
    "WebSource",
]

log = logging.getLogger(__name__)

PASSAGES_PER_PAGE = 2  # of a read page: its passages that share most words with the question
CANDIDATES = 10  # results asked of the engine, so the domain rules can drop some
MAX_TITLE_CHARS = 200
MAX_SNIPPET_CHARS = 1000
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class WebLimits:
    """How much of the web one question may use, and how long it may wait for it."""

    results: int = DEFAULT_RESULTS
    timeout: float = DEFAULT_TIMEOUT
    fetch_pages: bool = True


class WebSource:
    """Search ``backend``, keep what ``rules`` allow, read pages with ``fetcher``."""

    def __init__(
        self,
        backend: SearchBackend,
        rules: DomainRules,
        fetcher: PageFetcher | None,
        limits: WebLimits | None = None,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        limits = limits or WebLimits()
        self.backend = backend
        self._rules = rules
        self._fetcher = fetcher if limits.fetch_pages else None
        self._limits = limits
        self._client = client  # closed with the source, when it was handed over

    @property
    def timeout(self) -> float:
        return self._limits.timeout

    async def search(self, query: str) -> list[Hit]:
        """The top allowed results as hits, best first; empty when the engine found
        nothing allowed. Raises WebSearchError when the search fails or times out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._limits.timeout
        try:
            async with asyncio.timeout_at(deadline):
                results = await self.backend.search(query, CANDIDATES)
        except TimeoutError as exc:
            raise WebSearchError(f"timed out after {self._limits.timeout:g} s") from exc
        chosen = _allowed(results, self._rules)[: self._limits.results]
        pages = await self._pages(chosen, deadline)
        return await asyncio.to_thread(_hits, chosen, pages, set(query_terms(query)))

    async def _pages(self, results: list[WebResult], deadline: float) -> dict[str, Page]:
        """The readable pages among the results' URLs, read at once, until the deadline."""
        if self._fetcher is None or not results:
            return {}
        tasks = {asyncio.create_task(self._fetcher.fetch(r.url)): r.url for r in results}
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        done, pending = await asyncio.wait(tasks, timeout=remaining)
        for task in pending:
            task.cancel()
            log.debug("web page %s: not read before the deadline", tasks[task])
        pages: dict[str, Page] = {}
        for task in done:
            try:
                page = task.result()
            except Exception as exc:  # any page may fail in its own way: its snippet stays
                log.debug("web page %s: %s", tasks[task], type(exc).__name__)
                continue
            if page is not None:
                pages[tasks[task]] = page
        return pages

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _hits(results: list[WebResult], pages: dict[str, Page], terms: set[str]) -> list[Hit]:
    """Each result's passages (its page's, or its snippet), scored by the engine's rank.
    Chunking counts tokens: CPU work, run in a worker thread."""
    hits: list[Hit] = []
    for rank, result in enumerate(results):
        passages = _page_passages(pages.get(result.url), result, terms) or [_snippet(result)]
        hits += [Hit(p, 1.0 / (1 + rank)) for p in passages if p.text]
    return hits


def _allowed(results: list[WebResult], rules: DomainRules) -> list[WebResult]:
    """Results the rules allow, each URL once, in the engine's order."""
    seen: set[str] = set()
    kept = []
    for result in results:
        if rules.permits(result.url) and result.url not in seen:
            seen.add(result.url)
            kept.append(result)
    return kept


def _title(result: WebResult, page: Page | None = None) -> str:
    title = squash(result.title) or (squash(page.title) if page else "") or result.url
    return title[:MAX_TITLE_CHARS]


def _snippet(result: WebResult) -> Passage:
    """The engine's snippet as the result's one passage (engines may mark it up)."""
    text = result.snippet
    if "<" in text:  # <strong> highlights: read as the HTML it is, never shown raw
        _, sections = load_html(f"<p>{text}</p>".encode())
        text = " ".join(s.text for s in sections)
    text = squash(text)[:MAX_SNIPPET_CHARS]
    return Passage(_web_id(result.url, text), text, result.url, _title(result))


def _page_passages(page: Page | None, result: WebResult, terms: set[str]) -> list[Passage]:
    """The page's passages sharing most of the question's words (ties: the earlier)."""
    if page is None:
        return []
    document = LoadedDocument(result.url, _title(result, page), page.sections)
    passages = chunk_document(document)
    scored = sorted(
        range(len(passages)),
        key=lambda i: -len(terms & set(WORD.findall(passages[i].text.lower()))),
    )
    best = sorted(scored[:PASSAGES_PER_PAGE])  # in the page's order
    return [_as_web(passages[i]) for i in best]


def _as_web(passage: Passage) -> Passage:
    return Passage(
        _web_id(passage.source, passage.text),
        passage.text,
        passage.source,
        passage.title,
        passage.heading_path,
        passage.location,
    )


def _web_id(url: str, text: str) -> str:
    """Web passages' ids never meet the index's: they hash the URL and text, prefixed."""
    return "web:" + hashlib.sha1(f"{url}\x1f{text}".encode()).hexdigest()[:20]
