"""The values that travel from documents to answers: sections, passages and hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "ATTACHED",
    "MODES",
    "Hit",
    "IndexProgress",
    "LoadedDocument",
    "Mode",
    "Passage",
    "Section",
    "context_line",
    "display_path",
    "under_context",
]

# how a search ranks: both halves fused, by meaning alone, or by words alone
Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")
# how the source of a passage from a file attached to a question begins: "attached:a.pdf"
ATTACHED = "attached:"


@dataclass(frozen=True)
class Section:
    """A run of text from one place in a document, before chunking.

    ``heading_path`` is the chain of headings above the text (outermost first);
    ``location`` says where in the file it sits, for citations: ``"page 3"``,
    ``"sheet On-call, row 4"``, or ``""`` when the file has no finer location.
    """

    text: str
    heading_path: tuple[str, ...] = ()
    location: str = ""


@dataclass(frozen=True)
class LoadedDocument:
    """A whole file read into sections; ``source`` is its absolute POSIX path."""

    source: str
    title: str
    sections: list[Section] = field(default_factory=list)


@dataclass(frozen=True)
class Passage:
    """A chunk small enough for the embedding model's window, with its provenance.

    ``id`` is stable: the same text at the same place in the same file gets the
    same id on every run, so re-indexing replaces rather than duplicates.
    """

    id: str
    text: str
    source: str
    title: str
    heading_path: tuple[str, ...] = ()
    location: str = ""

    @property
    def display_source(self) -> str:
        return display_path(self.source)

    @property
    def is_attached(self) -> bool:
        """From a file a person attached to their question (``bot.attachments``), which
        the knowledge base does not hold."""
        return self.source.startswith(ATTACHED)

    @property
    def is_web(self) -> bool:
        """A page found by web search (its source is the page's URL), not a document
        from the knowledge base (whose source is a file's path)."""
        return self.source.startswith(("http://", "https://"))

    @property
    def place(self) -> str:
        """Where in the file the passage sits: heading path and page/row, if any."""
        return ", ".join(p for p in (" › ".join(self.heading_path), self.location) if p)

    def label(self) -> str:
        """``source, heading › subheading, page 3`` as shown beside a citation."""
        return ", ".join(p for p in (self.display_source, self.place) if p)

    def as_shown(self) -> str:
        """The text under its title and place: what an answer was shown of the passage
        (the prompt heads it with its headings and page), so what a check of the answer
        holds it against. A passage read back from the arena, whose place is stored whole,
        reads the same. A blank line sets the title line apart: a check splits paragraphs
        there, so the line never reads as the start of the text's first sentence."""
        line = context_line(self.title, self.place)
        return f"{line}\n\n{self.text}" if line else self.text


@dataclass(frozen=True)
class Hit:
    """A passage returned by a search, with the score that ranked it (higher is better)."""

    passage: Passage
    score: float


def context_line(*context: str) -> str:
    """What a text is about, in one line: a title, headings, a place, joined by " › ",
    each said once (a place whose headings open with the title does not repeat it) and
    the empty left out."""
    parts = (part for item in context for part in item.split(" › "))
    return " › ".join(dict.fromkeys(p for p in parts if p))


def under_context(text: str, *context: str) -> str:
    """``text`` under its ``context_line``; the text alone when nothing is."""
    line = context_line(*context)
    return f"{line}\n{text}" if line else text


def display_path(source: str) -> str:
    """Show a source path relative to the working directory when it lies below it, and a
    file attached to a question by its name, marked so: "contract.pdf (attached)"."""
    if source.startswith(ATTACHED):
        return f"{source.removeprefix(ATTACHED)} (attached)"
    try:
        return Path(source).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return source


@dataclass(frozen=True)
class IndexProgress:
    """A re-index under way: who asked for it, since when (epoch seconds), how far it is
    (files, and the passages of a file too long for one embedding batch) and, for one in
    another process of a deployment sharing PostgreSQL, the host and pid it runs on."""

    requested_by: str
    started_at: float
    done: int = 0
    total: int = 0
    current: str = ""
    passages_done: int = 0
    passages_total: int = 0
    host: str = ""
    pid: int = 0
