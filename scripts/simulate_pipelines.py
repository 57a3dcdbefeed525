"""A simulated arena of pipelines: does the leaderboard rank them as their accuracy does?

    python scripts/simulate_pipelines.py [--squad DIR] [--pacific DIR] [--questions 150]
                                         [--votes 2000] [--work DIR] [--seed 0] [--json]

Six offline pipelines (the two offline answerers, each with different ``k`` and search
modes) answer the same questions: ``--questions`` SQuAD questions after the answerers'
tuning slice (``bench_answers.py``'s reported slice) and as many PACIFIC span questions,
each data set in its own index, built in ``--work`` through Parley's indexer and kept
for the next run. Each pipeline answers through the service's own path:
``bot.retrieval.PipelineRetrieval`` (one search per distinct retrieval setting) and
``arena.answers.answer_question``. A pipeline's accuracy is the share of its answers
that contain a gold answer (normalised as the SQuAD evaluation does).

Then ``--votes`` battles are drawn, in one arena per data set (the second set confirms
what the first shows) and in one over both: a random question, a random pair of
pipelines, the shown order at random. They go into a real arena database (``Store``:
the question, both answers with their pipeline settings, the battle) and a voter casts
the vote a careful reader with the gold answer at hand would: the side whose answer
contains it, a tie when both do, both bad when neither does. The leaderboard is the
service's (``arena.leaderboard.build_board``, sandwich intervals). Reported at 250,
500, 1,000 and ``--votes`` votes: Spearman's rank correlation between the board's
scores and the pipelines' accuracies on that arena's questions, and whether the best
pipeline's interval lies above the worst's.
Data sets that are absent are skipped; with neither, the script says so and stops.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from bench_answers import contains_gold, load_questions, slice_of
from scipy.stats import spearmanr

from arena.answers import answer_question
from arena.leaderboard import build_board
from arena.roster import Contestant, build_roster
from arena.store import Store
from arena.types import ModelSpec
from bot.retrieval import PipelineRetrieval
from knowledge.base import KnowledgeBase
from knowledge.embed import default_embedder

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data"
SQUAD_TUNING = 500  # bench_answers.py's tuning slice: never measured here
CHECKPOINTS = (250, 500, 1000)
VOTERS = 50

PIPELINES = [
    ModelSpec(name="sentences k5 hybrid", provider="offline-sentences", k=5),
    ModelSpec(name="sentences k3 dense", provider="offline-sentences", k=3, mode="dense"),
    ModelSpec(name="sentences k1 lexical", provider="offline-sentences", k=1, mode="lexical"),
    ModelSpec(name="passages k5 hybrid", provider="offline-passages", k=5),
    ModelSpec(name="passages k2 lexical", provider="offline-passages", k=2, mode="lexical"),
    ModelSpec(name="passages k1 dense", provider="offline-passages", k=1, mode="dense"),
]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def answer_all(
    kb: KnowledgeBase, questions: list[dict], contestants: list[Contestant], label: str
) -> list[dict]:
    """Every pipeline's answer to every question, with whether it holds a gold answer."""
    retrieval = PipelineRetrieval(kb.search)
    answered = []
    started = time.perf_counter()
    for n, q in enumerate(questions, 1):
        found = await retrieval.retrieve(q["text"], [], "simulation", contestants)
        answers = {}
        for contestant in contestants:
            answer = await answer_question(contestant, found.questions[contestant.name])
            answers[contestant.name] = (answer, contains_gold(answer.text, q["answers"]))
        answered.append({"question": q["text"], "found": found, "answers": answers})
        if n % 50 == 0:
            say(f"  {label}: {n}/{len(questions)} answered ({time.perf_counter() - started:.0f} s)")
    return answered


def vote_for(correct_a: bool, correct_b: bool) -> str:
    """What a reader holding the gold answer votes."""
    if correct_a != correct_b:
        return "a" if correct_a else "b"
    return "tie" if correct_a else "both_bad"


async def battles(
    answered: list[dict], contestants: list[Contestant], votes: int, seed: int
) -> list[dict]:
    """Draw the battles into a fresh arena database; the board at each checkpoint."""
    rng = random.Random(seed)
    settings = {c.name: c.settings for c in contestants}
    accuracy = {
        c.name: float(np.mean([a["answers"][c.name][1] for a in answered])) for c in contestants
    }
    store = await Store.open(":memory:")
    boards = []
    try:
        for cast in range(1, votes + 1):
            item = rng.choice(answered)
            left, right = rng.sample([c.name for c in contestants], 2)
            question_id = await store.record_question(
                platform="simulation",
                channel="arena",
                user=f"voter{cast % VOTERS}",
                thread=None,
                text=item["question"],
                hits=item["found"].hits,
            )
            ids = [
                await store.record_answer(question_id, item["answers"][name][0], settings[name])
                for name in (left, right)
            ]
            battle = await store.record_battle(question_id, *ids)
            choice = vote_for(item["answers"][left][1], item["answers"][right][1])
            await store.record_vote(battle, f"voter{cast % VOTERS}", choice)
            if cast in CHECKPOINTS or cast == votes:
                boards.append(await checkpoint(store, cast, accuracy, seed))
    finally:
        await store.close()
    return boards


async def checkpoint(store: Store, votes: int, accuracy: dict[str, float], seed: int) -> dict:
    board = await build_board(store, seed=seed)
    rows = {r.model: r for r in board.rows}
    names = sorted(accuracy)
    rho = float(spearmanr([accuracy[n] for n in names], [rows[n].score for n in names])[0])
    best = max(names, key=lambda n: accuracy[n])
    worst = min(names, key=lambda n: accuracy[n])
    return {
        "votes": votes,
        "spearman": rho,
        "best": best,
        "worst": worst,
        "best_low": rows[best].ci_low,
        "worst_high": rows[worst].ci_high,
        "separated": rows[best].ci_low > rows[worst].ci_high,
        "rows": [
            {
                "pipeline": r.model,
                "accuracy": accuracy[r.model],
                "score": r.score,
                "ci": [r.ci_low, r.ci_high],
                "votes": r.votes,
            }
            for r in board.rows
        ],
    }


def data_sets(args: argparse.Namespace) -> list[tuple[str, Path, int]]:
    """(name, folder, questions set aside first) of each data set present."""
    found = []
    if (args.squad / "queries.jsonl").is_file():
        found.append(("squad", args.squad, SQUAD_TUNING))
    if (args.pacific / "validation.json").is_file():
        found.append(("pacific", args.pacific, 0))
    return found


async def run(args: argparse.Namespace) -> dict:
    contestants = build_roster(PIPELINES).entries
    answered: dict[str, list[dict]] = {}
    for name, folder, tuning in data_sets(args):
        questions, _ = load_questions(folder.resolve(), args.work / name / "docs")
        chosen = slice_of(questions, "report", tuning, args.questions)
        with KnowledgeBase.open(args.work / name / "index", embedder=default_embedder()) as kb:
            report = kb.index([args.work / name / "docs"])
            say(f"{name}: {report.passages} passages indexed ({report.seconds:.0f} s)")
            answered[name] = await answer_all(kb, chosen, contestants, name)
    if len(answered) > 1:
        answered["all"] = [item for done in answered.values() for item in done]
    arenas = {}
    for name, done in answered.items():
        say(f"{name}: drawing {args.votes} battles over {len(done)} questions ...")
        arenas[name] = {
            "questions": len(done),
            "boards": await battles(done, contestants, args.votes, args.seed),
        }
    return {"arenas": arenas}


def print_report(result: dict) -> None:
    for name, arena in result["arenas"].items():
        print_arena(name, arena)


def print_arena(name: str, arena: dict) -> None:
    final = arena["boards"][-1]
    print(f"\n{name}: {arena['questions']} questions, {final['votes']} votes")
    print(f"{'pipeline':22}{'accuracy':>9}{'score':>8}{'95% CI':>14}{'votes':>7}")
    for row in final["rows"]:
        low, high = row["ci"]
        print(
            f"{row['pipeline']:22}{row['accuracy']:9.1%}{row['score']:8.0f}"
            f"{f'{low:.0f}-{high:.0f}':>14}{row['votes']:7}"
        )
    print(f"{'votes':>6}{'Spearman':>10}  best interval above worst's")
    for board in arena["boards"]:
        said = "yes" if board["separated"] else "no"
        print(
            f"{board['votes']:6}{board['spearman']:10.3f}  {said} ({board['best']}"
            f" low {board['best_low']:.0f} vs {board['worst']} high {board['worst_high']:.0f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SHARED / "squad-v1.1-dev")
    parser.add_argument("--pacific", type=Path, default=SHARED / "pacific")
    parser.add_argument("--questions", type=int, default=150, help="per data set")
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/parley-simulate-pipelines"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not data_sets(args):
        sys.exit(f"no data: neither {args.squad} nor {args.pacific} holds a data set")
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_report(result)


if __name__ == "__main__":
    main()
