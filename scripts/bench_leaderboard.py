"""The whole ``parley leaderboard`` process on a large database, timed from the shell.

    PARLEY_DATA_DIR=/tmp/lb200 python scripts/simulate_votes.py --models 200 --votes 1000000
    python scripts/bench_leaderboard.py --data-dir /tmp/lb200 [--before DIR] [--runs 7]
        [--args "--style"] [--json]

Each run is a fresh ``python -c "from bot.cli import main; main()" --data-dir D
leaderboard`` with its output thrown away, so it counts what a user waits for: the
interpreter, the imports, reading the counts, the fit, the intervals and the table. With
``--before DIR`` (an unpacked older tree, e.g. ``git archive <commit> | tar -x -C DIR``)
the same command runs from that tree too, alternating run by run so both see the same
machine. Also timed: the interpreter alone (what the machine's load does to a process
that does nothing), importing ``bot.cli`` alone, and in this process the board's stages
(counts and Elo from the store, fit and intervals, the table). The online Elo is cached
in the database by the first board a writable process builds, as the running bot does;
the script warms that cache first, since a read-only report cannot write it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed_process(tree: Path, command: list[str]) -> float:
    """Seconds for one process run from ``tree``'s sources, output discarded."""
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "100"}
    started = time.perf_counter()
    subprocess.run(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


async def warm_elo_cache(data_dir: Path) -> float:
    """Seconds to fill the cached online Elo (instant when it is already there)."""
    from arena.store import Store

    store = await Store.open(data_dir / "parley.db")
    try:
        started = time.perf_counter()
        await store.elo_ratings()
        return time.perf_counter() - started
    finally:
        await store.close()


async def stages(data_dir: Path, extra: list[str]) -> dict[str, float]:
    """The board built in this process, stage by stage (imports already paid)."""
    from arena.leaderboard import build_board
    from arena.store import Store
    from bot.cli.leaderboard_table import board_table

    t0 = time.perf_counter()
    store = await Store.open(data_dir / "parley.db", read_only=True)
    try:
        counts = await store.pair_counts()
        await store.thumb_counts()
        await store.elo_ratings()
        await store.left_out_counts()
        t1 = time.perf_counter()
        intervals = "bootstrap" if "bootstrap" in extra else "sandwich"
        board = await build_board(store, intervals=intervals, style="--style" in extra)
        t2 = time.perf_counter()
    finally:
        await store.close()
    board_table(board, width=100, style="--style" in extra)
    t3 = time.perf_counter()
    return {
        "pairs": len(counts),
        "read_s": t1 - t0,
        "board_s": t2 - t1,  # reads again, then the fit and intervals in a worker thread
        "table_s": t3 - t2,
    }


def summary(times: list[float]) -> dict[str, float]:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--before", type=Path, help="an older source tree to run beside")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--args", default="", help="extra leaderboard options, quoted")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.data_dir / "parley.db").is_file():
        parser.error(f"no database in {args.data_dir}: run scripts/simulate_votes.py first")
    sys.path.insert(0, str(ROOT))
    extra = shlex.split(args.args)
    leaderboard = [sys.executable, "-c", "from bot.cli import main; main()"]
    leaderboard += ["--data-dir", str(args.data_dir), "leaderboard", *extra]
    imports = [sys.executable, "-c", "import bot.cli"]
    bare = [sys.executable, "-c", "pass"]
    trees = {"now": ROOT} | ({"before": args.before} if args.before else {})
    elo_s = asyncio.run(warm_elo_cache(args.data_dir))
    for tree in trees.values():  # one untimed run each: the files in the page cache
        timed_process(tree, leaderboard)
    runs: dict[str, list[float]] = {name: [] for name in trees}
    import_runs: dict[str, list[float]] = {name: [] for name in trees}
    bare_runs: list[float] = []
    for _ in range(args.runs):
        for name, tree in trees.items():
            runs[name].append(timed_process(tree, leaderboard))
            import_runs[name].append(timed_process(tree, imports))
        bare_runs.append(timed_process(ROOT, bare))
    figures = {
        "command": shlex.join(["parley", "leaderboard", *extra]),
        "elo_cache_fill_s": elo_s,
        "load_average": os.getloadavg(),
        "interpreter_alone": summary(bare_runs),
        **{
            name: {
                "process": summary(runs[name]),
                "import_bot_cli": summary(import_runs[name]),
                "runs_s": runs[name],
            }
            for name in trees
        },
        "stages_now": asyncio.run(stages(args.data_dir, extra)),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['command']}, {args.runs} runs each, load {figures['load_average']}")
    print(f"interpreter alone (python -c pass): {figures['interpreter_alone']['median_s']:.3f} s")
    for name in trees:
        p, i = figures[name]["process"], figures[name]["import_bot_cli"]
        print(
            f"{name:7} process median {p['median_s']:.3f} s (min {p['min_s']:.3f}, max"
            f" {p['max_s']:.3f}); importing bot.cli {i['median_s']:.3f} s"
        )
    s = figures["stages_now"]
    print(
        f"now, in process: {s['pairs']} pairs read with thumbs, Elo and left-out votes in"
        f" {s['read_s']:.3f} s; board {s['board_s']:.3f} s; table {s['table_s']:.3f} s"
    )


if __name__ == "__main__":
    main()
