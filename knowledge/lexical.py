"""The lexical half of hybrid search, and the record store of every passage.

SQLite FTS5 with the Porter stemmer and BM25 ranking, built into Python's sqlite3.
Passages are kept here whole (text, source, headings, location) so a search, dense or
lexical, can turn ids back into Passages without asking Chroma.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import IndexStoreError
from .types import Passage

__all__ = [
    "BM25_WEIGHTS",
    "SCORED_ROWS",
    "STOPWORDS",
    "LexicalIndex",
    "match_expression",
    "query_terms",
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
"""


def query_terms(query: str) -> list[str]:
    """Words of a user query, lowercased, stopwords dropped (all kept if nothing else is)."""
    words = [w.lower() for w in TERM.findall(query)]
    kept = [w for w in words if w not in STOPWORDS]
    return list(dict.fromkeys(kept or words))


def match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query that ORs the terms, each quoted so no word acts as an operator."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class LexicalIndex:
    """BM25 over passages in one SQLite file (or ``":memory:"``)."""

    def __init__(self, path: Path | str) -> None:
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise IndexStoreError(f"cannot open the lexical index at {path}: {exc}") from exc

    @property
    def connection(self) -> sqlite3.Connection:
        """The open database, for callers that keep their own tables beside the index."""
        return self._db

    def upsert(self, passages: Sequence[Passage]) -> None:
        """Add passages, replacing any with the same id, in one transaction."""
        with _failing_as("lexical index write failed"), self._db:
            self._delete([p.id for p in passages])
            for p in passages:
                cursor = self._db.execute(
                    "INSERT INTO passages (id, text, source, title, heading_path, location)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (p.id, p.text, p.source, p.title, json.dumps(p.heading_path), p.location),
                )
                self._db.execute(
                    "INSERT INTO passages_fts (rowid, text, title, headings) VALUES (?, ?, ?, ?)",
                    (cursor.lastrowid, p.text, p.title, " ".join(p.heading_path)),
                )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove passages by id, in one transaction; unknown ids are ignored."""
        with _failing_as("lexical index delete failed"), self._db:
            self._delete(ids)

    def _delete(self, ids: Sequence[str]) -> None:
        for p_id in ids:
            row = self._db.execute(
                "SELECT rowid, text, title, heading_path FROM passages WHERE id = ?", (p_id,)
            ).fetchone()
            if row is None:
                continue
            rowid, text, title, headings = row
            # a contentless FTS5 table forgets a row when given back its indexed values
            self._db.execute(
                "INSERT INTO passages_fts (passages_fts, rowid, text, title, headings)"
                " VALUES ('delete', ?, ?, ?, ?)",
                (rowid, text, title, " ".join(json.loads(headings))),
            )
            self._db.execute("DELETE FROM passages WHERE rowid = ?", (rowid,))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (passage id, BM25 score) pairs, best first; higher is better.

        Any text is a valid query: quotes, operators and punctuation are plain words.
        """
        terms = query_terms(query)
        if not terms or k <= 0:
            return []
        where, params = "passages_fts MATCH ?", [match_expression(terms)]
        with _failing_as("lexical search failed"):
            rare = self._rarest(terms)
            if rare != terms:
                # without the unary + SQLite re-runs the full MATCH per row (100x slower)
                where += " AND +rowid IN (SELECT rowid FROM passages_fts WHERE"
                where += " passages_fts MATCH ?)"
                params.append(match_expression(rare))
            rows = self._db.execute(
                # rank inside FTS5 first and join only the top k (joining every match
                # before the LIMIT cost ~30 ms a query at 40k passages); bm25() is
                # lower-is-better, so it is negated
                f"SELECT p.id, -top.score FROM (SELECT rowid, {_BM25} AS score FROM passages_fts"
                f" WHERE {where} ORDER BY score LIMIT ?) AS top"
                " JOIN passages p ON p.rowid = top.rowid ORDER BY top.score",
                (*params, k),
            ).fetchall()
        return [(p_id, float(score)) for p_id, score in rows]

    def _rarest(self, terms: list[str]) -> list[str]:
        """The query's rarest terms whose matches add up to at most SCORED_ROWS rows
        (always the rarest one); all of them when together they stay under it."""
        matches = {
            term: self._db.execute(
                "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?",
                (match_expression([term]),),
            ).fetchone()[0]
            for term in terms
        }
        kept: list[str] = []
        rows = 0
        for term in sorted(terms, key=matches.__getitem__):
            if kept and rows + matches[term] > SCORED_ROWS:
                break
            kept.append(term)
            rows += matches[term]
        return kept if len(kept) < len(terms) else terms

    def scores(self, query: str, ids: Sequence[str]) -> dict[str, float]:
        """BM25 scores of the given passages that match ``query`` (the others score 0 and
        are left out), so hybrid search can score what only the dense half found."""
        terms = query_terms(query)
        if not terms or not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with _failing_as("lexical search failed"):
            rows = self._db.execute(
                # bm25() is the costly part of a search, so it runs only on these rows;
                # the unary + keeps SQLite from re-running the MATCH once per id
                f"SELECT p.id, -{_BM25} FROM passages_fts JOIN passages p ON p.rowid ="
                f" passages_fts.rowid WHERE passages_fts MATCH ? AND +passages_fts.rowid IN"
                f" (SELECT rowid FROM passages WHERE id IN ({marks}))",
                (match_expression(terms), *ids),
            ).fetchall()
        return {p_id: float(score) for p_id, score in rows}

    def get(self, ids: Sequence[str]) -> dict[str, Passage]:
        """Passages by id; unknown ids are left out."""
        found: dict[str, Passage] = {}
        with _failing_as("lexical index read failed"):
            for start in range(0, len(ids), GET_BATCH):
                chunk = list(ids[start : start + GET_BATCH])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT id, text, source, title, heading_path, location FROM passages"
                    f" WHERE id IN ({marks})",
                    chunk,
                )
                for p_id, text, source, title, headings, location in rows:
                    found[p_id] = Passage(
                        p_id, text, source, title, tuple(json.loads(headings)), location
                    )
        return found

    def ids_for_source(self, source: str) -> list[str]:
        """Ids of one file's passages, so the indexer can replace or remove that file."""
        with _failing_as("lexical index read failed"):
            rows = self._db.execute("SELECT id FROM passages WHERE source = ?", (source,))
            return [r[0] for r in rows]

    def sources(self) -> set[str]:
        """Every file with passages in the index."""
        with _failing_as("lexical index read failed"):
            return {r[0] for r in self._db.execute("SELECT DISTINCT source FROM passages")}

    def titles(self, limit: int) -> list[str]:
        """Document titles, those with the most passages first (what the index is about)."""
        with _failing_as("lexical index read failed"):
            rows = self._db.execute(
                "SELECT title FROM passages WHERE title != '' GROUP BY title"
                " ORDER BY COUNT(*) DESC, title LIMIT ?",
                (limit,),
            )
            return [r[0] for r in rows]

    def count(self) -> int:
        with _failing_as("lexical index read failed"):
            return self._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]

    def close(self) -> None:
        self._db.close()


@contextmanager
def _failing_as(what: str) -> Iterator[None]:
    """Turn SQLite errors into IndexStoreError with a message saying what failed."""
    try:
        yield
    except sqlite3.Error as exc:
        raise IndexStoreError(f"{what}: {exc}") from exc
