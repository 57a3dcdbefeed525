"""The arena database's schema, as named, ordered steps that are never edited once shipped.

Each step runs once, in order, inside a transaction, and is recorded in
``_parley_migrations``; a database made by an older Parley is brought forward on open.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import aiosqlite

__all__ = ["MIGRATIONS", "applied", "migrate", "run_statements"]

Step = Callable[[aiosqlite.Connection], Awaitable[None]]


async def run_statements(db: aiosqlite.Connection, script: str) -> None:
    """Each statement on its own: ``executescript`` would commit the step's transaction."""
    for statement in script.split(";"):
        if statement.strip():
            await db.execute(statement)


async def _m001_initial(db: aiosqlite.Connection) -> None:
    await run_statements(
        db,
        """
        CREATE TABLE questions (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            channel TEXT NOT NULL,
            user TEXT NOT NULL,
            thread TEXT,
            text TEXT NOT NULL,
            passages TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL
        );
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            question_id INTEGER NOT NULL REFERENCES questions(id),
            model TEXT NOT NULL,
            text TEXT NOT NULL,
            citations TEXT NOT NULL DEFAULT '[]',
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            latency_ms REAL NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            error TEXT,
            created_at REAL NOT NULL
        );
        CREATE TABLE battles (
            id INTEGER PRIMARY KEY,
            question_id INTEGER NOT NULL REFERENCES questions(id),
            answer_a INTEGER NOT NULL REFERENCES answers(id),
            answer_b INTEGER NOT NULL REFERENCES answers(id),
            channel TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE votes (
            id INTEGER PRIMARY KEY,
            battle_id INTEGER NOT NULL REFERENCES battles(id),
            user TEXT NOT NULL,
            choice TEXT NOT NULL CHECK (choice IN ('a', 'b', 'tie', 'both_bad')),
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            UNIQUE (battle_id, user)
        );
        CREATE TABLE thumbs (
            answer_id INTEGER NOT NULL REFERENCES answers(id),
            user TEXT NOT NULL,
            value INTEGER NOT NULL CHECK (value IN (-1, 1)),
            created_at REAL NOT NULL,
            PRIMARY KEY (answer_id, user)
        );
        """,
    )


async def _m002_pair_counts(db: aiosqlite.Connection) -> None:
    """Running outcome counts per channel and model pair, so ratings cost O(models²)."""
    await run_statements(
        db,
        """
        CREATE TABLE pair_counts (
            channel TEXT NOT NULL,
            model_a TEXT NOT NULL,
            model_b TEXT NOT NULL,
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
        """,
    )
    # Votes stored before this step are counted now, so an upgrade loses none.
    await db.execute(
        """
        INSERT INTO pair_counts (channel, model_a, model_b, a_wins, b_wins, ties, both_bad)
        SELECT b.channel,
               MIN(qa.model, qb.model), MAX(qa.model, qb.model),
               SUM(CASE WHEN (v.choice = 'a') = (qa.model < qb.model) AND v.choice IN ('a', 'b')
                        THEN 1 ELSE 0 END),
               SUM(CASE WHEN (v.choice = 'b') = (qa.model < qb.model) AND v.choice IN ('a', 'b')
                        THEN 1 ELSE 0 END),
               SUM(v.choice = 'tie'), SUM(v.choice = 'both_bad')
        FROM votes v
        JOIN battles b ON b.id = v.battle_id
        JOIN answers qa ON qa.id = b.answer_a
        JOIN answers qb ON qb.id = b.answer_b
        GROUP BY b.channel, MIN(qa.model, qb.model), MAX(qa.model, qb.model)
        """
    )


async def _m003_question_indexes(db: aiosqlite.Connection) -> None:
    """Thread history looks answers and battles up by question; without these it scans."""
    await run_statements(
        db,
        """
        CREATE INDEX answers_question ON answers(question_id);
        CREATE INDEX battles_question ON battles(question_id);
        """,
    )


async def _m004_passage_texts(db: aiosqlite.Connection) -> None:
    """What each question retrieved and each answer was shown, text included.

    Passage ids hash the text at index time, so after a re-index an id alone no longer
    says what an old answer saw; the judge audits need exactly that. Texts are stored
    once, under a hash of their content and provenance, however often they are retrieved.
    Also: a reason with each thumb, and an id for this database, so its exported battles
    carry keys that an import into it recognises.
    """
    await run_statements(
        db,
        """
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
            score REAL NOT NULL,
            PRIMARY KEY (question_id, rank)
        );
        CREATE TABLE answer_passages (
            answer_id INTEGER NOT NULL REFERENCES answers(id),
            rank INTEGER NOT NULL,
            passage_hash TEXT NOT NULL REFERENCES passage_texts(hash),
            PRIMARY KEY (answer_id, rank)
        );
        ALTER TABLE thumbs ADD COLUMN reason TEXT;
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(8))))
        """,
    )


async def _m005_style_and_hygiene(db: aiosqlite.Connection) -> None:
    """Style features per answer (for style control), a reason on battles left out of
    the ratings (battle hygiene), and a cache of the online Elo so a board does not
    replay every vote. Answers stored before this step get their features now."""
    from arena.style import style_features  # the tokenizer loads only when this runs

    await run_statements(
        db,
        """
        ALTER TABLE answers ADD COLUMN style_tokens INTEGER;
        ALTER TABLE answers ADD COLUMN style_headers INTEGER;
        ALTER TABLE answers ADD COLUMN style_lists INTEGER;
        ALTER TABLE answers ADD COLUMN style_bold INTEGER;
        ALTER TABLE battles ADD COLUMN excluded TEXT;
        CREATE INDEX battles_excluded ON battles(excluded) WHERE excluded IS NOT NULL;
        CREATE INDEX answers_styled ON answers(id) WHERE style_tokens IS NOT NULL;
        CREATE TABLE elo_cache (scope TEXT PRIMARY KEY, state TEXT NOT NULL);
        """,
    )
    async with db.execute("SELECT id, text FROM answers WHERE text != ''") as cursor:
        rows = [(answer_id, text) async for answer_id, text in cursor]
    await db.executemany(
        "UPDATE answers SET style_tokens = ?, style_headers = ?, style_lists = ?,"
        " style_bold = ? WHERE id = ?",
        [(*style_features(text).as_tuple(), answer_id) for answer_id, text in rows],
    )


async def _m006_judge(db: aiosqlite.Connection) -> None:
    """Judge grades (of answers, of canaries, of cases from a file), pairwise verdicts and
    audit reports.

    An unmeasured grade keeps its raw reply and error but never a score.
    """
    await run_statements(
        db,
        """
        CREATE TABLE grades (
            id INTEGER PRIMARY KEY,
            answer_id INTEGER REFERENCES answers(id),
            kind TEXT NOT NULL DEFAULT 'answer',
            judge TEXT NOT NULL,
            criteria TEXT NOT NULL DEFAULT '{}',
            context_relevance TEXT,
            legacy_score REAL,
            score REAL,
            unmeasured INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            raw TEXT NOT NULL DEFAULT '',
            latency_ms REAL NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            CHECK (unmeasured = 0 OR (score IS NULL AND legacy_score IS NULL))
        );
        CREATE INDEX grades_answer ON grades(answer_id, judge);
        CREATE TABLE pair_verdicts (
            id INTEGER PRIMARY KEY,
            battle_id INTEGER NOT NULL REFERENCES battles(id),
            judge TEXT NOT NULL,
            winner TEXT CHECK (winner IN ('model_a', 'model_b', 'tie')),
            a_first TEXT,
            b_first TEXT,
            created_at REAL NOT NULL
        );
        CREATE INDEX pair_verdicts_battle ON pair_verdicts(battle_id, judge);
        CREATE TABLE audits (
            id INTEGER PRIMARY KEY,
            judge TEXT NOT NULL,
            report TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        """,
    )


async def _m007_support_check(db: aiosqlite.Connection) -> None:
    """Beside each grade, the support check's verdicts on the same answer (JSON) and the
    share of its sentences flagged; NULL where no check ran (grades made before it)."""
    await run_statements(
        db,
        """
        ALTER TABLE grades ADD COLUMN support TEXT;
        ALTER TABLE grades ADD COLUMN flagged_share REAL
        """,
    )


async def _m008_pipelines(db: aiosqlite.Connection) -> None:
    """Each answer's pipeline settings (the model, what it retrieved and how, web search,
    the prompt), stored once under their hash, and which settings each rated name has
    answered with, so a change of settings becomes a new contestant. Answers stored
    before this step have no settings (NULL)."""
    await run_statements(
        db,
        """
        CREATE TABLE pipeline_settings (
            hash TEXT PRIMARY KEY,
            settings TEXT NOT NULL
        );
        CREATE TABLE model_pipelines (
            model TEXT NOT NULL,
            pipeline TEXT NOT NULL REFERENCES pipeline_settings(hash),
            first_at REAL NOT NULL,
            PRIMARY KEY (model, pipeline)
        );
        ALTER TABLE answers ADD COLUMN pipeline TEXT REFERENCES pipeline_settings(hash)
        """,
    )


MIGRATIONS: list[tuple[str, Step]] = [
    ("001_initial", _m001_initial),
    ("002_pair_counts", _m002_pair_counts),
    ("003_question_indexes", _m003_question_indexes),
    ("004_passage_texts", _m004_passage_texts),
    ("005_style_and_hygiene", _m005_style_and_hygiene),
    ("006_judge", _m006_judge),
    ("007_support_check", _m007_support_check),
    ("008_pipelines", _m008_pipelines),
]


async def applied(db: aiosqlite.Connection) -> list[str]:
    await db.execute(
        "CREATE TABLE IF NOT EXISTS _parley_migrations (name TEXT PRIMARY KEY, applied_at REAL)"
    )
    async with db.execute("SELECT name FROM _parley_migrations ORDER BY rowid") as cursor:
        return [row[0] async for row in cursor]


async def migrate(
    db: aiosqlite.Connection, steps: list[tuple[str, Step]] = MIGRATIONS
) -> list[str]:
    """Apply the steps not yet recorded; return their names."""
    done = set(await applied(db))
    ran = []
    for name, step in steps:
        if name in done:
            continue
        await db.execute("BEGIN IMMEDIATE")
        try:
            await step(db)
            await db.execute(
                "INSERT INTO _parley_migrations (name, applied_at) VALUES (?, ?)",
                (name, time.time()),
            )
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
        ran.append(name)
    return ran
