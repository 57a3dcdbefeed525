"""Cases to grade from a JSONL file, graded by the judge a configuration names.

Each line: ``question``, ``context`` (one text or a list of passages) and ``answer``.
A malformed line stops the read before anything is graded, naming every bad line.
"""

from __future__ import annotations

from pathlib import Path

from arena.jsonl import read_jsonl
from arena.pipelines import DEFAULT_TOP_K
from arena.roster import Roster, build_roster
from arena.types import ModelSpec

from . import build_judge, judge_spec
from .grades import Case, Grade

__all__ = ["case_of", "grade_cases", "read_cases"]


def case_of(row: object) -> Case:
    """A Case from one decoded line; ValueError says what is wrong with it."""
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object")
    missing = [k for k in ("question", "context", "answer") if k not in row]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    context = row["context"]
    passages = [context] if isinstance(context, str) else context
    if not isinstance(passages, list) or not all(isinstance(p, str) for p in passages):
        raise ValueError("context must be a text or a list of texts")
    if not isinstance(row["question"], str) or not isinstance(row["answer"], str):
        raise ValueError("question and answer must be texts")
    return Case(row["question"], passages, row["answer"])


def read_cases(path: Path) -> list[Case]:
    return read_jsonl(path, case_of)


async def grade_cases(
    cases: list[Case],
    name: str | None,
    specs: list[ModelSpec],
    timeout: float | None = None,
    *,
    top_k: int = DEFAULT_TOP_K,
    web_backend: str | None = None,
) -> list[Grade]:
    """One grade per case, in input order, by the judge ``name`` picks (a roster model,
    or the offline judge for None). Only the judge's entry is set up, as the bot's
    roster would set it up (``top_k``, ``web_backend``); its client is closed before
    returning."""
    spec = judge_spec(name, specs)
    roster = (
        Roster() if spec is None else build_roster([spec], top_k=top_k, web_backend=web_backend)
    )
    try:
        return await build_judge(name, roster, timeout).grade_many(cases)
    finally:
        await roster.aclose()
