"""Fetching a result's page: bounded, polite, and never trusted.

A page is read only when the domain rules allow its host, its host is a public address
(a search result pointing at ``localhost`` or a cloud metadata address must not make
Parley fetch from inside the team's network), and its site's robots.txt lets Parley in
(RFC 9309: a missing robots.txt allows everything, an unreachable one nothing). Every
redirect is checked the same way. At most ``max_bytes`` are read; only HTML and plain
text are read at all (anything else is binary to us). HTML becomes text through the
knowledge base's own HTML loader (lxml, scripts, styles and page chrome dropped), so a
web page is read exactly as an indexed HTML file is. What comes back is text for a
prompt's context, fenced there as untrusted (see ``arena.compose``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from ..errors import LoadError
from ..loaders.common import decode_text, squash
from ..loaders.html import load_html
from ..types import Section
from .search import MAX_PAGE_BYTES, DomainRules, host_of

__all__ = [
    "MAX_PAGE_CHARS",
    "ROBOTS_AGENT",
    "USER_AGENT",
    "Page",
    "PageFetcher",
    "page_sections",
]

log = logging.getLogger(__name__)

USER_AGENT = "Parley/1.0 (a team's question-answering bot; reads pages its search found)"
ROBOTS_AGENT = "Parley"  # the token robots.txt rules name
MAX_PAGE_CHARS = 100_000  # of extracted text: enough for any answer, bounded for chunking
MAX_ROBOTS_BYTES = 100_000
MAX_REDIRECTS = 3
ROBOTS_CACHE = 512  # sites whose robots.txt is remembered
PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
# uncompressed: a compressed page could inflate far past the bytes read
_HEADERS = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}


@dataclass(frozen=True)
class Page:
    """A fetched page's title and its text in sections, as the HTML loader reads it."""

    url: str
    title: str
    sections: list[Section]


@dataclass(frozen=True)
class _Fetched:
    url: str
    status: int
    content_type: str
    body: bytes


class PageFetcher:
    """Reads pages under the rules above; ``allow_private`` lifts the public-address
    check (for a search engine and pages on the team's own network, and for tests)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        rules: DomainRules,
        *,
        max_bytes: int = MAX_PAGE_BYTES,
        allow_private: bool = False,
    ) -> None:
        self._client = client
        self._rules = rules
        self._max_bytes = max_bytes
        self._allow_private = allow_private
        self._robots: OrderedDict[str, RobotFileParser] = OrderedDict()

    async def fetch(self, url: str) -> Page | None:
        """The page's text, or None (with a debug line saying why) when it may not be
        read or is not readable text."""
        fetched = await self._get(url, self._max_bytes, robots=True)
        if fetched is None:
            return None
        if fetched.status != 200:
            log.debug("web page %s answered %s", url, fetched.status)
            return None
        kind = fetched.content_type
        if kind not in PAGE_TYPES:
            log.debug("web page %s is %s, not text", url, kind or "of no stated type")
            return None
        try:
            title, sections = await asyncio.to_thread(page_sections, fetched.body, kind)
        except LoadError as exc:
            log.debug("web page %s is not readable: %s", url, exc)
            return None
        return Page(fetched.url, title, sections) if sections else None

    async def _get(self, url: str, limit: int, *, robots: bool) -> _Fetched | None:
        """GET ``url`` reading at most ``limit`` bytes, each hop of a redirect checked."""
        for _ in range(MAX_REDIRECTS + 1):
            if not await self._may_fetch(url, robots=robots):
                return None
            async with self._client.stream(
                "GET", url, headers=_HEADERS, follow_redirects=False
            ) as response:
                location = response.headers.get("location")
                if response.is_redirect and location:
                    url = urljoin(url, location)
                    continue
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk[: limit - len(body)]
                    if len(body) >= limit:
                        break
                return _Fetched(url, response.status_code, kind, bytes(body))
        log.debug("web page %s redirects more than %d times", url, MAX_REDIRECTS)
        return None

    async def _may_fetch(self, url: str, *, robots: bool) -> bool:
        if not self._rules.permits(url):
            log.debug("web page %s: its domain is not allowed", url)
            return False
        if not self._allow_private and not await _public(host_of(url)):
            log.debug("web page %s: not a public address", url)
            return False
        if robots and not await self._robots_allow(url):
            log.debug("web page %s: robots.txt says no", url)
            return False
        return True

    async def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        parser = self._robots.get(origin)
        if parser is None:
            parser = await self._read_robots(origin)
            self._robots[origin] = parser
            if len(self._robots) > ROBOTS_CACHE:
                self._robots.popitem(last=False)
        return parser.can_fetch(ROBOTS_AGENT, url)

    async def _read_robots(self, origin: str) -> RobotFileParser:
        parser = RobotFileParser()
        try:
            fetched = await self._get(origin + "/robots.txt", MAX_ROBOTS_BYTES, robots=False)
        except httpx.HTTPError:
            fetched = None
        if fetched is not None and fetched.status == 200:
            parser.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
        elif fetched is not None and 400 <= fetched.status < 500:
            parser.allow_all = True
        else:  # unreachable, a server error, or a redirect we would not follow
            parser.disallow_all = True
        return parser


async def _public(host: str) -> bool:
    """Whether every address ``host`` resolves to is a public (global) one."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_global for info in infos)


def page_sections(body: bytes, kind: str) -> tuple[str, list[Section]]:
    """A page's title and sections (HTML through the HTML loader, plain text as
    paragraphs), cut to MAX_PAGE_CHARS of text. Raises LoadError for a page that is
    binary or not text."""
    if kind == "text/plain":
        text = decode_text(body)
        title, sections = "", [Section(p) for p in text.split("\n\n") if p.strip()]
    else:
        title, sections = load_html(body)
    kept: list[Section] = []
    room = MAX_PAGE_CHARS
    for section in sections:
        if room <= 0:
            break
        kept.append(Section(section.text[:room], section.heading_path, section.location))
        room -= len(section.text)
    return squash(title), kept
