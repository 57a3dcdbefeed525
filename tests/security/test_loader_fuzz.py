"""Random, truncated and corrupted files of every supported type: each is loaded or refused
with a LoadError saying why (never another exception), an index run reports every bad
file as skipped and indexes the rest, and a zip bomb is refused before it is unpacked."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.base import KnowledgeBase
from knowledge.errors import LoadError
from knowledge.loaders import SUPPORTED_SUFFIXES, load_document
from knowledge.loaders.common import MAX_UNPACKED_BYTES
from tests.conftest import HANDBOOK

INLINE = {
    ".md": b"# Deploys\n\nRun `shipit rollback`.\n\n## Notes\n\n* one\n* two\n",
    ".markdown": b"# Deploys\n\nRun shipit.\n",
    ".rst": b"Deploys\n=======\n\nRun ``shipit``.\n\nNotes\n-----\n\n- one\n",
    ".txt": b"Guest wifi password is printed at reception.\n",
    ".html": b"<html><head><title>T</title></head><body><h1>A</h1><p>text</p></body></html>",
    ".htm": b"<h1>A</h1><table><tr><th>k</th></tr><tr><td>v</td></tr></table>",
    ".csv": b"name,rota\nana,week 1\nbo,week 2\n",
}
SEEDS = {
    **INLINE,
    **{path.suffix: path.read_bytes() for path in sorted(HANDBOOK.iterdir()) if path.is_file()},
}
SUFFIXES = sorted(SUPPORTED_SUFFIXES)


def test_every_supported_type_has_a_seed() -> None:
    assert set(SEEDS) >= SUPPORTED_SUFFIXES


@st.composite
def hostile_bytes(draw: st.DrawFn, seed: bytes) -> bytes:
    """Random bytes, the seed cut short, or the seed with some bytes overwritten."""
    how = draw(st.sampled_from(["random", "truncated", "corrupted"]))
    if how == "random":
        return draw(st.binary(max_size=2000))
    if how == "truncated":
        return seed[: draw(st.integers(0, len(seed)))]
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 20))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def _loads_or_says_why(path: Path) -> None:
    try:
        document = load_document(path)
    except LoadError as exc:
        assert str(exc).strip()
    else:
        assert document.sections and all(s.text.strip() for s in document.sections)


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_hostile_files_load_or_fail_with_a_reason(tmp_path_factory, data) -> None:
    suffix = data.draw(st.sampled_from(SUFFIXES))
    path = tmp_path_factory.mktemp("fuzz") / f"doc{suffix}"
    path.write_bytes(data.draw(hostile_bytes(SEEDS[suffix])))
    _loads_or_says_why(path)


def _bomb(path: Path, seed: bytes, member: str, megabytes: int) -> None:
    """``seed`` (a DOCX or XLSX) with ``member`` padded by ``megabytes`` of spaces: a file
    of a few hundred kB that unpacks to far more. Written in chunks: the test stays small."""
    chunk = b" " * 2**20
    with (
        zipfile.ZipFile(io.BytesIO(seed)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            with bomb.open(item.filename, "w", force_zip64=True) as out:
                if item.filename == member:
                    out.write(content[:-20])
                    for _ in range(megabytes):
                        out.write(chunk)
                    out.write(content[-20:])
                else:
                    out.write(content)


@pytest.mark.parametrize(
    ("suffix", "member"), [(".docx", "word/document.xml"), (".xlsx", "xl/worksheets/sheet1.xml")]
)
def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, suffix, member) -> None:
    path = tmp_path / f"bomb{suffix}"
    _bomb(path, SEEDS[suffix], member, MAX_UNPACKED_BYTES // 2**20 + 16)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(LoadError, match="unpacks to"):
        load_document(path)


def test_an_index_run_skips_every_bad_file_with_a_reason_and_keeps_the_rest(
    tmp_path: Path, hash_embedder
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for suffix in SUFFIXES:  # every type cut in half, then a bomb and a binary
        (docs / f"half{suffix.replace('.', '_')}{suffix}").write_bytes(SEEDS[suffix][:40])
    _bomb(docs / "bomb.xlsx", SEEDS[".xlsx"], "xl/worksheets/sheet1.xml", 80)
    (docs / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (docs / "good.md").write_bytes(INLINE[".md"])
    with KnowledgeBase.open(tmp_path / "index", embedder=hash_embedder) as kb:
        report = kb.index([docs])
        skipped = {Path(p).name: reason for p, reason in report.skipped}
        indexed = {Path(h.passage.source).name for h in kb.search("shipit rollback deploys", 50)}
    assert "bomb.xlsx" in skipped and "unpacks to" in skipped["bomb.xlsx"]
    assert "binary.txt" in skipped
    assert all(reason.strip() for reason in skipped.values())
    assert "good.md" in indexed
    assert report.added + len(skipped) == len(list(docs.iterdir()))  # none lost, none stopped
