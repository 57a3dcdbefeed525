"""The whole ``parley leaderboard`` process on a large database, timed from the shell.

    PARLEY_DATA_DIR=/tmp/lb200 python scripts/simulate_votes.py --models 200 --votes 1000000
    python scripts/bench_leaderboard.py --data-dir /tmp/lb200 [--before DIR] [--runs 7]
        [--args "--style"] [--cold] [--json]

Each run is a fresh ``python -c "from bot.cli import main; main()" --data-dir D
leaderboard`` with its output thrown away, so it counts what a user waits for: the
interpreter, the imports, reading the counts, the fit, the intervals and the table. With
``--before DIR`` (an unpacked older tree, e.g. ``git archive <commit> | tar -x -C DIR``)
the same command runs from that tree too, alternating run by run so both see the same
machine. Each run's wall time and CPU time (user + system, all threads) are recorded:
on a machine shared with other jobs the wall time grows with the load, the CPU time
much less. Also timed: the interpreter alone (what the load does to a process that does
nothing), importing the modules a leaderboard uses (``bot.cli.votes``, ``bot.runtime``,
``bot.cli.leaderboard_table``), and in this process the board's stages (counts and Elo
from the store, fit and intervals, the table).

Processes run as an installed Parley does, from compiled bytecode: the script keeps
it in a temporary ``PYTHONPYCACHEPREFIX`` (and drops ``PYTHONDONTWRITEBYTECODE``), and
an untimed first run per tree compiles it. The online Elo is cached in the database by
the first board a writable process builds, as the running bot and every writable
report do; the script fills that cache first. With ``--cold`` it empties the cache
before every run instead, so each run replays every vote: what a report pays on a copy
it cannot write (a read-only mount), or the first report after an import.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed_process(tree: Path, command: list[str], bytecode: Path) -> tuple[float, float]:
    """Wall and CPU seconds for one process run from ``tree``'s sources, output
    discarded, its compiled bytecode kept under ``bytecode``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(tree), "COLUMNS": "100", "PYTHONPYCACHEPREFIX": str(bytecode)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def empty_elo_cache(database: Path) -> None:
    """Forget the cached online Elo of an SQLite arena, so the next board replays every
    vote."""
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM elo_cache")


async def fill_elo_cache(target: str | Path) -> float:
    """Seconds to fill the cached online Elo of an arena (a file or a database URL), as
    the first board a bot shows does (instant when it is already there)."""
    from arena.store import Store

    store = await Store.open(target)
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


def runs_summary(runs: list[tuple[float, float]]) -> dict[str, dict[str, float]]:
    return {"wall": summary([w for w, _ in runs]), "cpu": summary([c for _, c in runs])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--before", type=Path, help="an older source tree to run beside")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--args", default="", help="extra leaderboard options, quoted")
    parser.add_argument("--cold", action="store_true", help="empty the Elo cache before each run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.data_dir / "parley.db").is_file():
        parser.error(f"no database in {args.data_dir}: run scripts/simulate_votes.py first")
    sys.path.insert(0, str(ROOT))
    extra = shlex.split(args.args)
    leaderboard = [sys.executable, "-c", "from bot.cli import main; main()"]
    leaderboard += ["--data-dir", str(args.data_dir), "leaderboard", *extra]
    imports = [sys.executable, "-c", "import bot.cli.votes, bot.runtime, bot.cli.leaderboard_table"]
    bare = [sys.executable, "-c", "pass"]
    trees = {"now": ROOT} | ({"before": args.before} if args.before else {})
    database = args.data_dir / "parley.db"
    elo_s = asyncio.run(fill_elo_cache(database))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="parley-bytecode-") as folder:
        bytecode = {name: Path(folder) / name for name in trees}
        for name, tree in trees.items():  # untimed: compiles, and the files in the page cache
            timed_process(tree, leaderboard, bytecode[name])
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        import_runs: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        bare_runs: list[tuple[float, float]] = []
        for _ in range(args.runs):
            for name, tree in trees.items():
                if args.cold:
                    empty_elo_cache(database)
                runs[name].append(timed_process(tree, leaderboard, bytecode[name]))
                import_runs[name].append(timed_process(tree, imports, bytecode[name]))
            bare_runs.append(timed_process(ROOT, bare, bytecode["now"]))
    if args.cold:  # a run fills the cache when it can write: the stages replay too
        empty_elo_cache(database)
    figures = {
        "command": shlex.join(["parley", "leaderboard", *extra]),
        "elo_cache": "emptied before each run" if args.cold else "filled first",
        "elo_cache_fill_s": elo_s,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "interpreter_alone": runs_summary(bare_runs),
        **{
            name: {
                "process": runs_summary(runs[name]),
                "imports": runs_summary(import_runs[name]),
                "runs_wall_cpu_s": runs[name],
            }
            for name in trees
        },
        "stages_now": asyncio.run(stages(args.data_dir, extra)),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    load = figures["load_average"]
    print(
        f"{figures['command']}, {args.runs} runs each, Elo cache {figures['elo_cache']},"
        f" load {load['before'][0]:.1f} -> {load['after'][0]:.1f}"
    )
    bare_s = figures["interpreter_alone"]
    print(
        f"interpreter alone (python -c pass): {bare_s['wall']['median_s']:.3f} s"
        f" (CPU {bare_s['cpu']['median_s']:.3f} s)"
    )
    for name in trees:
        p, i = figures[name]["process"], figures[name]["imports"]
        print(
            f"{name:7} process median {p['wall']['median_s']:.3f} s (min"
            f" {p['wall']['min_s']:.3f}, max {p['wall']['max_s']:.3f}; CPU"
            f" {p['cpu']['median_s']:.3f} s); its imports {i['wall']['median_s']:.3f} s"
            f" (CPU {i['cpu']['median_s']:.3f} s)"
        )
    s = figures["stages_now"]
    print(
        f"now, in process: {s['pairs']} pairs read with thumbs, Elo and left-out votes in"
        f" {s['read_s']:.3f} s; board {s['board_s']:.3f} s; table {s['table_s']:.3f} s"
    )


if __name__ == "__main__":
    main()
