"""Files to sections: one loader per format, each keeping headings and locations.

Every failure becomes a LoadError with a plain reason, so the indexer can report the
file and go on. Each family of formats has its own module; this one picks the loader
by suffix and applies the checks every format shares.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath

from ..errors import LoadError, UnsupportedFile
from ..types import LoadedDocument, Section
from .docx import load_docx
from .html import load_html
from .markup import load_markdown, load_rst, load_text
from .pdf import load_pdf
from .tables import load_csv, load_xlsx

__all__ = ["LOADERS", "SUPPORTED_SUFFIXES", "load_bytes", "load_document"]

Loader = Callable[[bytes], tuple[str, list[Section]]]


def load_document(path: Path) -> LoadedDocument:
    """Read one file into sections; raise LoadError (or UnsupportedFile) saying why not."""
    loader = _loader_for(path.name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read the file: {exc.strerror or exc}") from exc
    return _parsed(loader, data, path.name, path.resolve().as_posix())


def load_bytes(data: bytes, name: str, source: str) -> LoadedDocument:
    """Read a file's contents that arrived without a path (a document attached to a
    question), by the suffix of its ``name``, with the checks a file on disk gets;
    ``source`` is what its passages will name as their source."""
    return _parsed(_loader_for(name), data, name, source)


def _loader_for(name: str) -> Loader:
    suffix = PurePath(name).suffix.lower()
    loader = LOADERS.get(suffix)
    if loader is None:
        raise UnsupportedFile(f"unsupported file type {suffix or '(none)'!r}")
    return loader


def _parsed(loader: Loader, data: bytes, name: str, source: str) -> LoadedDocument:
    """The loader's sections, every failure a LoadError with a reason."""
    if not data.strip():
        raise LoadError("file is empty")
    try:
        title, sections = loader(data)
    except (LoadError, ImportError):  # an ImportError is a broken install, not a bad file
        raise
    except Exception as exc:  # a malformed file can make any parser fail in its own way
        kind = PurePath(name).suffix.lstrip(".").upper()
        raise LoadError(f"could not parse the {kind} file: {type(exc).__name__}: {exc}") from exc
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise LoadError("no text found in the file")
    return LoadedDocument(source=source, title=title or PurePath(name).stem, sections=sections)


LOADERS: dict[str, Loader] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".rst": load_rst,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".csv": load_csv,
    ".xlsx": load_xlsx,
}
SUPPORTED_SUFFIXES = frozenset(LOADERS)
