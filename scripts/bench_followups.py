"""Recall@5 of a thread's second question: alone, after the previous one, or fused.

    python scripts/bench_followups.py [--set FILE] [--pacific DIR] [--work DIR]
                                      [--limit N] [--grid] [--json]

Two data sets. The handbook set (``scripts/data/followups_handbook.jsonl``) holds
two-turn conversations over ``examples/handbook``, the second question either
independent of the first or leaning on it, each with the passage that answers it (file
name and a snippet of its text). PACIFIC (``--pacific``, default the shared data folder,
skipped when absent) holds 277 financial-report conversations; every conversation's
table and paragraphs become files of one index, and each later turn (clarification
requests by the bot left out) is searched, its gold being the table and paragraphs it
was answered from. Its standalone rewrite is searched too, as an upper bound.

Each question is searched once per query at the deepest pool any setting needs, and
every method is scored on those same rankings. ``--grid`` scores the fusion settings
around the shipped constants, for tuning on the handbook and confirming on PACIFIC.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arena.types import Turn
from bot.config import DEFAULT_TOP_K
from bot.followup import ALONE_WEIGHT, POOL, followup_search, fuse_rankings, thread_query
from knowledge.base import KnowledgeBase
from knowledge.types import Hit

ROOT = Path(__file__).resolve().parents[1]
HANDBOOK = ROOT / "examples" / "handbook"
DEFAULT_SET = ROOT / "scripts" / "data" / "followups_handbook.jsonl"
DEFAULT_PACIFIC = ROOT / ".." / "shared" / "data" / "pacific"
K = DEFAULT_TOP_K  # passages the service hands the answerers
WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
RANK_KS = (1, 10, 60)
POOLS = (1, 2, 3, 4)
DEPTH = max(*POOLS, POOL) * K  # deepest pool searched; shallower pools are its prefixes

Method = Callable[["Scored"], list[Hit]]


@dataclass
class Scored:
    """One evaluated turn: its rankings under each query, and a test per gold item."""

    group: str
    alone: list[Hit]
    joined: list[Hit]
    rewrite: list[Hit] | None
    gold: list[Callable[[Hit], bool]]


def recall(hits: Sequence[Hit], gold: list[Callable[[Hit], bool]]) -> float:
    """Share of the gold items with at least one passage among the first K hits."""
    return sum(any(g(h) for h in hits[:K]) for g in gold) / len(gold)


def hit_at_1(hits: Sequence[Hit], gold: list[Callable[[Hit], bool]]) -> float:
    return float(bool(hits) and any(g(hits[0]) for g in gold))


def score_sum(weight: float, pool: int) -> Method:
    """What ``followup_search`` does, with other constants."""
    depth = pool * K
    return lambda t: fuse_rankings(t.alone[:depth], t.joined[:depth], K, alone_weight=weight)


def rrf(weight: float, rank_k: int, pool: int) -> Method:
    """Weighted reciprocal rank fusion, the scale-free alternative, for comparison."""

    def fused(t: Scored) -> list[Hit]:
        scores: dict[str, float] = {}
        hits: dict[str, Hit] = {}
        for ranking, share in ((t.alone, weight), (t.joined, 1.0 - weight)):
            for rank, hit in enumerate(ranking[: pool * K], 1):
                scores[hit.passage.id] = scores.get(hit.passage.id, 0.0) + share / (rank_k + rank)
                hits.setdefault(hit.passage.id, hit)
        return [hits[i] for i in sorted(scores, key=scores.__getitem__, reverse=True)[:K]]

    return fused


def old_rule(t: Scored) -> list[Hit]:
    return t.joined[:K]


FUSED = score_sum(ALONE_WEIGHT, POOL)


def methods(grid: bool) -> dict[str, Method]:
    found: dict[str, Method] = {
        "question alone": lambda t: t.alone[:K],
        "previous + question (old rule)": old_rule,
        f"fused (w={ALONE_WEIGHT}, pool {POOL}k)": FUSED,
        "standalone rewrite (upper bound)": lambda t: t.rewrite[:K] if t.rewrite else [],
    }
    if grid:
        for pool in POOLS:
            for weight in WEIGHTS:
                for rank_k in RANK_KS:
                    found[f"rrf w={weight} k={rank_k} pool={pool}k"] = rrf(weight, rank_k, pool)
                found[f"score-sum w={weight} pool={pool}k"] = score_sum(weight, pool)
    return found


def score(turns: list[Scored], grid: bool) -> dict[str, dict[str, dict[str, float]]]:
    """{method: {group: {recall@5, hit@1, n}}}, groups plus "all"."""
    groups = [*sorted({t.group for t in turns}), "all"]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for name, method in methods(grid).items():
        if name.startswith("standalone") and turns[0].rewrite is None:
            continue
        ranked = [(t, method(t)) for t in turns]
        out[name] = {}
        for group in groups:
            rows = [(t, hits) for t, hits in ranked if group in (t.group, "all")]
            out[name][group] = {
                "recall@5": float(np.mean([recall(h, t.gold) for t, h in rows])),
                "hit@1": float(np.mean([hit_at_1(h, t.gold) for t, h in rows])),
                "n": len(rows),
            }
    return out


def paired(turns: list[Scored]) -> dict[str, int]:
    """Turns the fusion does better or worse on than the old rule, by each measure."""
    out = {}
    for measure in (recall, hit_at_1):
        change = [measure(FUSED(t), t.gold) - measure(old_rule(t), t.gold) for t in turns]
        name = "recall@5" if measure is recall else "hit@1"
        out[f"{name} better"] = sum(c > 0 for c in change)
        out[f"{name} worse"] = sum(c < 0 for c in change)
    return out


def latency(kb: KnowledgeBase, conversations: list[dict]) -> dict[str, float]:
    """Median milliseconds of one threaded question: the old single search, the fusion."""
    timed: dict[str, list[float]] = {"old rule": [], "fused": []}
    for c in conversations:
        history = [Turn("user", c["first"]), Turn("assistant", "An answer.")]
        for name, run in (
            ("old rule", lambda c=c: kb.search(thread_query(c["second"], c["first"]), K)),
            ("fused", lambda c=c, h=history: followup_search(kb.search, c["second"], h, K)),
        ):
            start = time.perf_counter()
            run()
            timed[name].append((time.perf_counter() - start) * 1000)
    return {f"{name} p50 ms": float(np.median(ms)) for name, ms in timed.items()}


def read_jsonl(path: Path) -> Iterable[dict]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: not JSON ({exc.msg})") from exc


def passage_test(file: str, contains: str) -> Callable[[Hit], bool]:
    return lambda h: Path(h.passage.source).name == file and contains in h.passage.text


def handbook_turns(kb: KnowledgeBase, conversations: list[dict]) -> list[Scored]:
    turns = []
    for c in conversations:
        gold = [passage_test(g["file"], g["contains"]) for g in c["gold"]]
        for g, test in zip(c["gold"], gold, strict=True):  # a handbook edit must not go unseen
            if not any(test(h) for h in kb.search(g["contains"], 50)):
                raise SystemExit(f"gold passage not in the handbook index: {g}")
        turns.append(
            Scored(
                group="dependent" if c["dependent"] else "independent",
                alone=kb.search(c["second"], DEPTH),
                joined=kb.search(thread_query(c["second"], c["first"]), DEPTH),
                rewrite=None,
                gold=gold,
            )
        )
    return turns


def write_pacific(conversations: list[dict], folder: Path) -> None:
    """Each conversation's table (one line a row) and paragraphs as files of one index."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, c in enumerate(conversations):
        rows = [" | ".join(cell.strip() for cell in row) for row in c["table"]["table"]]
        files = {f"{n:03d}-table.txt": "\n".join(rows)}
        files |= {f"{n:03d}-p{p['order']}.txt": p["text"] for p in c["paragraphs"]}
        for name, text in files.items():
            path = folder / name
            if not path.exists() or path.read_text(encoding="utf-8") != text + "\n":
                path.write_text(text + "\n", encoding="utf-8")


def pacific_group(question: dict) -> str:
    if question["follow_up"]:
        return "follow-up"
    return "independent" if question["question"] == question["original_question"] else "rewritten"


def pacific_turns(kb: KnowledgeBase, conversations: list[dict], limit: int | None) -> list[Scored]:
    turns = []
    for n, c in enumerate(conversations[:limit]):
        questions = c["questions"]
        for before, q in itertools.pairwise(questions):
            if q["answer_type"] == "question":  # the bot asking back, not a user's turn
                continue
            names = [f"{n:03d}-p{p}.txt" for p in q["rel_paragraphs"]]
            if q["answer_from"] in ("table", "table-text"):
                names.append(f"{n:03d}-table.txt")
            if not names:
                continue
            turns.append(
                Scored(
                    group=pacific_group(q),
                    alone=kb.search(q["question"], DEPTH),
                    joined=kb.search(thread_query(q["question"], before["question"]), DEPTH),
                    rewrite=kb.search(q["original_question"], DEPTH),
                    gold=[(lambda h, f=f: Path(h.passage.source).name == f) for f in names],
                )
            )
    return turns


def print_table(title: str, results: dict[str, dict[str, dict[str, float]]]) -> None:
    first = next(iter(results.values()))
    print(f"\n{title}")
    header = "".join(f"{g} (n={first[g]['n']:.0f})".rjust(26) for g in first)
    groups = list(first)
    print(f"{'method':46}{header}")
    print(f"{'':46}" + "".join(f"{'recall@5':>14}{'hit@1':>12}" for _ in groups))
    for name, row in results.items():
        cells = "".join(f"{row[g]['recall@5']:>14.3f}{row[g]['hit@1']:>12.3f}" for g in groups)
        print(f"{name:46}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="handbook conversations")
    parser.add_argument("--pacific", type=Path, default=DEFAULT_PACIFIC, help="PACIFIC folder")
    parser.add_argument(
        "--work", type=Path, default=Path("/tmp/parley-bench-followups"), help="index dir"
    )
    parser.add_argument("--limit", type=int, help="only the first N PACIFIC conversations")
    parser.add_argument("--grid", action="store_true", help="also score fusion settings")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    report: dict[str, object] = {}
    start = time.perf_counter()
    with KnowledgeBase.open(args.work / "handbook") as kb:
        kb.index([HANDBOOK])
        conversations = list(read_jsonl(args.set))
        turns = handbook_turns(kb, conversations)  # also warms the model up
        report["handbook"] = score(turns, args.grid)
        report["handbook paired"] = paired(turns)
        report["handbook latency"] = latency(kb, conversations)
    data = args.pacific / "validation.json"
    if data.exists():
        conversations = json.loads(data.read_text(encoding="utf-8"))
        write_pacific(conversations, args.work / "pacific-docs")
        with KnowledgeBase.open(args.work / "pacific") as kb:
            kb.index([args.work / "pacific-docs"])
            turns = pacific_turns(kb, conversations, args.limit)
            report["pacific"] = score(turns, args.grid)
            report["pacific paired"] = paired(turns)
    else:
        print(f"PACIFIC not found at {args.pacific}; handbook only", file=sys.stderr)
    report["seconds"] = round(time.perf_counter() - start, 1)

    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for name in ("handbook", "pacific"):
        if name in report:
            print_table(name, report[name])  # type: ignore[arg-type]
            print(f"fused against the old rule, turns: {report[f'{name} paired']}")
    print(f"\nlatency on the handbook: {report['handbook latency']}")
    print(f"\n{report['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
