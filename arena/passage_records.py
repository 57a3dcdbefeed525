"""Which passages each question retrieved and each answer was shown, with their text.

Passage ids hash the text at index time, so once a document changes an id no longer
finds what an old answer saw. Here every passage is stored once, under a hash of its
text and provenance (content-addressed: the same passage retrieved by a thousand
questions is one row), and questions and answers point at those rows. A judge can then
grade an old answer against exactly its context, whatever the index holds today.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.sql import AsyncSession
from knowledge.types import Hit, Passage

__all__ = ["AnswerRecord", "passage_hash", "read_answer", "save_answer_passages", "save_hits"]


@dataclass(frozen=True)
class AnswerRecord:
    """A stored answer with the question it answered and the passages it was shown."""

    answer_id: int
    question_id: int
    question: str
    model: str
    text: str
    error: str | None
    passages: list[Passage]
    created_at: float


def passage_hash(passage: Passage) -> str:
    """Content address: the same text from the same place hashes the same, always."""
    key = "\x1f".join((passage.source, passage.title, passage.place, passage.text))
    return hashlib.sha256(key.encode()).hexdigest()


async def _save_texts(s: AsyncSession, passages: Sequence[Passage]) -> list[str]:
    hashes = [passage_hash(p) for p in passages]
    await s.executemany(
        "INSERT INTO passage_texts (hash, passage_id, source, title, location, text)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING",
        [
            (h, p.id, p.source, p.title, p.place, p.text)
            for h, p in zip(hashes, passages, strict=True)
        ],
    )
    return hashes


async def save_hits(s: AsyncSession, question_id: int, hits: Sequence[Hit]) -> None:
    """Record what a question retrieved, in rank order, inside the caller's transaction."""
    hashes = await _save_texts(s, [h.passage for h in hits])
    await s.executemany(
        "INSERT INTO question_passages (question_id, rank, passage_hash, score)"
        " VALUES (?, ?, ?, ?)",
        [
            (question_id, rank, h, hit.score)
            for rank, (h, hit) in enumerate(zip(hashes, hits, strict=True))
        ],
    )


async def save_answer_passages(
    s: AsyncSession, answer_id: int, passages: Sequence[Passage]
) -> None:
    """Record the passages an answer's prompt held, in the order it numbered them."""
    hashes = await _save_texts(s, passages)
    await s.executemany(
        "INSERT INTO answer_passages (answer_id, rank, passage_hash) VALUES (?, ?, ?)",
        [(answer_id, rank, h) for rank, h in enumerate(hashes)],
    )


async def read_answer(s: AsyncSession, answer_id: int) -> AnswerRecord | None:
    """The answer, its question and its passages, read in the caller's snapshot."""
    row = await s.fetchone(
        "SELECT a.id, a.question_id, q.text, a.model, a.text, a.error, a.created_at"
        " FROM answers a JOIN questions q ON q.id = a.question_id WHERE a.id = ?",
        (answer_id,),
    )
    if row is None:
        return None
    rows = await s.fetchall(
        "SELECT t.passage_id, t.text, t.source, t.title, t.location FROM answer_passages ap"
        " JOIN passage_texts t ON t.hash = ap.passage_hash WHERE ap.answer_id = ?"
        " ORDER BY ap.rank",
        (answer_id,),
    )
    passages = [
        Passage(pid, text, source, title, location=location)
        for pid, text, source, title, location in rows
    ]
    answer_id, question_id, question, model, text, error, created_at = row
    return AnswerRecord(answer_id, question_id, question, model, text, error, passages, created_at)
