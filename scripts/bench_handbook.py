"""How many of the questions a new team asks first the offline answerers get right on the
bundled handbook.

    python scripts/bench_handbook.py [--questions scripts/data/handbook_questions.jsonl] [--json]

The handbook (examples/handbook) is indexed into a temporary folder with the real
embedder, and each question goes the service's way: its retrieval
(``bot.retrieval.PipelineRetrieval``, with "today" fixed to the question's ``today``),
the prompt composer and each offline answerer. An answer is right when it holds every
string of ``says`` and none of ``never``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

from arena.compose import compose
from arena.roster import build_roster
from bot.retrieval import PipelineRetrieval
from knowledge.base import KnowledgeBase
from knowledge.embed import default_embedder

ROOT = Path(__file__).resolve().parent.parent


def right(answer: str, case: dict) -> bool:
    return all(s in answer for s in case["says"]) and not any(
        s in answer for s in case.get("never", [])
    )


async def ask_all(kb: KnowledgeBase, cases: list[dict]) -> dict[str, list[dict]]:
    roster = build_roster([])
    results: dict[str, list[dict]] = {c.name: [] for c in roster.entries}
    for case in cases:
        today = date.fromisoformat(case["today"])
        retrieval = PipelineRetrieval(kb.search, today=lambda today=today: today)
        found = await retrieval.retrieve(case["question"], [], "bench", roster.entries)
        for contestant in roster.entries:
            prompt = compose(found.questions[contestant.name], today=today)
            answer = (await contestant.provider.complete(prompt)).text
            results[contestant.name].append(
                {
                    "question": case["question"],
                    "today": case["today"],
                    "answer": answer,
                    "right": right(answer, case),
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--questions", type=Path, default=ROOT / "scripts" / "data" / "handbook_questions.jsonl"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cases = [json.loads(line) for line in args.questions.read_text().splitlines() if line]
    with (
        tempfile.TemporaryDirectory() as folder,
        KnowledgeBase.open(Path(folder), embedder=default_embedder()) as kb,
    ):
        kb.index([ROOT / "examples" / "handbook"])
        results = asyncio.run(ask_all(kb, cases))
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        return
    for name, answers in results.items():
        print(f"{name}: {sum(a['right'] for a in answers)} of {len(answers)} right")
        for a in answers:
            if not a["right"]:
                print(f"  wrong ({a['today']}) {a['question']}\n    {a['answer']}")


if __name__ == "__main__":
    main()
