"""What every web-search backend returns, and which pages Parley may use at all.

A backend (SearXNG, Brave) turns a query into ranked results: URL, title and the
engine's snippet. Nothing a backend or a page says is trusted: results on hosts the
domain rules refuse are dropped before any page is fetched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

__all__ = [
    "BACKENDS",
    "DEFAULT_RESULTS",
    "DEFAULT_TIMEOUT",
    "MAX_PAGE_BYTES",
    "DomainRules",
    "SearchBackend",
    "WebResult",
    "domain_entry",
    "host_of",
]

# The engines Parley can search, and the defaults of the [web] table: here, where
# importing costs nothing (settings are read by every command; httpx is not needed).
BACKENDS = ("searxng", "brave")
DEFAULT_RESULTS = 3  # results whose passages join a question's context
DEFAULT_TIMEOUT = 5.0  # seconds for the search and its pages together
MAX_PAGE_BYTES = 1_000_000  # read no more of a page (a huge page is cut here, not refused)


@dataclass(frozen=True)
class WebResult:
    """One search result as the engine ranked it."""

    url: str
    title: str
    snippet: str


class SearchBackend(Protocol):
    """A search engine's API; raises WebSearchError with a plain reason on failure."""

    name: str

    async def search(self, query: str, count: int) -> list[WebResult]:
        """At most ``count`` results for ``query``, best first (empty when none)."""
        ...


def host_of(url: str) -> str:
    """The URL's host, lowercased, without a trailing dot; "" for anything that is not
    an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    return (parts.hostname or "").rstrip(".").lower()


def domain_entry(entry: str) -> str:
    """A configured domain as it is matched: ``*.example.com`` and ``.example.com`` are
    ``example.com`` (a domain always covers its subdomains). Raises ValueError for
    something that is not a domain (a URL, a path, a blank)."""
    domain = entry.strip().lower().removeprefix("*.").lstrip(".").rstrip(".")
    if not domain or any(c in domain for c in "/:@ ?#") or "." not in domain:
        raise ValueError(f"{entry!r} is not a domain (write it like docs.python.org)")
    return domain


@dataclass(frozen=True)
class DomainRules:
    """Which hosts results may come from: never a denied domain; with an allow list,
    only its domains. A domain covers its subdomains."""

    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()

    @classmethod
    def of(cls, allow: Iterable[str] = (), deny: Iterable[str] = ()) -> DomainRules:
        return cls(tuple(map(domain_entry, allow)), tuple(map(domain_entry, deny)))

    def permits(self, url: str) -> bool:
        host = host_of(url)
        if not host or any(_under(host, d) for d in self.deny):
            return False
        return not self.allow or any(_under(host, d) for d in self.allow)


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)
