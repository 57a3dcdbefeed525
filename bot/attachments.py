"""Documents a person attaches to a question: read, kept for the conversation, searched.

"Here's our vendor contract, when does it renew?" is answered from the contract. Each
surface hands the service an ``Attachment`` per file (its name, the size the platform
reports and a ``fetch`` that downloads it); everything else is decided here, the same
for every surface. A file is read when the knowledge base has a loader for its suffix
(``knowledge.loaders``) and it is no larger than ``attachment_max_mb``; only then is it
downloaded, parsed in a worker thread by the loader a file on disk gets, and chunked
as the indexer chunks. A file that is not read (its type, its size, a failed download,
no text in it) becomes a notice naming it and saying why, and the question is answered
all the same.

What was read is kept for the conversation (``arena.attachment_records``: the newest
few files of a thread, each cut at ``MAX_PASSAGES`` passages), so its follow-ups, on
whichever instance they reach, are answered from it too. It is never added to the
knowledge base. For each question the conversation's passages are ranked by the same
hybrid search as the knowledge base's (``knowledge.memory_index``), and their best
compete with the knowledge base's for the passages a model reads (``bot.retrieval``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import PurePath
from typing import TYPE_CHECKING

import numpy as np

from arena.errors import StoreError
from arena.store import AttachedFile, Store
from knowledge.errors import LoadError
from knowledge.types import ATTACHED, Passage

from . import messages
from .errors import DownloadFailed

if TYPE_CHECKING:  # the loaders, chunker and embedder load with the first attachment
    from knowledge.embed import Embedder
    from knowledge.memory_index import MemoryIndex

    from .asks import Ask

__all__ = [
    "MAX_PASSAGES",
    "Attached",
    "AttachedFile",
    "Attachment",
    "AttachmentDesk",
    "attached_index",
]

log = logging.getLogger(__name__)

# of one file (some 2 MB of text, or 2,000 spreadsheet rows): what is kept and searched;
# a question embeds only BM25's best few of them (``knowledge.memory_index``)
MAX_PASSAGES = 2_000
MAX_CHARS = MAX_PASSAGES * 2_000  # text they can hold: a passage of 200 word pieces is shorter
_REMEMBERED_VECTORS = 4_000  # passage vectors kept between a thread's questions


@dataclass(frozen=True)
class Attachment:
    """A file attached to a question, as a surface hands it over.

    ``size`` is the size the platform reports (a file over the limit is never
    downloaded); ``fetch`` downloads it, raising DownloadFailed with a plain reason.
    ``withheld`` says why the platform will not hand the file over at all (deleted, or
    beyond a plan's limit); the service tells the asker so instead of reading it."""

    name: str
    size: int
    fetch: Callable[[], Awaitable[bytes]]
    withheld: str = ""


@dataclass(frozen=True)
class Attached:
    """What a question's attachments came to: the files read now, every file the
    conversation has (those first; what is searched), and notices for the asker."""

    read: list[AttachedFile] = field(default_factory=list)
    kept: list[AttachedFile] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def passages(self) -> list[Passage]:
        return [p for f in self.kept for p in f.passages]

    def receipt(self, in_thread: bool) -> list[str]:
        """For files sent without a question: what was read (and what was not)."""
        read = [(f.name, len(f.passages)) for f in self.read]
        return [*([messages.attachments_read(read, in_thread)] if read else []), *self.notices]


class AttachmentDesk:
    """Reads a question's attachments and keeps them for its conversation in ``store``."""

    def __init__(self, store: Store, *, max_bytes: int) -> None:
        self._store = store
        self._max_bytes = max_bytes

    async def gather(self, ask: Ask) -> Attached:
        """Read the question's attachments (one at a time: each may be large) and keep
        what was read for its thread; with the files the thread had before, newest first."""
        platform, channel, thread = ask.platform, ask.channel, ask.thread
        if not (ask.attachments or thread):
            return Attached()
        read: list[AttachedFile] = []
        notices: list[str] = []
        for attachment in ask.attachments:
            outcome = await self._read(attachment)
            if isinstance(outcome, str):
                notices.append(outcome)
                continue
            file, cut = outcome
            read.append(file)
            notices += [cut] if cut else []
        if thread is None:  # nowhere to keep it: this question alone reads it
            return Attached(read, read, notices)
        if read:
            try:
                await self._store.keep_attachments(platform, channel, thread, read)
            except StoreError as exc:
                log.error("attachments in %s/%s were not kept: %s", channel, thread, exc)
                notices.append(messages.attachment_not_kept([f.name for f in read]))
        names = {f.name for f in read}
        before = await self._store.thread_attachments(platform, channel, thread)
        return Attached(read, [*read, *(f for f in before if f.name not in names)], notices)

    async def _read(self, attachment: Attachment) -> tuple[AttachedFile, str | None] | str:
        """The file read (and, when it was cut short, the notice that says so), or the
        notice that says why it was not."""
        name = attachment.name
        if attachment.withheld:
            return messages.attachment_withheld(name, attachment.withheld)
        if PurePath(name).suffix.lower() not in _formats():
            return messages.attachment_unsupported(name, dict.fromkeys(_formats().values()))
        if attachment.size > self._max_bytes:
            return messages.attachment_too_large(name, attachment.size, self._max_bytes)
        try:
            data = await attachment.fetch()
        except DownloadFailed as exc:
            log.warning("could not download the attached %s: %s", name, exc)
            return messages.attachment_not_downloaded(name, str(exc))
        except Exception:  # a fault in a surface's download must not cost the answer
            log.exception("downloading the attached %s failed", name)
            return messages.attachment_not_downloaded(name, "an unexpected error")
        if len(data) > self._max_bytes:  # the platform reported less than it sent
            return messages.attachment_too_large(name, None, self._max_bytes)
        try:
            passages, longer = await asyncio.to_thread(_passages_of, data, name)
        except LoadError as exc:
            return messages.attachment_unreadable(name, str(exc))
        cut = messages.attachment_cut(name, len(passages)) if longer else None
        return AttachedFile(name, tuple(passages)), cut


@cache
def _formats() -> dict[str, str]:
    """Each suffix read, in the loaders' order, and the one that names its format to a
    person (".md" for ".markdown" too: one suffix a loader)."""
    from knowledge.loaders import LOADERS

    first = {loader: suffix for suffix, loader in reversed(LOADERS.items())}
    return {suffix: first[loader] for suffix, loader in LOADERS.items()}


def _passages_of(data: bytes, name: str) -> tuple[list[Passage], bool]:
    """The file's first ``MAX_PASSAGES`` passages, as the indexer would cut them, and
    whether there was more; titled by the file's name, the name a person knows it by
    (and the one its citations show). Only the text those passages can hold is cut into
    passages (``MAX_CHARS``): chunking a whole 20 MB file to keep its first 2 MB took
    20 s and most of a gigabyte."""
    from knowledge.chunking import chunk_document
    from knowledge.loaders import load_bytes

    document = load_bytes(data, name, f"{ATTACHED}{name}")
    sections, room = [], MAX_CHARS
    for section in document.sections:
        if room <= 0:
            break
        sections.append(replace(section, text=section.text[:room]))
        room -= len(section.text)
    passages = chunk_document(replace(document, title=name, sections=sections))
    cut = room < 0 or len(sections) < len(document.sections) or len(passages) > MAX_PASSAGES
    return passages[:MAX_PASSAGES], cut


class _Remembering:
    """An embedder that remembers the vectors of the texts it embedded lately: a thread's
    follow-ups rank the same attached passages again, embedded once. Questions embed in
    worker threads at once, so the memory is read and written under a lock (the
    embedding itself runs outside it)."""

    def __init__(self, embedder: Embedder, size: int = _REMEMBERED_VECTORS) -> None:
        self.name, self.dim = embedder.name, embedder.dim
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self._embedder.embed(missing), strict=True))
        with self._lock:
            for text in texts:
                self._vectors[text] = known[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts]) if texts else np.zeros((0, self.dim))


@cache
def _embedder() -> Embedder:
    from knowledge.embed import default_embedder

    return _Remembering(default_embedder())


def attached_index(passages: Sequence[Passage]) -> MemoryIndex:
    """The conversation's attached passages, searchable as the knowledge base is (with
    the embedder Parley ships, loaded once)."""
    from knowledge.memory_index import MemoryIndex

    return MemoryIndex(passages, _embedder())
