"""What to search for a question asked in a thread.

A follow-up that names its subject ("What is a SEV1?") should be searched on its own; one
that leans on the thread ("and who owns it?") needs the previous question's subject.
Rather than guess which it is from the words (a pronoun list is one language's), both
searches run and their rankings are fused: a passage both find comes first, and a
passage only one finds still gets in when it ranks high there.
``scripts/bench_followups.py`` chose the weights (docs/benchmarks.md, "Follow-up
questions").

That is the default; a pipeline may choose otherwise with its ``followup`` key
(``arena.types.FollowUp``): "joined" searches only after the previous question (the old
rule, best when threads never change subject), "alone" ignores the thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from arena.types import FollowUp, Turn
from knowledge.retrieve import weighted_fusion
from knowledge.types import Hit

__all__ = [
    "ALONE_WEIGHT",
    "POOL",
    "followup_search",
    "fuse_rankings",
    "previous_question",
    "thread_query",
]

# Chosen on the handbook conversations (scripts/data/followups_handbook.jsonl; recall@5
# 0.967 -> 1.000 against the old rule, top passage right 0.678 -> 0.889). PACIFIC agrees
# on a weight below 0.5 but shows no gain (0.620 -> 0.615): its threads never change
# subject, so the thread's words help even its independent questions; at 0.7 its
# recall@5 fell to 0.49.
ALONE_WEIGHT = 0.4  # share of the question-alone ranking in the fused score
POOL = 4  # each search fetches POOL * k hits, so a passage both find is seen by both


def previous_question(history: Sequence[Turn]) -> str:
    """The thread's last question from a user, or "" when there is none."""
    return next((t.text for t in reversed(history) if t.role == "user"), "")


def thread_query(text: str, previous: str) -> str:
    """The question with the thread's previous question ahead of it."""
    return f"{previous}\n{text}" if previous.strip() else text


def fuse_rankings(
    alone: Sequence[Hit], joined: Sequence[Hit], k: int, *, alone_weight: float = ALONE_WEIGHT
) -> list[Hit]:
    """The ``k`` best of two rankings of the same index, by a weighted sum of their scores,
    each ranking's scores min-max normalised first (the retriever's own fusion). A passage
    missing from one ranking gets that ranking's lowest score. Hits keep their passages
    and get the fused score."""
    passages = {hit.passage.id: hit.passage for hit in [*joined, *alone]}
    fused = weighted_fusion(
        [(hit.passage.id, hit.score) for hit in alone],
        [(hit.passage.id, hit.score) for hit in joined],
        alone_weight,
    )
    return [Hit(passages[i], score) for i, score in fused[:k]]


def followup_search(
    search: Callable[[str, int], Sequence[Hit]],
    text: str,
    history: Sequence[Turn],
    k: int,
    followup: FollowUp = "fused",
) -> list[Hit]:
    """The ``k`` passages to answer ``text`` with, given the thread so far.

    Without an earlier question (or with ``followup="alone"``) this is one plain search.
    Otherwise the question is searched alone and after the previous question, and the
    rankings are fused (``"joined"``: only after the previous question). Blocking: the
    service runs it in a worker thread.
    """
    previous = previous_question(history)
    if not previous.strip() or k <= 0 or followup == "alone":
        return list(search(text, k))
    if followup == "joined":
        return list(search(thread_query(text, previous), k))
    depth = POOL * k
    alone = search(text, depth)
    joined = search(thread_query(text, previous), depth)
    return fuse_rankings(alone, joined, k)
