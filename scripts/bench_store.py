"""The arena's store on SQLite and on PostgreSQL, side by side in one run.

    python scripts/bench_store.py votes [--postgresql URL] [--voters 200] [--votes-each 250]
                                        [--battles 2000] [--history 0]
    python scripts/bench_store.py board --data-dir D [--postgresql URL] [--runs 5]

``votes``: the load of ``bench_votes.py`` (concurrent voters through the live vote path,
then every acknowledged vote checked against the votes table and the pair counts) on a
new SQLite file, then on an empty PostgreSQL schema. Target: never below 2,000 votes/s
on PostgreSQL.

``board``: ``D`` is a data directory filled by ``simulate_votes.py`` (e.g. 1,000,000
battles among 200 models). Its arena is copied into an empty PostgreSQL schema with
``arena.transfer.copy_arena``, what ``parley db migrate --to URL`` does (timed, counts
checked), each Elo cache is filled as a running bot fills it, then whole ``parley
leaderboard`` processes are timed, alternating between the file and the server
(``PARLEY_DATABASE_URL``), and the board's stages in this process. Target: PostgreSQL
within 2x of SQLite.

Without ``--postgresql`` a throw-away cluster is started on loopback (tests/postgres.py)
with PostgreSQL's durable defaults (fsync and synchronous_commit on), so a vote is on
disk when it is acknowledged, as SQLite's WAL has it on the file. Each measurement uses
a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_leaderboard import fill_elo_cache
from bench_votes import options as vote_options
from bench_votes import report, run_votes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextmanager
def server(url: str | None) -> Iterator[str]:
    """The given server's URL, or a throw-away durable cluster's."""
    if url:
        yield url
        return
    from tests.postgres import throwaway_cluster

    with throwaway_cluster(durable=True) as cluster:
        yield cluster.url()


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """A URL to a new empty schema on the server at ``url``, dropped afterwards."""
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


async def votes(args: argparse.Namespace) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = await run_votes(Path(folder) / "parley.db", args)
    with server(args.postgresql) as url, fresh_schema(url) as schema:
        results["postgresql"] = await run_votes(schema, args)
    print(f"load average {os.getloadavg()}")
    for engine, figures in results.items():
        print(f"--- {engine}")
        if not report(figures):
            raise SystemExit("vote integrity check FAILED")


def timed_process(env: dict[str, str]) -> float:
    """Seconds for one ``parley leaderboard`` process, output discarded."""
    import subprocess

    command = [sys.executable, "-c", "from bot.cli import main; main()", "leaderboard"]
    started = time.perf_counter()
    subprocess.run(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - started


async def stages(target: str) -> dict[str, float]:
    """Opening the store, the counts and Elo read, and the whole board, in this process."""
    from arena.leaderboard import build_board
    from arena.store import Store

    t0 = time.perf_counter()
    store = await Store.open(target, read_only=True)
    try:
        t1 = time.perf_counter()
        await store.pair_counts()
        await store.thumb_counts()
        await store.elo_ratings()
        await store.left_out_counts()
        t2 = time.perf_counter()
        await build_board(store)
        t3 = time.perf_counter()
    finally:
        await store.close()
    return {"open_s": t1 - t0, "read_s": t2 - t1, "board_s": t3 - t2}


async def board(args: argparse.Namespace) -> None:
    from arena.transfer import copy_arena

    database = args.data_dir / "parley.db"
    if not database.is_file():
        raise SystemExit(f"no database in {args.data_dir}: run scripts/simulate_votes.py first")
    with server(args.postgresql) as url, fresh_schema(url) as schema:
        started = time.perf_counter()
        copied = await copy_arena(database, schema)
        copy_s = time.perf_counter() - started
        targets = {"sqlite": str(database), "postgresql": schema}
        elo = {name: await fill_elo_cache(target) for name, target in targets.items()}
        with tempfile.TemporaryDirectory() as empty:
            envs = {
                "sqlite": {"PARLEY_DATA_DIR": str(args.data_dir), "PARLEY_DATABASE_URL": ""},
                "postgresql": {"PARLEY_DATA_DIR": empty, "PARLEY_DATABASE_URL": schema},
            }
            for env in envs.values():  # one untimed run each: the files in the page cache
                timed_process(env)
            runs: dict[str, list[float]] = {name: [] for name in envs}
            for _ in range(args.runs):
                for name, env in envs.items():
                    runs[name].append(timed_process(env))
        inside = {name: await stages(target) for name, target in targets.items()}
    print(f"load average {os.getloadavg()}")
    print(
        f"copied {copied.rows['votes']:,} votes ({sum(copied.rows.values()):,} rows in"
        f" {len(copied.rows)} tables, counts checked) from SQLite to PostgreSQL in {copy_s:.1f} s"
    )
    for name in envs:
        times = runs[name]
        s = inside[name]
        print(
            f"{name:10} parley leaderboard median {statistics.median(times):.3f} s (min"
            f" {min(times):.3f}, max {max(times):.3f}, {args.runs} runs); Elo cache filled in"
            f" {elo[name]:.1f} s; in process: open {s['open_s']:.3f} s, counts and Elo"
            f" {s['read_s']:.3f} s, board {s['board_s']:.3f} s"
        )
    ratio = statistics.median(runs["postgresql"]) / statistics.median(runs["sqlite"])
    print(f"PostgreSQL / SQLite, whole process: {ratio:.2f}x (target: within 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (commands.add_parser("votes"), commands.add_parser("board")):
        command.add_argument("--postgresql", help="a server to use instead of a throw-away one")
    vote_options(commands.choices["votes"])
    commands.choices["board"].add_argument("--data-dir", type=Path, required=True)
    commands.choices["board"].add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(votes(args) if args.command == "votes" else board(args))


if __name__ == "__main__":
    main()
