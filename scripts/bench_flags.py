"""What the live faithfulness flags cost on real answers, and what they add to Service.ask.

    python scripts/bench_flags.py ../shared/data [--set squad|pacific] [--questions 200]
                                  [--json]

Questions and passages are bench_judge's: a SQuAD question with its gold paragraph and
the two beside it (PACIFIC: the conversation's paragraphs), shuffled with its seed; the
reported slice (after the tuning one) is used. Two kinds of real answer, each given to
``bot.flags.sentence_flags`` exactly as the service gives it (the ``Answer`` with its
citations and the passages it was shown):

- offline: Parley's offline answerers (offline-sentences, offline-passages) answer each
  question through ``answer_question``, as live;
- hosted-style: a stand-in hosted model writes ~300 words from the sentences of the
  eight passages it is shown (the question's and five of other questions), citing most
  sentences as ``[n]``, some with a number changed; its citations are resolved as a
  hosted answer's are.

Per kind: p50 and p99 of the flags' wall time and of the calling thread's CPU time (the
check is single-threaded Python: CPU time is its cost on a free core), and how many claim
sentences were marked [!] (contradicted), [?] (a number or name the sources never state)
or left unmarked though unverifiable. Targets: offline p99 <= 30 ms, hosted-style p99 <=
100 ms.

End to end: ``Service.ask`` over the same questions (an in-memory store; the search
returns the question's passages), with the flags on and off in one run, question by
question, alternating which goes first: ask latency mean, p50 and p99 for each, their
differences and the median of the per-question differences, and the event loop's lag
while asking (a ticker asks to wake every 10 ms: the flags run in a worker thread, so
the loop should not notice them; the worker threads run below the loop's priority, as
in the bots).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import time
from pathlib import Path

from bench_judge import SEED, pacific_items, squad_items
from bench_service import TICK, ticker
from figures import percentile

from arena.answers import answer_question
from arena.models.base import Completion, Prompt
from arena.roster import Contestant, Roster, build_roster
from arena.store import Store
from arena.types import Answer, ModelSpec, Question
from bot.config import Settings
from bot.flags import sentence_flags
from bot.service import Ask, Service
from knowledge.chunking import split_sentences
from knowledge.threads import worker_pool
from knowledge.types import Hit, Passage

OFFLINE = ("offline-sentences", "offline-passages")
HOSTED_WORDS = 300
SHOWN = 8  # passages a hosted-style answer is shown


def hits_of(group: str, passages: list[str], n: int) -> list[Hit]:
    return [
        Hit(Passage(f"q{n}p{i}", text, f"/bench/{group}/{i}.md", group), 1.0 - i / 100)
        for i, text in enumerate(passages)
    ]


class StandIn:
    """A hosted model's stand-in: ~300 words of the shown passages' sentences, most cited
    with their passage's number, every fifth with a number changed (as models err)."""

    def __init__(self, spec: ModelSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(seed)

    async def complete(self, prompt: Prompt) -> Completion:
        return Completion(self.write(prompt.passages), input_tokens=1500, output_tokens=400)

    def write(self, hits: list[Hit]) -> str:
        sentences = [(n, s) for n, h in enumerate(hits, 1) for s in split_sentences(h.passage.text)]
        out: list[str] = []
        while sum(len(s.split()) for s in out) < HOSTED_WORDS:
            number, sentence = self._rng.choice(sentences)
            if len(out) % 5 == 4:
                sentence = re.sub(r"\d+", lambda m: str(int(m.group()) + 3), sentence, count=1)
            cited = self._rng.random() < 0.8
            out.append(sentence.rstrip(".") + (f" [{number}]." if cited else "."))
        return " ".join(out)


def hosted_roster(seed: int) -> Roster:
    spec = ModelSpec(name="hosted-style", provider="stand-in")
    return Roster(entries=[Contestant(spec, StandIn(spec, seed))])


def timed_flags(answers: list[Answer]) -> dict:
    wall, cpu, checked = [], [], []
    for answer in answers:
        started, started_cpu = time.perf_counter(), time.thread_time()
        flags = sentence_flags(answer)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        checked += flags or []
    marked = [f.support for f in checked if f.flagged]
    return {
        "answers": len(answers),
        "mean_words": round(sum(len(a.text.split()) for a in answers) / len(answers), 1),
        # claim sentences; those marked [!] (contradicted) and [?] (a number or name the
        # sources never state); those unverifiable but unmarked
        "claim_sentences": len(checked),
        "marked_conflicts": marked.count("contradicted"),
        "marked_unstated": marked.count("unverifiable"),
        "unverifiable_unmarked": sum(
            f.support == "unverifiable" and not f.flagged for f in checked
        ),
        "wall_p50": round(percentile(wall, 50), 2),
        "wall_p99": round(percentile(wall, 99), 2),
        "cpu_p50": round(percentile(cpu, 50), 2),
        "cpu_p99": round(percentile(cpu, 99), 2),
    }


async def answers_of(roster: Roster, names: list[str], items) -> list[Answer]:
    out = []
    for n, (group, question, passages, _) in enumerate(items):
        asked = Question(question, hits=hits_of(group, passages, n))
        for name in names:
            out.append(await answer_question(roster.get(name), asked))
    return [a for a in out if a.ok]


def hosted_items(items, rng: random.Random):
    """Each question's passages and five of other questions: eight shown in all."""
    out = []
    for group, question, passages, answer in items:
        others = [p for _, _, ps, _ in rng.sample(items, 5) for p in ps[:1]]
        out.append((group, question, [*passages, *others][:SHOWN], answer))
    return out


async def end_to_end(roster: Roster, model: str, items) -> dict:
    """Ask each question with the flags on and off (alternating which first). The
    passages get a trailing space, so the check prepares them anew (it caches the
    passages it saw last), as it does for a live question's."""
    store = await Store.open(":memory:")
    by_text = {q: hits_of(g, [f"{p} " for p in ps], n) for n, (g, q, ps, _) in enumerate(items)}

    def search(text: str, k: int) -> list[Hit]:
        return by_text[text][:k]

    services = {
        on: Service(
            Settings(top_k=SHOWN, battle_share=0, faithfulness_flags=on),
            search=search,
            roster=roster,
            store=store,
        )
        for on in (True, False)
    }
    latency: dict[bool, list[float]] = {True: [], False: []}
    lags: dict[bool, list[float]] = {True: [], False: []}
    try:
        for n, (_, question, _, _) in enumerate(items):
            for on in (True, False) if n % 2 == 0 else (False, True):
                stop, lag = asyncio.Event(), []
                ticking = asyncio.create_task(ticker(lag, stop))
                await asyncio.sleep(TICK)  # the ticker is waiting before the ask starts
                started = time.perf_counter()
                reply = await services[on].ask(
                    Ask(question, "bench", "bench", None, "bench"), model=model
                )
                latency[on].append((time.perf_counter() - started) * 1000)
                stop.set()
                await ticking
                lags[on] += lag
                shown = reply.answers[0]
                assert (shown.flags is not None) == on or not shown.answer.ok
    finally:
        await store.close()

    def figures(on: bool) -> dict:
        return {
            "ask_mean": round(sum(latency[on]) / len(latency[on]), 2),
            "ask_p50": round(percentile(latency[on], 50), 2),
            "ask_p99": round(percentile(latency[on], 99), 2),
            "loop_lag_p99": round(percentile(lags[on], 99), 2),
        }

    on, off = figures(True), figures(False)
    paired = [a - b for a, b in zip(latency[True], latency[False], strict=True)]
    return {
        "questions": len(items),
        "flags_on": on,
        "flags_off": off,
        "added_mean_ms": round(on["ask_mean"] - off["ask_mean"], 2),
        "added_p50_ms": round(on["ask_p50"] - off["ask_p50"], 2),
        "added_p99_ms": round(on["ask_p99"] - off["ask_p99"], 2),
        # per question, on less off: steadier than the difference of two percentiles
        "added_paired_p50_ms": round(percentile(paired, 50), 2),
    }


async def measure(items) -> dict:
    # worker threads as the bots have them (bot.runtime.serve_service): below the loop
    asyncio.get_running_loop().set_default_executor(worker_pool("bench-work"))
    offline = build_roster([ModelSpec(name=n, provider=n) for n in OFFLINE])
    hosted = hosted_roster(SEED)
    shown = hosted_items(items, random.Random(SEED))
    await answer_question(offline.get(OFFLINE[0]), Question("warm up", hits_of("w", ["x."], 0)))
    return {
        "flags_ms": {
            "offline": timed_flags(await answers_of(offline, list(OFFLINE), items)),
            "hosted_300_words": timed_flags(await answers_of(hosted, ["hosted-style"], shown)),
        },
        "service_ask": {
            "offline": await end_to_end(offline, OFFLINE[0], items),
            "hosted_300_words": await end_to_end(hosted, "hosted-style", shown),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="the shared data folder")
    parser.add_argument("--set", choices=["squad", "pacific"], default="squad")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    items = squad_items(args.data) if args.set == "squad" else pacific_items(args.data)
    random.Random(SEED).shuffle(items)
    start = 500 if args.set == "squad" else 0  # after bench_judge's tuning slice
    items = items[start : start + args.questions]
    result = {"set": args.set, **asyncio.run(measure(items))}
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
