"""Files attached to a Discord message (or to ``/ask``), handed to the service as
``Attachment``s.

Discord sends each attachment's ``filename``, ``size`` and a signed CDN ``url``, which
serves the bytes to anyone holding it (no token: the signature expires instead). What a
claim keeps of a question (``files_of``) is those three, as JSON, so the instance that
answers a question another one died on reads the same files; ``attachments_of`` makes
each one's download through discord.py's own HTTP client (``get_from_cdn``). Whether a
file is read is the service's business (``bot.attachments``): a file it will not read
is never downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
import discord

from .. import messages
from ..attachments import Attachment
from ..errors import DownloadFailed

__all__ = ["attachments_of", "files_of"]


def files_of(attachments: Sequence[discord.Attachment]) -> list[dict[str, Any]]:
    """What a claim keeps of a message's attachments: enough to download them again."""
    return [{"name": a.filename, "size": a.size, "url": a.url} for a in attachments]


def attachments_of(
    client: discord.Client, files: Sequence[dict[str, Any]]
) -> tuple[Attachment, ...]:
    """The service's attachments for ``files`` (as ``files_of`` keeps them)."""
    return tuple(_attachment(client, file) for file in files)


def _attachment(client: discord.Client, file: dict[str, Any]) -> Attachment:
    url = file["url"]

    async def fetch() -> bytes:
        try:
            return await client.http.get_from_cdn(url)
        except discord.NotFound as exc:
            raise DownloadFailed(messages.discord_file_gone()) from exc
        except discord.HTTPException as exc:
            raise DownloadFailed(messages.discord_file_refused(exc.status)) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DownloadFailed(messages.discord_file_unreachable(type(exc).__name__)) from exc

    return Attachment(str(file["name"]), int(file["size"]), fetch)
