"""Fake search engines and web sites on the shared FakeServer, answering as the real ones.

``FakeSearxng`` plays SearXNG's search API as docs.searxng.org's "Search API" page
describes it: ``GET /search`` with ``q`` and ``format=json``; the reply's envelope
(``query``, ``number_of_results``, ``results``, ``answers``, ``corrections``,
``infoboxes``, ``suggestions``, ``unresponsive_engines``) and each result's fields
(``url``, ``title``, ``content``, ``engine``, ``engines``, ``parsed_url``,
``positions``, ``score``, ``category``, ``publishedDate``) as instances send them; and
403 with an HTML page when the instance's settings.yml does not enable the json format.

``FakeBrave`` plays Brave's Web Search API as its API reference describes it: ``GET
/res/v1/web/search`` with the key in ``X-Subscription-Token``; a ``type: search`` reply
whose ``web.results`` hold ``title``, ``url``, ``description`` (with ``<strong>``
highlights unless ``text_decorations`` is off), ``extra_snippets``, ``meta_url``;
no ``web`` section when nothing was found; a wrong key answered with 422
``SUBSCRIPTION_TOKEN_INVALID`` and a spent rate with 429 ``RATE_LIMITED``, in the
``ErrorResponse`` shape.

``FakeSite`` serves pages and a robots.txt from the same server, so a result's URL
points back at it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.fakes.http_server import FakeServer, Scripted, Seen

__all__ = ["BRAVE_PATH", "FakeBrave", "FakeSearxng", "FakeSite", "Result"]

BRAVE_PATH = "/res/v1/web/search"
Result = tuple[str, str, str]  # url, title, snippet


class FakeSearxng:
    """A SearXNG instance whose search finds ``results`` (set them any time)."""

    def __init__(self, server: FakeServer, results: list[Result] | None = None) -> None:
        self.server = server
        self.results = list(results or [])
        server.route("GET", "/search", self._search)

    @property
    def url(self) -> str:
        return self.server.url

    def queries(self) -> list[str]:
        return [seen.query.get("q", "") for seen in self.server.seen("/search")]

    def then(self, *replies: Scripted) -> None:
        """One-off replies before the standing one (an error, a hang)."""
        self.server.then("GET", "/search", *replies)

    def refuses_json(self) -> None:
        """As an instance without ``json`` in ``search.formats``: 403 and an HTML page."""
        self.then(
            Scripted(
                403,
                "<html><body><h1>403 Forbidden</h1></body></html>",
                content_type="text/html; charset=utf-8",
            )
        )

    def _search(self, seen: Seen) -> Scripted:
        if seen.query.get("format") != "json":
            return Scripted(
                200,
                "<html><body>results page</body></html>",
                content_type="text/html; charset=utf-8",
            )
        query = seen.query.get("q", "")
        return Scripted(
            200,
            {
                "query": query,
                "number_of_results": 0,  # instances often report 0 beside a full list
                "results": [_searxng_result(n, *r) for n, r in enumerate(self.results, 1)],
                "answers": [],
                "corrections": [],
                "infoboxes": [],
                "suggestions": [],
                "unresponsive_engines": [],
            },
        )


def _searxng_result(position: int, url: str, title: str, snippet: str) -> dict:
    parts = urlsplit(url)
    return {
        "url": url,
        "title": title,
        "content": snippet,
        "engine": "duckduckgo",
        "parsed_url": [parts.scheme, parts.netloc, parts.path, "", parts.query, ""],
        "template": "default.html",
        "engines": ["duckduckgo", "brave"],
        "positions": [position],
        "score": 2.0 / position,
        "category": "general",
        "publishedDate": None,
    }


class FakeBrave:
    """Brave's web search with one valid ``key``; it finds ``results``."""

    def __init__(self, server: FakeServer, key: str, results: list[Result] | None = None) -> None:
        self.server = server
        self.key = key
        self.results = list(results or [])
        server.route("GET", BRAVE_PATH, self._search)

    @property
    def url(self) -> str:
        return self.server.url + BRAVE_PATH

    def requests(self) -> list[Seen]:
        return self.server.seen(BRAVE_PATH)

    def then(self, *replies: Scripted) -> None:
        self.server.then("GET", BRAVE_PATH, *replies)

    def rate_limited(self) -> None:
        self.then(
            _brave_error(
                429, "RATE_LIMITED", "Request rate limit exceeded for plan.", "rate_limiter"
            )
        )

    def _search(self, seen: Seen) -> Scripted:
        if seen.headers.get("x-subscription-token") != self.key:
            return _brave_error(
                422,
                "SUBSCRIPTION_TOKEN_INVALID",
                "The provided subscription token is invalid.",
                "authentication",
            )
        query = seen.query.get("q", "")
        decorate = seen.query.get("text_decorations", "true") != "false"
        count = int(seen.query.get("count", "20"))
        body: dict = {
            "type": "search",
            "query": {
                "original": query,
                "show_strict_warning": False,
                "is_navigational": False,
                "country": "us",
                "more_results_available": False,
            },
            "mixed": {"type": "mixed", "main": [], "top": [], "side": []},
        }
        if self.results:
            body["web"] = {
                "type": "search",
                "family_friendly": True,
                "results": [_brave_result(*r, decorate) for r in self.results[:count]],
            }
            body["mixed"]["main"] = [
                {"type": "web", "index": i, "all": False}
                for i in range(len(body["web"]["results"]))
            ]
        return Scripted(200, body)


def _brave_result(url: str, title: str, snippet: str, decorate: bool) -> dict:
    parts = urlsplit(url)
    first, _, rest = snippet.partition(" ")
    description = f"<strong>{first}</strong> {rest}" if decorate else snippet
    return {
        "type": "search_result",
        "title": title,
        "url": url,
        "is_source_local": False,
        "is_source_both": False,
        "description": description,
        "language": "en",
        "family_friendly": True,
        "extra_snippets": [],
        "meta_url": {
            "scheme": parts.scheme,
            "netloc": parts.netloc,
            "hostname": parts.hostname,
            "favicon": "",
            "path": parts.path,
        },
    }


def _brave_error(status: int, code: str, detail: str, component: str) -> Scripted:
    return Scripted(
        status,
        {
            "type": "ErrorResponse",
            "error": {
                "id": "5d832250-9396-4f6e-b84a-2a1fe524cd7d",
                "status": status,
                "code": code,
                "detail": detail,
                "meta": {"component": component},
            },
            "time": 1663072993,
        },
    )


class FakeSite:
    """Pages (path to body and content type) and a robots.txt on the server."""

    def __init__(self, server: FakeServer, robots: Scripted | None = None) -> None:
        self.server = server
        server.route(
            "GET", "/robots.txt", robots or Scripted(404, "not found", content_type="text/plain")
        )

    def page(
        self,
        path: str,
        body: str,
        content_type: str = "text/html; charset=utf-8",
        *,
        delay: float = 0.0,
        status: int = 200,
        headers: dict | None = None,
    ) -> str:
        """Serve ``body`` at ``path``; returns the page's URL."""
        self.server.route(
            "GET",
            path,
            Scripted(status, body, headers=headers or {}, content_type=content_type, delay=delay),
        )
        return self.server.url + path

    def fetched(self, path: str) -> int:
        return len(self.server.seen(path))
