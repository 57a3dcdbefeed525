"""The arena database's schema, as named, ordered steps that are never edited once shipped.

Each step runs once, in order, inside a transaction, and is recorded in
``_parley_migrations``; a database made by an older Parley is brought forward on open.
The same steps run on SQLite and on PostgreSQL (``knowledge.sql.Migration``): their SQL
is written once, with the few words the engines spell differently as ``$`` names that
``_engines`` fills in (``$id`` a key that numbers itself, ``$float`` an 8-byte float,
``$binary`` text compared by code point, ``$least``/``$greatest``), and ``"user"``
quoted (a reserved word on PostgreSQL). On SQLite each step does exactly what it did
before PostgreSQL was supported. Data steps are Python (``run``), given a session.

A new step: append ``Migration("NNN_what", **_engines('''...'''), run=...)`` to
``MIGRATIONS`` (and a new table to ``TABLES``); SQL that one engine alone runs goes in
``_engines(..., sqlite=..., postgresql=...)``.
"""

from __future__ import annotations

import secrets
from string import Template
from typing import Any

from knowledge.sql import POSTGRESQL, SQLITE, Dialect, Migration, migrate_async, recorded_async

__all__ = ["MIGRATIONS", "MIGRATIONS_TABLE", "TABLES", "applied", "migrate"]

MIGRATIONS_TABLE = "_parley_migrations"
# every table the steps make, each after those it refers to (how ``arena.transfer``
# copies an arena); a step that adds a table adds it here
TABLES = (
    "meta",
    "questions",
    "pipeline_settings",
    "model_pipelines",
    "answers",
    "battles",
    "votes",
    "thumbs",
    "pair_counts",
    "passage_texts",
    "question_passages",
    "answer_passages",
    "elo_cache",
    "grades",
    "pair_verdicts",
    "audits",
    "claims",
    "thread_attachments",
)


def _spelled(sql: str, dialect: Dialect) -> str:
    return Template(sql).substitute(
        id=dialect.id_column,
        float=dialect.float_type,
        binary=dialect.binary,
        least=dialect.least,
        greatest=dialect.greatest,
    )


def _engines(sql: str, *, sqlite: str = "", postgresql: str = "") -> dict[str, str]:
    """The step's SQL as each engine spells it, then what one engine alone runs, as
    ``Migration(sqlite=..., postgresql=...)`` takes them."""
    return {
        "sqlite": f"{_spelled(sql, SQLITE)};\n{sqlite}",
        "postgresql": f"{_spelled(sql, POSTGRESQL)};\n{postgresql}",
    }


_INITIAL = """
CREATE TABLE questions (
    id $id,
    platform TEXT NOT NULL,
    channel TEXT$binary NOT NULL,
    "user" TEXT NOT NULL,
    thread TEXT,
    text TEXT NOT NULL,
    passages TEXT NOT NULL DEFAULT '[]',
    created_at $float NOT NULL
);
CREATE TABLE answers (
    id $id,
    question_id INTEGER NOT NULL REFERENCES questions(id),
    model TEXT$binary NOT NULL,
    text TEXT NOT NULL,
    citations TEXT NOT NULL DEFAULT '[]',
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    latency_ms $float NOT NULL DEFAULT 0,
    cost_usd $float NOT NULL DEFAULT 0,
    error TEXT,
    created_at $float NOT NULL
);
CREATE TABLE battles (
    id $id,
    question_id INTEGER NOT NULL REFERENCES questions(id),
    answer_a INTEGER NOT NULL REFERENCES answers(id),
    answer_b INTEGER NOT NULL REFERENCES answers(id),
    channel TEXT$binary NOT NULL,
    created_at $float NOT NULL
);
CREATE TABLE votes (
    id $id,
    battle_id INTEGER NOT NULL REFERENCES battles(id),
    "user" TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('a', 'b', 'tie', 'both_bad')),
    created_at $float NOT NULL,
    updated_at $float NOT NULL,
    UNIQUE (battle_id, "user")
);
CREATE TABLE thumbs (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    "user" TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (-1, 1)),
    created_at $float NOT NULL,
    PRIMARY KEY (answer_id, "user")
)
"""

# Running outcome counts per channel and model pair, so ratings cost O(models²); votes
# stored before this step are counted now, so an upgrade loses none.
_PAIR_COUNTS = """
CREATE TABLE pair_counts (
    channel TEXT$binary NOT NULL,
    model_a TEXT$binary NOT NULL,
    model_b TEXT$binary NOT NULL,
    a_wins INTEGER NOT NULL DEFAULT 0,
    b_wins INTEGER NOT NULL DEFAULT 0,
    ties INTEGER NOT NULL DEFAULT 0,
    both_bad INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, model_a, model_b),
    CHECK (model_a < model_b)
);
ALTER TABLE battles ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX battles_source_key ON battles(source_key);
CREATE INDEX questions_thread ON questions(platform, channel, thread);
CREATE INDEX votes_time ON votes(updated_at);
INSERT INTO pair_counts (channel, model_a, model_b, a_wins, b_wins, ties, both_bad)
SELECT b.channel,
       $least(qa.model, qb.model), $greatest(qa.model, qb.model),
       SUM(CASE WHEN (v.choice = 'a') = (qa.model < qb.model) AND v.choice IN ('a', 'b')
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN (v.choice = 'b') = (qa.model < qb.model) AND v.choice IN ('a', 'b')
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN v.choice = 'tie' THEN 1 ELSE 0 END),
       SUM(CASE WHEN v.choice = 'both_bad' THEN 1 ELSE 0 END)
FROM votes v
JOIN battles b ON b.id = v.battle_id
JOIN answers qa ON qa.id = b.answer_a
JOIN answers qb ON qb.id = b.answer_b
GROUP BY b.channel, $least(qa.model, qb.model), $greatest(qa.model, qb.model)
"""

# Thread history looks answers and battles up by question; without these it scans.
_QUESTION_INDEXES = """
CREATE INDEX answers_question ON answers(question_id);
CREATE INDEX battles_question ON battles(question_id)
"""

# What each question retrieved and each answer was shown, text included. Passage ids
# hash the text at index time, so after a re-index an id alone no longer says what an
# old answer saw; the judge audits need exactly that. Texts are stored once, under a
# hash of their content and provenance, however often they are retrieved. Also: a
# reason with each thumb, and an id for this database, so its exported battles carry
# keys that an import into it recognises.
_PASSAGE_TEXTS = """
CREATE TABLE passage_texts (
    hash TEXT PRIMARY KEY,
    passage_id TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    location TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE question_passages (
    question_id INTEGER NOT NULL REFERENCES questions(id),
    rank INTEGER NOT NULL,
    passage_hash TEXT NOT NULL REFERENCES passage_texts(hash),
    score $float NOT NULL,
    PRIMARY KEY (question_id, rank)
);
CREATE TABLE answer_passages (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    rank INTEGER NOT NULL,
    passage_hash TEXT NOT NULL REFERENCES passage_texts(hash),
    PRIMARY KEY (answer_id, rank)
);
ALTER TABLE thumbs ADD COLUMN reason TEXT;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
"""


async def _name_this_database(session: Any) -> None:
    await session.execute(
        "INSERT INTO meta (key, value) VALUES ('instance', ?)", (secrets.token_hex(8),)
    )


# Style features per answer (for style control), a reason on battles left out of the
# ratings (battle hygiene), and a cache of the online Elo so a board does not replay
# every vote. Answers stored before this step get their features now.
_STYLE_AND_HYGIENE = """
ALTER TABLE answers ADD COLUMN style_tokens INTEGER;
ALTER TABLE answers ADD COLUMN style_headers INTEGER;
ALTER TABLE answers ADD COLUMN style_lists INTEGER;
ALTER TABLE answers ADD COLUMN style_bold INTEGER;
ALTER TABLE battles ADD COLUMN excluded TEXT;
CREATE INDEX battles_excluded ON battles(excluded) WHERE excluded IS NOT NULL;
CREATE INDEX answers_styled ON answers(id) WHERE style_tokens IS NOT NULL;
CREATE TABLE elo_cache (scope TEXT PRIMARY KEY, state TEXT NOT NULL)
"""


async def _style_stored_answers(session: Any) -> None:
    from arena.style import style_features  # the tokenizer loads only when this runs

    rows = await session.fetchall("SELECT id, text FROM answers WHERE text != ''")
    await session.executemany(
        "UPDATE answers SET style_tokens = ?, style_headers = ?, style_lists = ?,"
        " style_bold = ? WHERE id = ?",
        [(*style_features(text).as_tuple(), answer_id) for answer_id, text in rows],
    )


# Judge grades (of answers, of canaries, of cases from a file), pairwise verdicts and
# audit reports. An unmeasured grade keeps its raw reply and error but never a score.
_JUDGE = """
CREATE TABLE grades (
    id $id,
    answer_id INTEGER REFERENCES answers(id),
    kind TEXT NOT NULL DEFAULT 'answer',
    judge TEXT NOT NULL,
    criteria TEXT NOT NULL DEFAULT '{}',
    context_relevance TEXT,
    legacy_score $float,
    score $float,
    unmeasured INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    raw TEXT NOT NULL DEFAULT '',
    latency_ms $float NOT NULL DEFAULT 0,
    cost_usd $float NOT NULL DEFAULT 0,
    created_at $float NOT NULL,
    CHECK (unmeasured = 0 OR (score IS NULL AND legacy_score IS NULL))
);
CREATE INDEX grades_answer ON grades(answer_id, judge);
CREATE TABLE pair_verdicts (
    id $id,
    battle_id INTEGER NOT NULL REFERENCES battles(id),
    judge TEXT NOT NULL,
    winner TEXT CHECK (winner IN ('model_a', 'model_b', 'tie')),
    a_first TEXT,
    b_first TEXT,
    created_at $float NOT NULL
);
CREATE INDEX pair_verdicts_battle ON pair_verdicts(battle_id, judge);
CREATE TABLE audits (
    id $id,
    judge TEXT NOT NULL,
    report TEXT NOT NULL,
    created_at $float NOT NULL
)
"""

# Beside each grade, the support check's verdicts on the same answer (JSON) and the
# share of its sentences flagged; NULL where no check ran (grades made before it).
_SUPPORT_CHECK = """
ALTER TABLE grades ADD COLUMN support TEXT;
ALTER TABLE grades ADD COLUMN flagged_share $float
"""

# Each answer's pipeline settings (the model, what it retrieved and how, web search, the
# prompt), stored once under their hash, and which settings each rated name has answered
# with, so a change of settings becomes a new contestant. Answers stored before this
# step have no settings (NULL).
_PIPELINES = """
CREATE TABLE pipeline_settings (
    hash TEXT PRIMARY KEY,
    settings TEXT NOT NULL
);
CREATE TABLE model_pipelines (
    model TEXT$binary NOT NULL,
    pipeline TEXT NOT NULL REFERENCES pipeline_settings(hash),
    first_at $float NOT NULL,
    PRIMARY KEY (model, pipeline)
);
ALTER TABLE answers ADD COLUMN pipeline TEXT REFERENCES pipeline_settings(hash)
"""

# Work done once across every instance sharing the database: a chat message answered
# (a Slack event delivered to two instances), a scheduled audit's period run. A claim
# names its holder and when it last renewed it; a holder that stops renewing (a crashed
# instance) loses it to the next one that asks once its lease has run out.
_EVENT_CLAIMS = """
CREATE TABLE claims (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('claimed', 'done')),
    owner TEXT NOT NULL,
    claimed_at $float NOT NULL,
    renewed_at $float NOT NULL,
    done_at $float,
    PRIMARY KEY (scope, key)
);
CREATE INDEX claims_age ON claims(claimed_at)
"""

# What redoing a claimed piece of work takes (for a Slack message: the event, the team
# and the bot's user id, as JSON), so an instance finding a claim whose holder died
# after Slack's only delivery can do the work itself instead of waiting for a retry
# that never comes. NULL for claims that need nothing (an audit period) and older ones.
_CLAIM_PAYLOADS = """
ALTER TABLE claims ADD COLUMN payload TEXT
"""

# Documents a person attached to a question, read into passages and kept for the
# conversation they were attached in (platform, channel, thread), so its follow-ups on
# any instance are answered from them too; never part of the knowledge base. One row a
# file (a newer file of the same name replaces it); its passages as JSON.
_THREAD_ATTACHMENTS = """
CREATE TABLE thread_attachments (
    id $id,
    platform TEXT NOT NULL,
    channel TEXT$binary NOT NULL,
    thread TEXT NOT NULL,
    name TEXT NOT NULL,
    passages TEXT NOT NULL,
    created_at $float NOT NULL,
    UNIQUE (platform, channel, thread, name)
)
"""

MIGRATIONS: list[Migration] = [
    Migration("001_initial", **_engines(_INITIAL)),
    Migration("002_pair_counts", **_engines(_PAIR_COUNTS)),
    Migration("003_question_indexes", **_engines(_QUESTION_INDEXES)),
    Migration("004_passage_texts", **_engines(_PASSAGE_TEXTS), run=_name_this_database),
    Migration("005_style_and_hygiene", **_engines(_STYLE_AND_HYGIENE), run=_style_stored_answers),
    Migration("006_judge", **_engines(_JUDGE)),
    Migration("007_support_check", **_engines(_SUPPORT_CHECK)),
    Migration("008_pipelines", **_engines(_PIPELINES)),
    Migration("009_event_claims", **_engines(_EVENT_CLAIMS)),
    Migration("010_claim_payloads", **_engines(_CLAIM_PAYLOADS)),
    Migration("011_thread_attachments", **_engines(_THREAD_ATTACHMENTS)),
]


async def applied(database: Any) -> list[str]:
    """The steps recorded in the database, in the order they ran (names are numbered);
    none in a database that holds no arena."""
    return await recorded_async(database, MIGRATIONS_TABLE)


async def migrate(database: Any, steps: list[Migration] = MIGRATIONS) -> list[str]:
    """Apply the steps not yet recorded, each in its own transaction (instances starting
    together take turns); return their names."""
    return await migrate_async(database, steps, table=MIGRATIONS_TABLE)
