"""How fast Ctrl-C stops `parley index`, and what embedding in steps costs.

    python scripts/bench_index_stop.py --corpus ../shared/data/docs-corpus/corpus.jsonl \\
        [--records 600] [--after 20 30 40] [--batches 2] [--json]

Stop latency: the corpus records are written to Markdown files (fifty to a file, as
``bench_index`` does) and `parley index` runs on them in a child process with the real
model; after each of ``--after`` seconds a fresh run gets SIGINT, and the times until it
says it is stopping, until the run has ended (it says what it kept) and until the
process has exited (closing the stores, unloading the model) are measured, with the CPU
time the child spent until the run ended (two cores' worth of it is the wall time of a
quiet two-core machine).

Step cost: the indexer embeds a batch of ``DEFAULT_EMBED_BATCH`` passages in steps of
``EMBED_STEP`` (sorted by length) so it can stop between them; this embeds the same
batches once whole and once in steps, alternating, and compares CPU time (all threads),
which the load of a shared machine distorts less than wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_index import write_corpus
from figures import cpu_seconds

from knowledge.embed import default_embedder
from knowledge.indexer import DEFAULT_EMBED_BATCH, EMBED_STEP

ROOT = Path(__file__).resolve().parents[1]


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def stop_after(docs: Path, data: Path, seconds: float) -> dict:
    """Start `parley index`, press Ctrl-C after ``seconds``; time until it says it is
    stopping, until it says what it kept (the run has ended), and until it exits."""
    parley = [sys.executable, "-c", "from bot.cli import main; main()"]
    child = subprocess.Popen(
        [*parley, "--data-dir", str(data), "index", str(docs)],
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(seconds)
    if child.poll() is not None:
        return {"after_s": seconds, "finished_first": True}
    child.send_signal(signal.SIGINT)
    pressed, cpu_before = time.perf_counter(), cpu_seconds(child.pid)
    figures: dict = {"after_s": seconds}
    assert child.stdout is not None
    for line in child.stdout:  # each line timed as it comes
        at = round(time.perf_counter() - pressed, 2)
        if line.startswith("Stopping"):
            figures["says_stopping_s"] = at
        elif line.startswith("Stopped"):
            figures["run_ended_s"] = at
            figures["run_ended_cpu_s"] = round(cpu_seconds(child.pid) - cpu_before, 2)
            figures["said"] = line.strip()
    figures["exited_s"] = round(time.perf_counter() - pressed, 2)
    figures["exit_code"] = child.wait()
    return figures


def step_cost(texts: list[str], rounds: int) -> dict:
    """CPU seconds to embed ``texts`` in whole batches and in sorted steps, alternating."""
    embedder = default_embedder()
    embedder.embed(texts[:8])  # load the model outside the timing
    totals = {"whole": 0.0, "steps": 0.0}
    for _ in range(rounds):
        for how in ("whole", "steps"):
            started = time.process_time()
            for start in range(0, len(texts), DEFAULT_EMBED_BATCH):
                batch = texts[start : start + DEFAULT_EMBED_BATCH]
                if how == "whole":
                    embedder.embed(batch)
                    continue
                ordered = sorted(batch, key=len)
                for step in range(0, len(ordered), EMBED_STEP):
                    embedder.embed(ordered[step : step + EMBED_STEP])
            totals[how] += time.process_time() - started
            say(f"  {how}: {totals[how]:.1f} s CPU so far")
    return {
        "passages": len(texts) * rounds,
        "cpu_whole_s": round(totals["whole"], 2),
        "cpu_steps_s": round(totals["steps"], 2),
        "steps_cost": f"{totals['steps'] / totals['whole'] - 1:+.1%}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--after", type=float, nargs="+", default=[20.0, 30.0, 40.0])
    parser.add_argument("--batches", type=int, default=2, help="batches for the step cost")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        write_corpus(args.corpus, docs, limit=args.records)
        stops = []
        for n, seconds in enumerate(args.after):
            stops.append(stop_after(docs, Path(tmp) / f"data{n}", seconds))
            say(f"Ctrl-C after {seconds} s: {stops[-1]}")
    records = [json.loads(line) for line in args.corpus.open(encoding="utf-8") if line.strip()]
    texts = [r["text"] for r in records[: args.batches * DEFAULT_EMBED_BATCH]]
    cost = step_cost(texts, rounds=2)
    say(f"step cost: {cost}")
    figures = {"load": os.getloadavg()[0], "stops": stops, "step_cost": cost}
    print(json.dumps(figures, indent=2) if args.json else figures)


if __name__ == "__main__":
    main()
