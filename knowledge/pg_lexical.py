"""The lexical half of hybrid search, and the record store, on PostgreSQL.

The same interface and the same ranking as ``LexicalIndex`` (SQLite FTS5), so a
deployment that shares one PostgreSQL finds what a single machine finds. Words are
matched with PostgreSQL's full-text search (a GIN index over ``words``) and ranked with
BM25 as FTS5 computes it (k1 1.2, b 0.75, the same column weights, idf from exact
document frequencies): ``ts_rank`` and ``ts_rank_cd`` on the whole query ignore how
rare a word is, and rank far below BM25 (SciFact lexical nDCG@10 0.58 and 0.43 against
0.69: docs/benchmarks.md). A word's weighted count in a passage comes
from ``ts_rank_cd`` asked about that one word with the column weights, which is
exactly the sum of the weights of its occurrences. As with FTS5, a search scores only
the passages holding the query's rarest words (``SCORED_ROWS``).

Every write takes a transaction-scoped lock, so writers (one re-index at a time anyway)
never interleave their counts; a read of several statements runs in one REPEATABLE READ
snapshot, so a search's counts and passages are of the same commit.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from . import lexical
from .errors import EmbedderMismatch, IndexStoreError
from .lexical import BM25_WEIGHTS, FileRecord, search_terms
from .pg_schema import MIGRATIONS, MIGRATIONS_TABLE, TEXT_SEARCH_CONFIG
from .sql import DatabaseUrl, PgDatabase, PgSession, migrate
from .types import Passage

__all__ = [
    "BM25_B",
    "BM25_K1",
    "RESCORED",
    "RESCORED_PER_HIT",
    "PgLexicalIndex",
]

BM25_K1, BM25_B = 1.2, 0.75  # FTS5's constants
WORD = re.compile(r"[^\W_]+")  # FTS5's unicode61 tokens: letters and digits
WRITE_LOCK = "knowledge:write"
SESSION = {"enable_seqscan": "off", "jit": "off"}  # see PgLexicalIndex.open
# ts_rank_cd costs ~1 us a call and a search makes one per query word for every passage
# it scores, so it scores exactly only the best of a cheaper first pass (see
# ``_Ranking.estimate``): max(RESCORED, RESCORED_PER_HIT * k) passages
RESCORED, RESCORED_PER_HIT = 400, 8
# ts_rank_cd's weights come as {D, C, B, A}: headings are C, the title B, the text A
_WEIGHTS = f"'{{0, {BM25_WEIGHTS[2]}, {BM25_WEIGHTS[1]}, {BM25_WEIGHTS[0]}}}'::float4[]"
_COUNT = f"ts_rank_cd({_WEIGHTS}, words, ?::tsquery)"
# one word's BM25: idf·(k1+1)·f / (f + k1·(1 - b + b·len/avgdl)), written so the count f
# is computed once per row (as c / (1 + k / f)) and a passage without the word adds 0
_TERM = f"coalesce(?::float8 / (1 + (?::float8 + ?::float8 * tokens) / nullif({_COUNT}, 0)), 0)"
_WORDS = (
    f"setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', r.w_text), 'A')"
    f" || setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', r.w_title), 'B')"
    f" || setweight(to_tsvector('{TEXT_SEARCH_CONFIG}', r.w_headings), 'C')"
)
_INSERT = f"""
WITH added AS (
    INSERT INTO kb_passages (id, text, source, title, heading_path, location, tokens, words)
    SELECT r.id, r.text, r.source, r.title, r.heading_path, r.location, r.tokens, {_WORDS}
    FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[],
                ?::text[], ?::text[], ?::text[])
         AS r(id, text, source, title, heading_path, location, tokens,
              w_text, w_title, w_headings)
    RETURNING words, tokens
), counted AS (
    INSERT INTO kb_lexemes (lexeme, passages)
    SELECT lexeme, count(*) FROM added, unnest(tsvector_to_array(added.words)) AS lexeme
    GROUP BY lexeme
    ON CONFLICT (lexeme) DO UPDATE SET passages = kb_lexemes.passages + excluded.passages
)
UPDATE kb_totals SET passages = passages + (SELECT count(*) FROM added),
                     tokens = tokens + (SELECT coalesce(sum(tokens), 0) FROM added)
"""
_DELETE = """
WITH gone AS (
    DELETE FROM kb_passages WHERE {where} RETURNING id, words, tokens
), counted AS (
    UPDATE kb_lexemes SET passages = kb_lexemes.passages - g.n
    FROM (SELECT lexeme, count(*) AS n FROM gone, unnest(tsvector_to_array(gone.words)) AS lexeme
          GROUP BY lexeme) AS g
    WHERE kb_lexemes.lexeme = g.lexeme
), totals AS (
    UPDATE kb_totals SET passages = passages - (SELECT count(*) FROM gone),
                         tokens = tokens - (SELECT coalesce(sum(tokens), 0) FROM gone)
)
SELECT id FROM gone
"""
# each query word's lexeme and the passages holding it, with the corpus totals (and a
# row of those alone when no word yields a lexeme)
_LEXEMES = f"""
SELECT x.lexeme, x.n, coalesce(l.passages, 0), k.passages, k.tokens
FROM kb_totals AS k
LEFT JOIN (
    SELECT t.n, w.lexeme FROM unnest(?::text[]) WITH ORDINALITY AS t(term, n)
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('{TEXT_SEARCH_CONFIG}', t.term)))
         AS w(lexeme)
) AS x ON true
LEFT JOIN kb_lexemes l ON l.lexeme = x.lexeme
"""
# a phrase's tsquery (its words side by side) and the passages holding it
_PHRASE = (
    "SELECT q::text, (SELECT count(*) FROM kb_passages WHERE words @@ q)"
    f" FROM phraseto_tsquery('{TEXT_SEARCH_CONFIG}', ?) AS q"
)


def _lexeme_query(lexeme: str) -> str:
    """A tsquery of one lexeme, quoted so it acts as no operator."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class _Ranking:
    """A query's BM25 as SQL over ``kb_passages``: per word its tsquery and weight
    (idf·(k1+1)·the query words that stem to it), the length terms, and the tsquery of
    the rarest words that picks the passages worth scoring."""

    words: list[tuple[str, float]]
    short: float  # k1·(1-b)
    per_token: float  # k1·b/avgdl
    candidates: str

    def exact(self) -> tuple[str, list[Any]]:
        """The score, and its parameters."""
        params = [x for query, weight in self.words for x in (weight, *self._length, query)]
        return " + ".join([_TERM] * len(self.words)), params

    def estimate(self) -> tuple[str, list[Any]]:
        """The score each passage would have if every word it holds occurred once
        (exact when they do): a cheap first pass to pick the passages worth ``exact``."""
        held = " + ".join(
            ["CASE WHEN words @@ ?::tsquery THEN ?::float8 ELSE 0 END"] * len(self.words)
        )
        params = [x for query, weight in self.words for x in (query, weight)]
        return f"({held}) / (1 + ?::float8 + ?::float8 * tokens)", [*params, *self._length]

    @property
    def _length(self) -> tuple[float, float]:
        return self.short, self.per_token


class PgLexicalIndex:
    """BM25 over passages in PostgreSQL, the manifest of indexed files and the index's
    state; shared by every instance pointed at the same database (and schema)."""

    def __init__(self, database: PgDatabase) -> None:
        self._db = database

    @classmethod
    def open(cls, url: DatabaseUrl | str, *, read_only: bool = False) -> PgLexicalIndex:
        """Connect and bring the tables up to date (DatabaseUnavailable if unreachable).

        ``read_only`` (reports, ``parley doctor``) writes nothing: every transaction is
        read-only, the tables are not created or migrated, and tables that are missing
        or older than this Parley are an IndexStoreError saying to run ``parley index``.
        """
        # the planner prices a tsvector match like an addition, and for a search whose
        # words hold a third of the passages would read them all rather than the GIN
        # index: 10x slower at 10k passages; no other query of this pool wants a scan.
        # The scan's penalty makes plans look costly enough to compile (JIT): 200 ms
        # spent to save none on queries of a few milliseconds
        settings = {**SESSION, "default_transaction_read_only": "on"} if read_only else SESSION
        database = PgDatabase.open(url, name="parley-knowledge", settings=settings)
        try:
            with _failing_as(f"cannot prepare the knowledge tables in {database.url}"):
                if read_only:
                    _check_current(database)
                else:
                    migrate(database, MIGRATIONS, table=MIGRATIONS_TABLE)
        except BaseException:
            database.close()
            raise
        return cls(database)

    @property
    def database(self) -> PgDatabase:
        return self._db

    @contextmanager
    def _writing(self, what: str) -> Iterator[PgSession]:
        with _failing_as(what), self._db.transaction() as s:
            s.lock(WRITE_LOCK)
            yield s

    @contextmanager
    def _reading(self, what: str) -> Iterator[PgSession]:
        """A read of several statements, all seeing one commit."""
        with _failing_as(what), self._db.snapshot() as s:
            yield s

    @contextmanager
    def _reading_one(self, what: str) -> Iterator[PgSession]:
        """A read of one statement (no transaction to begin and end)."""
        with _failing_as(what), self._db.read() as s:
            yield s

    def upsert(self, passages: Sequence[Passage]) -> None:
        """Add passages, replacing any with the same id, in one transaction."""
        with self._writing("lexical index write failed") as s:
            _delete(s, "id = ANY(?)", [p.id for p in passages])
            _insert(s, passages)

    def delete(self, ids: Sequence[str]) -> None:
        """Remove passages by id, in one transaction; unknown ids are ignored."""
        with self._writing("lexical index delete failed") as s:
            _delete(s, "id = ANY(?)", list(ids))

    def replace_file(self, record: FileRecord, passages: Sequence[Passage]) -> list[str]:
        """Make ``passages`` the file's passages and remember the file, in one
        transaction; returns the ids that are gone (see ``LexicalIndex.replace_file``)."""
        with self._writing("lexical index write failed") as s:
            old = _delete(s, "source = ?", record.path)
            _insert(s, passages)
            s.execute(
                "INSERT INTO kb_files (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (path) DO UPDATE SET size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256",
                (record.path, record.size, record.mtime_ns, record.sha256),
            )
            s.execute("DELETE FROM kb_pending_vectors WHERE source = ?", (record.path,))
        fresh = {p.id for p in passages}
        return [i for i in old if i not in fresh]

    def forget_file(self, path: str) -> list[str]:
        """Drop a file's passages and its record in one transaction; returns their ids."""
        with self._writing("lexical index delete failed") as s:
            gone = _delete(s, "source = ?", path)
            s.execute("DELETE FROM kb_files WHERE path = ?", (path,))
            s.execute("DELETE FROM kb_pending_vectors WHERE source = ?", (path,))
        return gone

    def touch_file(self, record: FileRecord) -> None:
        """Note a new size and mtime for a file whose content did not change."""
        with self._writing("lexical index write failed") as s:
            s.execute(
                "UPDATE kb_files SET size = ?, mtime_ns = ? WHERE path = ?",
                (record.size, record.mtime_ns, record.path),
            )

    def passage_titles(self, path: str) -> dict[str, str]:
        """Title by passage id of one file's passages."""
        with self._reading_one("lexical index read failed") as s:
            return dict(s.fetchall("SELECT id, title FROM kb_passages WHERE source = ?", (path,)))

    def add_pending(self, source: str, passages: Sequence[Passage]) -> None:
        """Note that ``passages`` of a file not written yet have their vectors stored."""
        with self._writing("lexical index write failed") as s:
            s.executemany(
                "INSERT INTO kb_pending_vectors (id, title, source) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET title = excluded.title, source = excluded.source",
                [(p.id, p.title, source) for p in passages],
            )

    def pending_titles(self, source: str) -> dict[str, str]:
        """Title by passage id of the file's passages embedded but not written yet."""
        with self._reading_one("lexical index read failed") as s:
            return dict(
                s.fetchall("SELECT id, title FROM kb_pending_vectors WHERE source = ?", (source,))
            )

    def pending(self) -> dict[str, str]:
        """Source by passage id of every passage embedded but not written yet."""
        with self._reading_one("lexical index read failed") as s:
            return dict(s.fetchall("SELECT id, source FROM kb_pending_vectors"))

    def drop_pending(self, sources: Sequence[str]) -> list[str]:
        """Forget the pending vectors of these files; returns their ids."""
        with self._writing("lexical index write failed") as s:
            rows = s.fetchall(
                "DELETE FROM kb_pending_vectors WHERE source = ANY(?) RETURNING id",
                (list(sources),),
            )
        return [row[0] for row in rows]

    def files(self) -> dict[str, FileRecord]:
        """Every indexed file's record, by path."""
        with self._reading_one("lexical index read failed") as s:
            rows = s.fetchall("SELECT path, size, mtime_ns, sha256 FROM kb_files")
        return {row[0]: FileRecord(*row) for row in rows}

    def check_embedder(self, name: str, dim: int, *, record: bool = False) -> None:
        """Raise EmbedderMismatch when the index was built by another embedder; with
        ``record``, an index that names none is marked as built by this one."""
        with self._reading_one("lexical index read failed") as s:
            rows = dict(s.fetchall("SELECT name, value FROM kb_state WHERE name LIKE 'emb%'"))
        if "embedder" in rows:
            built = (rows["embedder"], int(rows["embedder_dim"]))
            if built != (name, dim):
                raise EmbedderMismatch(
                    built,
                    (name, dim),
                    f"PostgreSQL ({self._db.url})",
                    rebuild="drop the kb_ tables in that database (and the Chroma collection"
                    " parley_passages) and index your files again",
                )
        elif record:
            with self._writing("lexical index write failed") as s:
                for key, value in (("embedder", name), ("embedder_dim", str(dim))):
                    _set_state(s, key, value)

    def sources(self) -> list[tuple[str, str, int, int, int]]:
        """(path, title, passages, size, mtime_ns) of every indexed file, by path."""
        with self._reading_one("lexical index read failed") as s:
            rows = s.fetchall(
                "SELECT f.path, coalesce(max(p.title), ''), count(p.rowid), f.size, f.mtime_ns"
                " FROM kb_files f LEFT JOIN kb_passages p ON p.source = f.path"
                ' GROUP BY f.path, f.size, f.mtime_ns ORDER BY f.path COLLATE "C"'
            )
        return [(p, title, int(n), int(size), int(mtime)) for p, title, n, size, mtime in rows]

    def read_state(self, name: str) -> object:
        """A value stored with ``write_state`` (None when there is none)."""
        with self._reading_one("lexical index read failed") as s:
            value = s.scalar("SELECT value FROM kb_state WHERE name = ?", (name,))
        return None if value is None else json.loads(value)

    def write_state(self, name: str, value: object) -> None:
        """Store a JSON value under ``name`` beside the index (None removes it); every
        instance sharing the database reads it (see ``LexicalIndex.write_state``)."""
        with self._writing("lexical index write failed") as s:
            if value is None:
                s.execute("DELETE FROM kb_state WHERE name = ?", (name,))
            else:
                _set_state(s, name, json.dumps(value))

    def was_writing(self) -> bool:
        """Whether a run began writing and did not finish (see ``set_writing``)."""
        with self._reading_one("lexical index read failed") as s:
            value = s.scalar("SELECT value FROM kb_state WHERE name = 'writing'")
        return value == "1"

    def set_writing(self, writing: bool) -> None:
        """Set before a run's first write and cleared at its end."""
        with self._writing("lexical index write failed") as s:
            _set_state(s, "writing", "1" if writing else "0")

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (passage id, BM25 score) pairs, best first; higher is better."""
        terms = search_terms(query)
        if not terms or k <= 0:
            return []
        with self._reading("lexical search failed") as s:
            ranking = _ranking(s, terms)
            if ranking is None:
                return []
            score, params = ranking.exact()
            estimate, first = ranking.estimate()
            rows = s.fetchall(
                f"SELECT id, {score} AS score FROM (SELECT rowid, id, tokens, words"
                f" FROM kb_passages WHERE words @@ ?::tsquery ORDER BY {estimate} DESC"
                " LIMIT ?) AS held ORDER BY score DESC, rowid LIMIT ?",
                (*params, ranking.candidates, *first, max(RESCORED, RESCORED_PER_HIT * k), k),
            )
        return [(p_id, float(score)) for p_id, score in rows]

    def scores(self, query: str, ids: Sequence[str]) -> dict[str, float]:
        """BM25 scores of the given passages; 0 where the query's words do not occur,
        and an id with no passage is left out (see ``LexicalIndex.scores``)."""
        if not ids:
            return {}
        terms = search_terms(query)
        with self._reading("lexical search failed") as s:
            ranking = _ranking(s, terms) if terms else None
            score, params = ranking.exact() if ranking else ("0", [])
            rows = s.fetchall(
                f"SELECT id, {score} FROM kb_passages WHERE id = ANY(?)", (*params, list(ids))
            )
        return {p_id: float(value) for p_id, value in rows}

    def get(self, ids: Sequence[str]) -> dict[str, Passage]:
        """Passages by id, all as of one commit; unknown ids are left out."""
        with self._reading_one("lexical index read failed") as s:
            rows = s.fetchall(
                "SELECT id, text, source, title, heading_path, location FROM kb_passages"
                " WHERE id = ANY(?)",
                (list(ids),),
            )
        return {
            p_id: Passage(p_id, text, source, title, tuple(json.loads(headings)), location)
            for p_id, text, source, title, headings, location in rows
        }

    def titles(self, limit: int) -> list[str]:
        """Document titles, those with the most passages first."""
        with self._reading_one("lexical index read failed") as s:
            rows = s.fetchall(
                "SELECT title FROM kb_passages WHERE title <> '' GROUP BY title"
                ' ORDER BY count(*) DESC, title COLLATE "C" LIMIT ?',
                (limit,),
            )
        return [r[0] for r in rows]

    def count(self) -> int:
        with self._reading_one("lexical index read failed") as s:
            return int(s.scalar("SELECT passages FROM kb_totals"))

    def close(self) -> None:
        self._db.close()


def _words(text: str) -> str:
    return " ".join(WORD.findall(text))


def _insert(s: PgSession, passages: Sequence[Passage]) -> None:
    if not passages:
        return
    columns: list[list[Any]] = [[] for _ in range(10)]
    for p in passages:
        headings = " ".join(p.heading_path)
        tokens = sum(len(WORD.findall(t)) for t in (p.text, p.title, headings))
        row = (
            p.id, p.text, p.source, p.title, json.dumps(p.heading_path), p.location, tokens,
            _words(p.text), _words(p.title), _words(headings),
        )  # fmt: skip
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    s.execute(_INSERT, columns)


def _delete(s: PgSession, where: str, value: Any) -> list[str]:
    """Delete the passages matching ``where`` and their counts; returns their ids."""
    return [row[0] for row in s.fetchall(_DELETE.format(where=where), (value,))]


def _check_current(database: PgDatabase) -> None:
    """A read-only open cannot create or migrate: missing or older tables are named."""
    with database.snapshot() as s:
        listed = s.scalar(
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?",
            (MIGRATIONS_TABLE,),
        )
        done = (
            {row[0] for row in s.fetchall(f"SELECT name FROM {MIGRATIONS_TABLE}")}
            if listed
            else set()
        )
    if any(m.name not in done for m in MIGRATIONS):
        raise IndexStoreError(
            f"the knowledge tables in {database.url} are "
            + ("older than this Parley" if done else "not there")
            + ": run parley index once (it creates and upgrades them)"
        )


def _set_state(s: PgSession, name: str, value: str) -> None:
    s.execute(
        "INSERT INTO kb_state (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def _ranking(s: PgSession, terms: list[str]) -> _Ranking | None:
    """BM25 for ``terms`` as FTS5 ranks an OR of them, or None when no passage holds any.
    A term of two words is a phrase (``lexical.compounds``), scored as one word is."""
    single = [t for t in terms if " " not in t]
    rows = s.fetchall(_LEXEMES, (single,))
    total, tokens = rows[0][3:]
    matches = {lexeme: int(df) for lexeme, _, df, _, _ in rows if lexeme is not None}
    queries = {lexeme: _lexeme_query(lexeme) for lexeme in matches}
    for phrase in (t for t in terms if " " in t):
        query, df = s.fetchone(_PHRASE, (phrase,))
        matches[phrase], queries[phrase] = int(df), query
    if not any(matches.values()):
        return None
    repeats = Counter(lexeme for lexeme, n, _, _, _ in rows if n is not None)
    words = []
    for term, df in matches.items():
        if df:
            idf = math.log((total - df + 0.5) / (df + 0.5))
            idf = idf if idf > 0 else 1e-6  # as FTS5: a word in most passages still counts
            words.append((queries[term], repeats.get(term, 1) * idf * (BM25_K1 + 1)))
    return _Ranking(
        words,
        short=BM25_K1 * (1 - BM25_B),
        per_token=BM25_K1 * BM25_B * total / tokens,
        candidates=" | ".join(f"({queries[t]})" for t in lexical.rarest_terms(matches)),
    )


@contextmanager
def _failing_as(what: str) -> Iterator[None]:
    """Turn PostgreSQL errors into IndexStoreError with a message saying what failed."""
    try:
        yield
    except psycopg.Error as exc:
        raise IndexStoreError(f"{what}: {' '.join(str(exc).split())}") from exc
