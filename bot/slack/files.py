"""Files attached to a Slack message, handed to the service as ``Attachment``s.

Slack sends each file of a message in the event's ``files``: its ``name``, ``size`` and
``url_private_download``, which serves the bytes only to a request carrying the bot
token (``Authorization: Bearer``, the ``files:read`` scope); without it Slack answers
with its sign-in page, not an error. A file shared from another organisation (Slack
Connect) may arrive as a stub with ``file_access: "check_file_info"``: ``files.info``
gives the whole file first. A deleted file (``mode: "tombstone"``) or one beyond a free
workspace's history (``hidden_by_limit``) cannot be had at all; the service says so.
The token goes only to Slack's own hosts (or the configured API's, a proxy's), never to
whatever address a file object names. Whether a file is read is the service's business
(``bot.attachments``): a file it will not read is never downloaded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp

from .. import messages
from ..attachments import Attachment
from ..errors import DownloadFailed
from .web_api import DELIVERY_ERRORS, why

if TYPE_CHECKING:
    from .app import SlackBot

__all__ = ["DOWNLOAD_TIMEOUT", "attachments_of"]

DOWNLOAD_TIMEOUT = 120.0  # seconds for one file (20 MB on a slow link)
_SLACK_HOSTS = ("slack.com", "slack-edge.com")
log = logging.getLogger(__name__)


async def attachments_of(bot: SlackBot, event: dict) -> tuple[Attachment, ...]:
    """The event's files as the service takes them (a Slack Connect stub looked up)."""
    return tuple([await _attachment(bot, file) for file in event.get("files") or ()])


async def _attachment(bot: SlackBot, file: dict) -> Attachment:
    if file.get("file_access") == "check_file_info":
        try:
            file = (await bot.client.files_info(file=file["id"]))["file"]
        except DELIVERY_ERRORS as exc:
            log.warning("files.info failed for %s: %s", file.get("id"), why(exc))
            return _withheld(file, messages.slack_file_not_shared(why(exc)))
    name = _name(file)
    if file.get("mode") == "tombstone":
        return _withheld(file, messages.slack_file_deleted())
    if file.get("mode") == "hidden_by_limit":
        return _withheld(file, messages.slack_file_hidden())
    url = file.get("url_private_download") or file.get("url_private") or ""
    token, limit = bot.client.token or "", bot.attachment_max_bytes

    async def fetch() -> bytes:
        if not _ours(url, bot.client.base_url):
            raise DownloadFailed(messages.slack_file_elsewhere())
        return await _download(url, token, limit, html=name.lower().endswith((".html", ".htm")))

    return Attachment(name, int(file.get("size") or 0), fetch)


def _name(file: dict) -> str:
    return str(file.get("name") or file.get("title") or file.get("id") or "a file")


def _withheld(file: dict, reason: str) -> Attachment:
    return Attachment(_name(file), 0, _nothing, withheld=reason)


async def _nothing() -> bytes:  # a withheld file is never fetched
    raise DownloadFailed("withheld")


def _ours(url: str, api_url: str) -> bool:
    """Whether the bot token may be sent to ``url``: Slack's hosts over HTTPS, or the
    host of the configured Web API (a proxy, a test's fake)."""
    parts, api = urlsplit(url), urlsplit(api_url)
    host = parts.hostname or ""
    if parts.scheme == "https" and any(host == h or host.endswith(f".{h}") for h in _SLACK_HOSTS):
        return True
    return (parts.scheme, parts.netloc) == (api.scheme, api.netloc) and bool(host)


async def _download(url: str, token: str, limit: int, *, html: bool) -> bytes:
    """The file's bytes, at most ``limit`` + 1 of them (more says "too large" to the
    service without holding the rest); DownloadFailed with Slack's reason otherwise.
    A request Slack does not accept is sent to its sign-in page (a redirect, or the page
    itself), which is not followed: ``html`` says whether the file may be a page."""
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers=headers, allow_redirects=False) as response,
        ):
            signing_in = response.content_type == "text/html" and not html
            if 300 <= response.status < 400 or (response.status == 200 and signing_in):
                raise DownloadFailed(messages.slack_file_sign_in())
            if response.status != 200:
                raise DownloadFailed(messages.slack_file_refused(response.status))
            data = bytearray()
            async for chunk in response.content.iter_chunked(1 << 16):
                data += chunk
                if len(data) > limit:
                    break
            return bytes(data[: limit + 1])
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DownloadFailed(messages.slack_file_unreachable(type(exc).__name__)) from exc
