"""The knowledge base's tables on PostgreSQL, as named migrations (``kb_migrations``).

Every name starts with ``kb_`` so the knowledge base can share a database (and schema)
with the arena. Passages are kept whole, as in SQLite, with ``words``: a tsvector of
the text (weight A), title (B) and headings (C), through ``kb_words``, a copy of
PostgreSQL's English configuration that stems with Snowball but keeps stopwords (a
query of stopwords alone still finds something, as with FTS5). ``words`` is stored
uncompressed where it fits (STORAGE MAIN): ranking reads it for thousands of rows a
query, and decompressing each cost more than the ranking itself; its GIN index takes
new entries at once (no pending list that every search would scan). BM25 needs each
word's document frequency and the corpus size: ``kb_lexemes`` and ``kb_totals`` keep
them exact, changed in the same transaction as the passages. ``kb_state`` holds the
index's state and its runs' records as text (JSON for ``write_state``), and
``kb_pending_vectors`` the vectors a stopped run kept, as in SQLite.
"""

from __future__ import annotations

from .sql import Migration

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "TEXT_SEARCH_CONFIG"]

MIGRATIONS_TABLE = "kb_migrations"
TEXT_SEARCH_CONFIG = "kb_words"

_PASSAGES = f"""
CREATE TEXT SEARCH DICTIONARY kb_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION {TEXT_SEARCH_CONFIG} (COPY = english);
ALTER TEXT SEARCH CONFIGURATION {TEXT_SEARCH_CONFIG}
    ALTER MAPPING FOR asciiword, word, asciihword, hword, hword_asciipart, hword_part
    WITH kb_stem;
CREATE TABLE kb_passages (
    rowid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    heading_path TEXT NOT NULL,
    location TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    words TSVECTOR NOT NULL
);
ALTER TABLE kb_passages ALTER COLUMN words SET STORAGE MAIN;
CREATE INDEX kb_passages_source ON kb_passages (source);
CREATE INDEX kb_passages_words ON kb_passages USING gin (words) WITH (fastupdate = off);
CREATE TABLE kb_lexemes (lexeme TEXT PRIMARY KEY, passages INTEGER NOT NULL);
CREATE TABLE kb_totals (
    only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    passages BIGINT NOT NULL,
    tokens BIGINT NOT NULL
);
INSERT INTO kb_totals (passages, tokens) VALUES (0, 0);
CREATE TABLE kb_files (
    path TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    mtime_ns BIGINT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE kb_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE kb_runs (
    lock TEXT PRIMARY KEY,
    backend_pid INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    current TEXT NOT NULL DEFAULT '',
    passages_done INTEGER NOT NULL DEFAULT 0,
    passages_total INTEGER NOT NULL DEFAULT 0
)
"""

# vectors stored for passages of files not written yet (``LexicalIndex.add_pending``)
_PENDING_VECTORS = """
CREATE TABLE kb_pending_vectors (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX kb_pending_vectors_source ON kb_pending_vectors (source)
"""

MIGRATIONS = [
    Migration("001_passages", postgresql=_PASSAGES),
    Migration("002_pending_vectors", postgresql=_PENDING_VECTORS),
]
