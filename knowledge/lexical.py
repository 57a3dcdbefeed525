"""The lexical half of hybrid search, and the record store of every passage and file.

SQLite FTS5 with the Porter stemmer and BM25 ranking, built into Python's sqlite3.
Passages are kept here whole (text, source, headings, location) so a search, dense or
lexical, can turn ids back into Passages without asking Chroma. The same file holds the
manifest of indexed files (size, mtime, sha256) and the index's state (which embedder
built it, whether a run was interrupted), so a file's passages and its manifest row
change in one transaction. It also names the vectors already in the vector store for
passages of files not written yet (``pending_vectors``), so a run that was stopped or
killed inside a long file does not embed them again.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from .database import Database
from .errors import EmbedderMismatch, IndexStoreError
from .types import Passage

__all__ = [
    "BM25_WEIGHTS",
    "SCORED_ROWS",
    "STOPWORDS",
    "FileRecord",
    "LexicalIndex",
    "compounds",
    "match_expression",
    "query_terms",
    "rarest_terms",
    "search_terms",
]

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me more most my myself no nor not now of off on once
    only or other our ours ourselves out over own same she should so some such than that
    the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves s t also
    """.split()  # noqa: SIM905
)
TERM = re.compile(r"\w+", re.UNICODE)
# The particles that end compounds written as one word or two: "hand over" and
# "handover", "roll back" and "rollback", "set up", "check out", "shut down". Not "in" or
# "on": joined to the word before, they mostly make stems of other words ("rank in" is
# "Rankin"), and few words ending in them are compounds ("protein", "season").
PARTICLES = ("back", "down", "over", "off", "out", "up")
MIN_STEM = 3  # letters before a particle for a word to be read as a compound ("setup")
HYPHENATED = re.compile(r"\b([^\W\d_]+)-([^\W\d_]+)\b")  # letters only: not "15-1"
# BM25 column weights for (text, title, headings). The text carries the answer; a match
# in the title or headings counts half (a title repeats in every passage of a file).
BM25_WEIGHTS = (1.0, 0.5, 0.5)
_BM25 = f"bm25(passages_fts, {', '.join(str(w) for w in BM25_WEIGHTS)})"
# bm25() costs ~1 us a row and a query's common words match most of a large index, so
# a search scores only the passages that hold its rarest words, as many of them as keep
# this many rows (at least the rarest one). A passage with none of them would need many
# common words to reach the top: at 43,314 passages the BM25 top 10 of 298 of 300
# queries came out the same, in 19 ms instead of 41 (p99 37 instead of 116).
SCORED_ROWS = 5000
GET_BATCH = 500  # ids per SELECT, well under SQLite's bound-parameter limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    heading_path TEXT NOT NULL,
    location TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_source ON passages(source);
CREATE VIRTUAL TABLE IF NOT EXISTS passages_fts USING fts5(
    text, title, headings, content='', tokenize='porter unicode61'
);
CREATE TABLE IF NOT EXISTS manifest (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS index_state (name TEXT PRIMARY KEY, value NOT NULL);
CREATE TABLE IF NOT EXISTS pending_vectors (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_vectors_source ON pending_vectors(source);
"""


def query_terms(query: str) -> list[str]:
    """Words of a user query, lowercased, stopwords dropped (all kept if nothing else is)."""
    words = [w.lower() for w in TERM.findall(query)]
    kept = [w for w in words if w not in STOPWORDS]
    return list(dict.fromkeys(kept or words))


def compounds(query: str) -> list[str]:
    """The query's compounds spelled the other way, so a question finds a passage that
    writes them as the document's author did: a word and its particle joined ("hand over"
    -> "handover"), a hyphenated word closed up ("on-call" -> "oncall") and a word ending
    in a particle split into the phrase of its two ("handover" -> "hand over": both
    indexes keep the particles, and match it as a phrase)."""
    words = [w.lower() for w in TERM.findall(query)]
    found = [a + b for a, b in pairwise(words) if b in PARTICLES and a not in STOPWORDS]
    found += [(a + b).lower() for a, b in HYPHENATED.findall(query)]
    for word in words:
        particle = next((p for p in PARTICLES if word.endswith(p)), "")
        stem = word[: -len(particle)] if particle else ""
        if len(stem) >= MIN_STEM and stem not in STOPWORDS:
            found.append(f"{stem} {particle}")
    return list(dict.fromkeys(found))


def search_terms(query: str) -> list[str]:
    """What a lexical search matches: the query's terms, then its compounds spelled the
    other way (see ``compounds``)."""
    terms = query_terms(query)
    return list(dict.fromkeys(terms + compounds(query))) if terms else []


def match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query that ORs the terms, each quoted so no word acts as an operator."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


@dataclass(frozen=True)
class FileRecord:
    """What the index remembers of an indexed file, to tell next time whether it changed."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


class LexicalIndex:
    """BM25 over passages in one SQLite file (or ``":memory:"``), and the record of
    which files they came from and which embedder built the index.

    The passage rows decide what a search can see: a dense hit whose id has no row here
    is not shown. Safe to use from several threads at once (see ``Database``).
    """

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        """Open (creating) the index; ``read_only`` creates and writes nothing, and
        fails on a missing file."""
        self._path = path
        with _failing_as(f"cannot open the lexical index at {path}"):
            self._db = Database(path, SCHEMA, read_only=read_only)

    def upsert(self, passages: Sequence[Passage]) -> None:
        """Add passages, replacing any with the same id, in one transaction."""
        with _failing_as("lexical index write failed"), self._db.writing() as db:
            _delete_ids(db, [p.id for p in passages])
            _insert(db, passages)

    def delete(self, ids: Sequence[str]) -> None:
        """Remove passages by id, in one transaction; unknown ids are ignored."""
        with _failing_as("lexical index delete failed"), self._db.writing() as db:
            _delete_ids(db, ids)

    def replace_file(self, record: FileRecord, passages: Sequence[Passage]) -> list[str]:
        """Make ``passages`` the file's passages and remember the file, in one
        transaction: a search sees its old passages or its new ones, never a mix and
        never none. Returns the ids that are gone, whose vectors the caller removes."""
        with _failing_as("lexical index write failed"), self._db.writing() as db:
            old = _delete_source(db, record.path)
            _insert(db, passages)
            db.execute(
                "INSERT OR REPLACE INTO manifest (path, size, mtime_ns, sha256)"
                " VALUES (?, ?, ?, ?)",
                (record.path, record.size, record.mtime_ns, record.sha256),
            )
            db.execute("DELETE FROM pending_vectors WHERE source = ?", (record.path,))
        fresh = {p.id for p in passages}
        return [i for i in old if i not in fresh]

    def forget_file(self, path: str) -> list[str]:
        """Drop a file's passages and its record in one transaction; returns their ids."""
        with _failing_as("lexical index delete failed"), self._db.writing() as db:
            gone = _delete_source(db, path)
            db.execute("DELETE FROM manifest WHERE path = ?", (path,))
            db.execute("DELETE FROM pending_vectors WHERE source = ?", (path,))
        return gone

    def touch_file(self, record: FileRecord) -> None:
        """Note a new size and mtime for a file whose content did not change."""
        with _failing_as("lexical index write failed"), self._db.writing() as db:
            db.execute(
                "UPDATE manifest SET size = ?, mtime_ns = ? WHERE path = ?",
                (record.size, record.mtime_ns, record.path),
            )

    def passage_titles(self, path: str) -> dict[str, str]:
        """Title by passage id of one file's passages, so a re-index can keep the vectors
        of passages that did not change."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            return dict(db.execute("SELECT id, title FROM passages WHERE source = ?", (path,)))

    def add_pending(self, source: str, passages: Sequence[Passage]) -> None:
        """Note that ``passages`` of a file not written yet have their vectors stored."""
        with _failing_as("lexical index write failed"), self._db.writing() as db:
            db.executemany(
                "INSERT OR REPLACE INTO pending_vectors (id, title, source) VALUES (?, ?, ?)",
                [(p.id, p.title, source) for p in passages],
            )

    def pending_titles(self, source: str) -> dict[str, str]:
        """Title by passage id of the file's passages embedded but not written yet."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            rows = db.execute("SELECT id, title FROM pending_vectors WHERE source = ?", (source,))
            return dict(rows.fetchall())

    def pending(self) -> dict[str, str]:
        """Source by passage id of every passage embedded but not written yet."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            return dict(db.execute("SELECT id, source FROM pending_vectors").fetchall())

    def drop_pending(self, sources: Sequence[str]) -> list[str]:
        """Forget the pending vectors of these files; returns their ids, whose vectors
        the caller removes."""
        ids: list[str] = []
        with _failing_as("lexical index write failed"), self._db.writing() as db:
            for source in sources:
                rows = db.execute("SELECT id FROM pending_vectors WHERE source = ?", (source,))
                ids += [i for (i,) in rows]
                db.execute("DELETE FROM pending_vectors WHERE source = ?", (source,))
        return ids

    def files(self) -> dict[str, FileRecord]:
        """Every indexed file's record, by path."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            rows = db.execute("SELECT path, size, mtime_ns, sha256 FROM manifest").fetchall()
        return {row[0]: FileRecord(*row) for row in rows}

    def check_embedder(self, name: str, dim: int, *, record: bool = False) -> None:
        """Raise EmbedderMismatch when the index was built by another embedder; with
        ``record``, an index that names none is marked as built by this one."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            rows = dict(db.execute("SELECT name, value FROM index_state WHERE name LIKE 'emb%'"))
        if "embedder" in rows:
            built = (str(rows["embedder"]), int(rows["embedder_dim"]))
            if built != (name, dim):
                raise EmbedderMismatch(built, (name, dim), self._path)
        elif record:
            with _failing_as("lexical index write failed"), self._db.writing() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO index_state (name, value) VALUES (?, ?)",
                    [("embedder", name), ("embedder_dim", dim)],
                )

    def sources(self) -> list[tuple[str, str, int, int, int]]:
        """(path, title, passages, size, mtime_ns) of every indexed file, by path."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            rows = db.execute(
                "SELECT m.path, COALESCE(MAX(p.title), ''), COUNT(p.rowid), m.size, m.mtime_ns"
                " FROM manifest m LEFT JOIN passages p ON p.source = m.path"
                " GROUP BY m.path, m.size, m.mtime_ns ORDER BY m.path"
            ).fetchall()
        return [(p, title, int(n), int(size), int(mtime)) for p, title, n, size, mtime in rows]

    def read_state(self, name: str) -> object:
        """A value stored with ``write_state`` (None when there is none)."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            row = db.execute("SELECT value FROM index_state WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def write_state(self, name: str, value: object) -> None:
        """Store a JSON value under ``name`` beside the index (None removes it), such as
        the last run's report, so any process reading the index can show it."""
        with _failing_as("lexical index write failed"), self._db.writing() as db:
            if value is None:
                db.execute("DELETE FROM index_state WHERE name = ?", (name,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO index_state (name, value) VALUES (?, ?)",
                    (name, json.dumps(value)),
                )

    def was_writing(self) -> bool:
        """Whether a run began writing and did not finish (see ``set_writing``)."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            row = db.execute("SELECT value FROM index_state WHERE name = 'writing'").fetchone()
        return bool(row and row[0])

    def set_writing(self, writing: bool) -> None:
        """Set before a run's first write and cleared at its end, so the next run knows
        whether to look for vectors a killed run left without passages."""
        with _failing_as("lexical index write failed"), self._db.writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO index_state (name, value) VALUES ('writing', ?)",
                (int(writing),),
            )

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (passage id, BM25 score) pairs, best first; higher is better.

        Any text is a valid query: quotes, operators and punctuation are plain words.
        """
        terms = search_terms(query)
        if not terms or k <= 0:
            return []
        where, params = "passages_fts MATCH ?", [match_expression(terms)]
        with _failing_as("lexical search failed"), self._db.reading() as db:
            rare = _rarest(db, terms)
            if rare != terms:
                # without the unary + SQLite re-runs the full MATCH per row (100x slower)
                where += " AND +rowid IN (SELECT rowid FROM passages_fts WHERE"
                where += " passages_fts MATCH ?)"
                params.append(match_expression(rare))
            rows = db.execute(
                # rank inside FTS5 first and join only the top k (joining every match
                # before the LIMIT cost ~30 ms a query at 40k passages); bm25() is
                # lower-is-better, so it is negated
                f"SELECT p.id, -top.score FROM (SELECT rowid, {_BM25} AS score FROM passages_fts"
                f" WHERE {where} ORDER BY score LIMIT ?) AS top"
                " JOIN passages p ON p.rowid = top.rowid ORDER BY top.score",
                (*params, k),
            ).fetchall()
        return [(p_id, float(score)) for p_id, score in rows]

    def scores(self, query: str, ids: Sequence[str]) -> dict[str, float]:
        """BM25 scores of the given passages, so hybrid search can score what only the
        dense half found. A passage the query's words do not match scores 0; an id with
        no passage (a vector written ahead of its file's commit, or left behind) is left
        out, which is how hybrid search drops it."""
        if not ids:
            return {}
        terms = search_terms(query)
        marks = ",".join("?" * len(ids))
        with _failing_as("lexical search failed"), self._db.reading() as db:
            known = db.execute(f"SELECT id FROM passages WHERE id IN ({marks})", ids).fetchall()
            rows = []
            if terms:
                rows = db.execute(
                    # bm25() is the costly part of a search, so it runs only on these rows;
                    # the unary + keeps SQLite from re-running the MATCH once per id
                    f"SELECT p.id, -{_BM25} FROM passages_fts JOIN passages p ON p.rowid ="
                    f" passages_fts.rowid WHERE passages_fts MATCH ? AND +passages_fts.rowid IN"
                    f" (SELECT rowid FROM passages WHERE id IN ({marks}))",
                    (match_expression(terms), *ids),
                ).fetchall()
        matched = {p_id: float(score) for p_id, score in rows}
        return {p_id: matched.get(p_id, 0.0) for (p_id,) in known}

    def get(self, ids: Sequence[str]) -> dict[str, Passage]:
        """Passages by id, all as of one commit; unknown ids are left out."""
        found: dict[str, Passage] = {}
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            for start in range(0, len(ids), GET_BATCH):
                chunk = list(ids[start : start + GET_BATCH])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    "SELECT id, text, source, title, heading_path, location FROM passages"
                    f" WHERE id IN ({marks})",
                    chunk,
                )
                for p_id, text, source, title, headings, location in rows:
                    found[p_id] = Passage(
                        p_id, text, source, title, tuple(json.loads(headings)), location
                    )
        return found

    def titles(self, limit: int) -> list[str]:
        """Document titles, those with the most passages first (what the index is about)."""
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            rows = db.execute(
                "SELECT title FROM passages WHERE title != '' GROUP BY title"
                " ORDER BY COUNT(*) DESC, title LIMIT ?",
                (limit,),
            )
            return [r[0] for r in rows]

    def count(self) -> int:
        with _failing_as("lexical index read failed"), self._db.reading() as db:
            return db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]

    def close(self) -> None:
        self._db.close()


def _insert(db: sqlite3.Connection, passages: Sequence[Passage]) -> None:
    for p in passages:
        cursor = db.execute(
            "INSERT INTO passages (id, text, source, title, heading_path, location)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (p.id, p.text, p.source, p.title, json.dumps(p.heading_path), p.location),
        )
        db.execute(
            "INSERT INTO passages_fts (rowid, text, title, headings) VALUES (?, ?, ?, ?)",
            (cursor.lastrowid, p.text, p.title, " ".join(p.heading_path)),
        )


def _delete_ids(db: sqlite3.Connection, ids: Sequence[str]) -> None:
    for p_id in ids:
        _delete_rows(db, "id = ?", p_id)


def _delete_source(db: sqlite3.Connection, source: str) -> list[str]:
    return _delete_rows(db, "source = ?", source)


def _delete_rows(db: sqlite3.Connection, where: str, value: str) -> list[str]:
    """Delete the passages matching ``where``, from both tables; returns their ids."""
    rows = db.execute(
        f"SELECT rowid, id, text, title, heading_path FROM passages WHERE {where}", (value,)
    ).fetchall()
    for rowid, _, text, title, headings in rows:
        # a contentless FTS5 table forgets a row when given back its indexed values
        db.execute(
            "INSERT INTO passages_fts (passages_fts, rowid, text, title, headings)"
            " VALUES ('delete', ?, ?, ?, ?)",
            (rowid, text, title, " ".join(json.loads(headings))),
        )
    db.execute(f"DELETE FROM passages WHERE {where}", (value,))
    return [row[1] for row in rows]


def _rarest(db: sqlite3.Connection, terms: list[str]) -> list[str]:
    """The query's rarest terms (see ``rarest_terms``), counted in FTS5."""
    matches = {
        term: db.execute(
            "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?",
            (match_expression([term]),),
        ).fetchone()[0]
        for term in terms
    }
    return rarest_terms(matches)


def rarest_terms(matches: dict[str, int]) -> list[str]:
    """Of terms and the rows each matches, the rarest whose matches add up to at most
    SCORED_ROWS rows (always the rarest one); all of them when together they stay under
    it. In the given order then, else rarest first."""
    terms = list(matches)
    kept: list[str] = []
    rows = 0
    for term in sorted(terms, key=matches.__getitem__):
        if kept and rows + matches[term] > SCORED_ROWS:
            break
        kept.append(term)
        rows += matches[term]
    return kept if len(kept) < len(terms) else terms


@contextmanager
def _failing_as(what: str) -> Iterator[None]:
    """Turn SQLite errors into IndexStoreError with a message saying what failed."""
    try:
        yield
    except sqlite3.Error as exc:
        raise IndexStoreError(f"{what}: {exc}") from exc
