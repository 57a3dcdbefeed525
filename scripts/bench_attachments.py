"""An attached document's search: every passage embedded, or only BM25's candidates.

    python scripts/bench_attachments.py [--squad DIR] [--articles N] [--questions N] [--json]

A long document attached to a question is searched in memory (``knowledge.memory_index``).
Embedding every passage costs seconds on a small machine, so past ``DENSE_POOL`` passages
only the BM25 candidates are embedded. This measures what that costs in answers and
saves in time, on SQuAD v1.1 dev (the shared data folder; skipped when absent): each
attached "document" is ``--articles`` Wikipedia articles in one Markdown file (read and
chunked as an attachment is), each question is searched for its best ``K`` = 4
passages (the places attached passages took when this was first measured; they now
compete with the knowledge base's for all ``top_k``), and a question counts as found
when one of those passages holds one of its answers. For each method: that share,
the texts embedded, and the seconds spent searching (the real MiniLM; the cold first
question of each document, which embeds its candidates, and the mean of the rest).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import knowledge.memory_index as memory_index
from bot.attachments import _Remembering
from knowledge.chunking import chunk_document
from knowledge.embed import default_embedder
from knowledge.loaders import load_bytes
from knowledge.types import ATTACHED

SQUAD = Path("/work/shared/data/squad-v1.1-dev")
K = 4  # passages a question is searched for
METHODS = {  # how many passages a question may embed (None: lexical alone)
    "bm25 candidates (shipped)": memory_index.DENSE_POOL,
    "every passage": 10**9,
    "lexical alone": None,
}


def documents(folder: Path, articles: int, questions: int, seed: int = 7):
    """(markdown, [(question, answers)]) per group of ``articles`` articles."""
    paragraphs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for line in (folder / "corpus.jsonl").open():
        row = json.loads(line)
        paragraphs[row["title"]].append((row["_id"], row["text"]))
    asked = {
        json.loads(line)["_id"]: json.loads(line) for line in (folder / "queries.jsonl").open()
    }
    of_paragraph: dict[str, list[str]] = defaultdict(list)
    for line in list((folder / "qrels" / "test.tsv").open())[1:]:
        query, paragraph, _ = line.split("\t")
        of_paragraph[paragraph].append(query)
    rng = random.Random(seed)
    titles = sorted(paragraphs)
    for start in range(0, len(titles) - articles + 1, articles):
        group = titles[start : start + articles]
        text = "\n\n".join(
            f"# {title.replace('_', ' ')}\n\n" + "\n\n".join(t for _, t in paragraphs[title])
            for title in group
        )
        cases = []
        for title in group:
            ids = [q for pid, _ in paragraphs[title] for q in of_paragraph[pid]]
            for query in rng.sample(ids, min(questions, len(ids))):
                cases.append((asked[query]["text"], asked[query]["answers"]))
        yield text, cases


def run(folder: Path, articles: int, questions: int) -> dict:
    embedder = default_embedder()
    results = {
        name: {"found": 0, "asked": 0, "embedded": 0, "cold": [], "warm": []} for name in METHODS
    }
    for n, (text, cases) in enumerate(documents(folder, articles, questions)):
        name = f"doc{n}.md"
        document = load_bytes(text.encode(), name, f"{ATTACHED}{name}")
        passages = chunk_document(document)
        for method, pool in METHODS.items():
            counted = _Counting(embedder)
            cached = _Remembering(counted)  # cold for each method and document, as a bot's
            memory_index.DENSE_POOL = pool or memory_index.DENSE_POOL
            index = memory_index.MemoryIndex(passages, cached)
            row = results[method]
            for i, (question, answers) in enumerate(cases):
                began = time.perf_counter()
                hits = index.search(question, K, "lexical" if pool is None else "hybrid")
                (row["cold"] if i == 0 else row["warm"]).append(time.perf_counter() - began)
                row["asked"] += 1
                row["found"] += any(a in h.passage.text for h in hits for a in answers)
            row["embedded"] += counted.texts
            index.close()
        memory_index.DENSE_POOL = METHODS["bm25 candidates (shipped)"]
        print(f"document {n}: {len(passages)} passages, {len(cases)} questions", file=sys.stderr)
    return {
        method: {
            "answer_in_top_k": round(r["found"] / r["asked"], 3),
            "questions": r["asked"],
            "texts_embedded": r["embedded"],
            "first_question_s": round(sum(r["cold"]) / len(r["cold"]), 2),
            "later_question_s": round(sum(r["warm"]) / len(r["warm"]), 3),
        }
        for method, r in results.items()
    }


class _Counting:
    """Counts the texts really embedded (below the cache: its misses)."""

    def __init__(self, embedder) -> None:
        self.name, self.dim = embedder.name, embedder.dim
        self._embedder = embedder
        self.texts = 0

    def embed(self, texts):
        self.texts += len(texts)
        return self._embedder.embed(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--articles", type=int, default=4, help="articles in one document")
    parser.add_argument("--questions", type=int, default=10, help="questions per article")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (args.squad / "corpus.jsonl").is_file():
        print(f"skipped: no SQuAD at {args.squad}", file=sys.stderr)
        return
    figures = run(args.squad, args.articles, args.questions)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"k = {K} attached passages a question")
    for method, row in figures.items():
        print(f"{method:28} {json.dumps(row)}")


if __name__ == "__main__":
    main()
