"""The web as a source: a search-engine interface, two backends, bounded page reading.

``open_web_source`` builds one from plain values (the bot reads them from the ``[web]``
table of parley.toml). SearXNG is self-hosted and needs no key; Brave Search is the
commercial backend, with a key. Both only find pages: reading them, with every bound
and check, is the same code for both (``pages.py``).

The names below load on first use, like ``knowledge``'s: reading settings needs only
the constants and the domain helpers, not the HTTP client.
"""

from __future__ import annotations

import typing

from .. import lazy
from .search import (
    BACKENDS,
    DEFAULT_RESULTS,
    DEFAULT_TIMEOUT,
    MAX_PAGE_BYTES,
    DomainRules,
    SearchBackend,
    WebResult,
    domain_entry,
    host_of,
)

if typing.TYPE_CHECKING:
    from .brave import BRAVE_URL, BraveSearch
    from .open import open_web_source
    from .pages import Page, PageFetcher
    from .searxng import SearxngSearch
    from .source import WebLimits, WebSource

__all__ = [
    "BACKENDS",
    "BRAVE_URL",
    "DEFAULT_RESULTS",
    "DEFAULT_TIMEOUT",
    "MAX_PAGE_BYTES",
    "BraveSearch",
    "DomainRules",
    "Page",
    "PageFetcher",
    "SearchBackend",
    "SearxngSearch",
    "WebLimits",
    "WebResult",
    "WebSource",
    "domain_entry",
    "host_of",
    "open_web_source",
]

_LAZY = {
    "BRAVE_URL": "brave",
    "BraveSearch": "brave",
    "open_web_source": "open",
    "Page": "pages",
    "PageFetcher": "pages",
    "SearxngSearch": "searxng",
    "WebLimits": "source",
    "WebSource": "source",
}


__getattr__, __dir__ = lazy.lazy_names(__name__, _LAZY)
