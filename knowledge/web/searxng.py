"""SearXNG's search API (``GET /search?q=...&format=json``): self-hosted, no key.

An instance answers JSON only when its settings.yml lists ``json`` under
``search.formats``; otherwise it answers 403, which is named as such rather than
reported as an outage.
"""

from __future__ import annotations

import httpx

from ..errors import WebSearchError
from .search import WebResult

__all__ = ["SearxngSearch", "parse_results"]


class SearxngSearch:
    """Results from one SearXNG instance at ``url`` (its root, as a browser opens it)."""

    name = "searxng"

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self._endpoint = url.rstrip("/") + "/search"
        self._client = client

    async def search(self, query: str, count: int) -> list[WebResult]:
        try:
            response = await self._client.get(
                self._endpoint,
                params={"q": query, "format": "json", "safesearch": 1},
                headers={"Accept": "application/json"},
            )
        except httpx.TimeoutException as exc:
            raise WebSearchError("SearXNG did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise WebSearchError(f"cannot reach SearXNG ({type(exc).__name__})") from exc
        if response.status_code == 403:
            raise WebSearchError(
                "SearXNG refused JSON (add json to search.formats in its settings.yml)"
            )
        if response.status_code == 429:
            raise WebSearchError("SearXNG is limiting requests (429)")
        if response.status_code != 200:
            raise WebSearchError(f"SearXNG answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise WebSearchError("SearXNG's reply is not JSON") from exc
        return parse_results(body)[:count]


def parse_results(body: object) -> list[WebResult]:
    """The ``results`` list of a SearXNG JSON reply; entries without a URL are skipped.
    A reply without that list is an error, not "nothing found" (a proxy's page, an
    incompatible version): an empty list would hide it."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise WebSearchError("SearXNG's reply has no result list")
    found = []
    for item in results:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            found.append(
                WebResult(item["url"], str(item.get("title") or ""), str(item.get("content") or ""))
            )
    return found
