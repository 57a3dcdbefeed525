"""One WebSource from plain settings, on its own HTTP client."""

from __future__ import annotations

import httpx

from .brave import BRAVE_URL, BraveSearch
from .pages import PageFetcher
from .search import BACKENDS, MAX_PAGE_BYTES, DomainRules, SearchBackend
from .searxng import SearxngSearch
from .source import WebLimits, WebSource

__all__ = ["open_web_source"]


def open_web_source(
    provider: str,
    *,
    url: str | None = None,
    key: str | None = None,
    key_env: str = "",
    rules: DomainRules | None = None,
    limits: WebLimits | None = None,
    max_page_bytes: int = MAX_PAGE_BYTES,
    allow_private: bool = False,
) -> WebSource:
    """A WebSource on its own HTTP client (closed by ``WebSource.close``). ``url`` is
    SearXNG's address, or another address for Brave's API (a proxy); ``key`` Brave's
    key, read from ``key_env`` by the caller (None: every search says it is missing).
    ``allow_private`` lets pages on private addresses be read (see ``PageFetcher``)."""
    rules = rules or DomainRules()
    limits = limits or WebLimits()
    if provider not in BACKENDS:
        raise ValueError(f"unknown search backend {provider!r} ({', '.join(BACKENDS)})")
    per_request = httpx.Timeout(limits.timeout, connect=min(limits.timeout, 3.0))
    client = httpx.AsyncClient(timeout=per_request, follow_redirects=False)
    backend: SearchBackend
    if provider == "searxng":
        if not url:
            raise ValueError("SearXNG needs its address (url)")
        backend = SearxngSearch(url, client)
    else:
        backend = BraveSearch(key, key_env, client, url or BRAVE_URL)
    fetcher = PageFetcher(client, rules, max_bytes=max_page_bytes, allow_private=allow_private)
    return WebSource(backend, rules, fetcher, limits, client=client)
