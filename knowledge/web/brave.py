"""Brave Search's web search API (``GET /res/v1/web/search``), with a subscription key.

The key goes in the ``X-Subscription-Token`` header. Brave answers a wrong key with 422
(``SUBSCRIPTION_TOKEN_INVALID``), not 401, and a spent rate or quota with 429
(``RATE_LIMITED``, ``QUOTA_LIMITED``); the error's code is read from the body, so the
line under an answer says which. A query is at most 400 characters and 50 words, and a
request at most 20 results.
"""

from __future__ import annotations

import httpx

from ..errors import WebSearchError
from .search import WebResult

__all__ = ["BRAVE_URL", "MAX_COUNT", "BraveSearch", "parse_results"]

BRAVE_URL = "https://api.search.brave.com/res/v1/web/search"
MAX_COUNT = 20
MAX_QUERY_CHARS = 400
MAX_QUERY_WORDS = 50
_KEY_CODES = {"SUBSCRIPTION_TOKEN_INVALID", "SUBSCRIPTION_TOKEN_MISSING", "SUBSCRIPTION_NOT_FOUND"}


class BraveSearch:
    """Results from Brave's API with the key from ``key_env`` (``key`` None: not set)."""

    name = "brave"

    def __init__(
        self, key: str | None, key_env: str, client: httpx.AsyncClient, url: str = BRAVE_URL
    ) -> None:
        self._key = key
        self._key_env = key_env
        self._client = client
        self._url = url

    async def search(self, query: str, count: int) -> list[WebResult]:
        if not self._key:
            raise WebSearchError(f"no Brave Search key (set {self._key_env})")
        words = query.split()[:MAX_QUERY_WORDS]
        try:
            response = await self._client.get(
                self._url,
                params={
                    "q": " ".join(words)[:MAX_QUERY_CHARS],
                    "count": max(1, min(count, MAX_COUNT)),
                    "text_decorations": "false",
                },
                headers={"Accept": "application/json", "X-Subscription-Token": self._key},
            )
        except httpx.TimeoutException as exc:
            raise WebSearchError("Brave Search did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise WebSearchError(f"cannot reach Brave Search ({type(exc).__name__})") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            raise WebSearchError(self._refusal(response.status_code, body))
        return parse_results(body)[:count]

    def _refusal(self, status: int, body: object) -> str:
        code = _error_code(body)
        if code in _KEY_CODES or status in (401, 403):
            return f"Brave Search refused the key in {self._key_env}"
        if status == 429:
            return "Brave Search's rate limit or quota is spent (429)"
        return f"Brave Search answered {status}" + (f" ({code})" if code else "")


def _error_code(body: object) -> str:
    """The ``code`` of Brave's ErrorResponse: one ``error`` object, or a list of them."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    error = errors[0] if isinstance(errors, list) and errors else body.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else ""


def parse_results(body: object) -> list[WebResult]:
    """``web.results`` of a search reply. A reply with no ``web`` section found no web
    pages; a body that is not a search reply at all is an error."""
    if not isinstance(body, dict) or body.get("type") != "search":
        raise WebSearchError("Brave Search's reply is not a search result")
    web = body.get("web") or {}
    results = web.get("results", []) if isinstance(web, dict) else None
    if not isinstance(results, list):
        raise WebSearchError("Brave Search's reply has no result list")
    found = []
    for item in results:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            snippet = str(item.get("description") or "")
            extra = item.get("extra_snippets")
            if isinstance(extra, list):
                snippet = " ".join([snippet, *(str(s) for s in extra[:2])]).strip()
            found.append(WebResult(item["url"], str(item.get("title") or ""), snippet))
    return found
