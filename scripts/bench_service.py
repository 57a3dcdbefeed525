"""The service under load: 50 questions in flight, idle and while a re-index runs.

    python scripts/bench_service.py [--corpus ../shared/data/docs-corpus/corpus.jsonl]
        [--passages 600] [--questions 200] [--in-flight 50] [--json]

The knowledge base is the bundled handbook plus the first ``--passages`` passages of the
docs corpus written as Markdown files (fifty to a file), indexed with the real embedder
in a temporary folder. The roster is the two offline answerers with a battle share of
0.5. Two runs of the same questions, side by side:

- ``idle``: nothing else happens;
- ``reindexing``: every passage of every corpus file is changed first (so all of them
  are embedded again), and a re-index starts as the questions do, so answers are
  searched while files swap their passages.

Figures per run: answers delivered, errors (a reply with no answer, or an exception),
answer latency p50/p99, and event-loop lag p50/p99: a ticker asks to wake every 10 ms
and records how late it wakes, which is how long the loop was kept from acknowledging
a Slack event. Targets: 0 errors, loop lag p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from bench_index import write_corpus
from figures import percentile

from arena.roster import build_roster
from arena.store import Store
from bot.access import Requester
from bot.config import Settings
from bot.service import Ask, Service
from knowledge.base import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
HANDBOOK = ROOT / "examples" / "handbook"
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "docs-corpus" / "corpus.jsonl"
TICK = 0.010
HANDBOOK_QUESTIONS = [
    "How do I roll back a deploy?",
    "What is a SEV1?",
    "Who owns the billing service?",
    "What is the meal expense limit?",
    "What is the on-call stipend?",
    "Who is on call this week?",
    "How long do I have to submit expenses?",
    "Do I need approval for a hotel?",
]


async def ticker(lags: list[float], stop: asyncio.Event) -> None:
    """How late the loop wakes a coroutine that asked to sleep ``TICK`` seconds."""
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(TICK)
        lags.append(max(0.0, time.perf_counter() - asked - TICK) * 1000)


async def load(service: Service, questions: list[str], in_flight: int) -> dict:
    limit = asyncio.Semaphore(in_flight)
    latencies: list[float] = []
    errors: list[str] = []

    async def one(n: int, text: str) -> None:
        async with limit:
            started = time.perf_counter()
            try:
                reply = await service.ask(Ask(text, f"user{n % 37}", "bench", None, "bench"))
            except Exception as exc:  # a benchmark counts every failure, whatever it is
                errors.append(f"{type(exc).__name__}: {exc}")
                return
            latencies.append((time.perf_counter() - started) * 1000)
            if not reply.answers:
                errors.append("; ".join(reply.notices) or "no answer")

    await asyncio.gather(*(one(n, q) for n, q in enumerate(questions)))
    return {
        "answers": len(latencies) - len(errors),
        "errors": len(errors),
        "latency": latencies,
        "error_samples": errors[:3],
    }


async def run(
    service: Service, questions: list[str], in_flight: int, reindex: list[Path] | None
) -> dict:
    lags: list[float] = []
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(lags, stop))
    started = time.perf_counter()
    job = (
        asyncio.create_task(service.reindex(Requester("bench", "admin", True), reindex))
        if reindex
        else None
    )
    figures = await load(service, questions, in_flight)
    answered = time.perf_counter() - started
    report = await job if job else None
    stop.set()
    await tick
    out = {
        "answers": figures["answers"],
        "errors": figures["errors"],
        "latency_p50_ms": round(percentile(figures["latency"], 50), 1),
        "latency_p99_ms": round(percentile(figures["latency"], 99), 1),
        "loop_lag_p50_ms": round(percentile(lags, 50), 2),
        "loop_lag_p99_ms": round(percentile(lags, 99), 2),
        "questions_s": round(answered, 1),
    }
    if figures["error_samples"]:
        out["error_samples"] = figures["error_samples"]
    if report is not None:
        out["reindex_s"] = round(report.seconds, 1)
        out["reindex_changed"] = report.changed
    return out


async def main_async(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus_dir = work / "corpus"
        openings = write_corpus(args.corpus, corpus_dir, limit=args.passages)
        rng = random.Random(0)
        pool = HANDBOOK_QUESTIONS + openings
        questions = [rng.choice(pool) for _ in range(args.questions)]
        kb = KnowledgeBase.open(work / "index")
        say(f"indexing the handbook and {args.passages} corpus passages ...")
        report = kb.index([HANDBOOK, corpus_dir])
        say(f"  {report.passages} passages in {report.seconds:.1f} s")
        store = await Store.open(work / "parley.db")
        service = Service(
            Settings(top_k=5, battle_share=0.5),
            search=kb.search,
            index=lambda paths, progress, passages: kb.index(
                paths, progress=progress, on_passages=passages
            ),
            roster=build_roster([]),
            store=store,
            rng=random.Random(1),
        )
        try:
            await service.ask(Ask("warm up", "u", "bench", None, "bench"))  # load the model
            say("idle run ...")
            idle = await run(service, questions, args.in_flight, None)
            say(f"  {idle}")
            for path in sorted(corpus_dir.iterdir()):  # every passage of every file changes
                path.write_text(path.read_text().replace("\n\n", "\n\nRevised: ", -1))
            say("run during a re-index of every corpus file ...")
            busy = await run(service, questions, args.in_flight, [corpus_dir])
            say(f"  {busy}")
        finally:
            await store.close()
            kb.close()
    return {"idle": idle, "reindexing": busy}


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--passages", type=int, default=600)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.corpus.is_file():
        sys.exit(f"no corpus at {args.corpus}: pass --corpus (see ../shared/data/README.md)")
    figures = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"{'':12} {'answers':>8} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'lag p50':>8} "
        f"{'lag p99':>8}"
    )
    for name, f in figures.items():
        print(
            f"{name:12} {f['answers']:>8} {f['errors']:>7} {f['latency_p50_ms']:>8} "
            f"{f['latency_p99_ms']:>8} {f['loop_lag_p50_ms']:>8} {f['loop_lag_p99_ms']:>8}"
        )


if __name__ == "__main__":
    main()
