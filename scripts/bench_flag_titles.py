"""How many sentences of the offline answers the live flags mark with and without the
passages' titles and headings, on the same answers in one run.

    python scripts/bench_flag_titles.py ../shared/data [--set squad|pacific] [--questions 200]

``bench_flags.py``'s offline half: its questions (bench_judge's reported slice), its
answers (``answers_of``, both offline answerers) and its counts (``timed_flags``), with
the flags computed twice: each passage's text alone, as before, and with its title and
place above it (``Passage.as_shown``), as ``bot.flags`` now holds them. Every mark on an
offline answer is a false alarm: it quotes its passages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from pathlib import Path

import bench_flags
from bench_judge import SEED, pacific_items, squad_items

from arena.roster import build_roster
from arena.types import ModelSpec
from knowledge.types import Passage


def marks(answers, *, titled: bool) -> dict:
    """``timed_flags`` with the passages' titles and places shown to the check or not."""
    shown = Passage.as_shown
    if not titled:
        Passage.as_shown = lambda passage: passage.text  # type: ignore[method-assign]
    try:
        return bench_flags.timed_flags(answers)
    finally:
        Passage.as_shown = shown  # type: ignore[method-assign]


async def measure(items) -> dict:
    names = list(bench_flags.OFFLINE)
    offline = build_roster([ModelSpec(name=n, provider=n) for n in names])
    answers = await bench_flags.answers_of(offline, names, items)
    groups = {"all": answers, **{n: [a for a in answers if a.model == n] for n in names}}
    return {
        name: {"text_alone": marks(group, titled=False), "titled": marks(group, titled=True)}
        for name, group in groups.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="the shared data folder")
    parser.add_argument("--set", choices=["squad", "pacific"], default="squad")
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    items = squad_items(args.data) if args.set == "squad" else pacific_items(args.data)
    random.Random(SEED).shuffle(items)
    start = 500 if args.set == "squad" else 0  # after bench_judge's tuning slice
    items = items[start : start + args.questions]
    print(json.dumps({"set": args.set, **asyncio.run(measure(items))}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
