"""The two references ``bench_ratings.py`` times Parley against, on the same battles.

The FastChat-method reference follows the method FastChat published for Chatbot Arena
(written here from its description): every battle row loaded into pandas, grouped into
unique (model_a, model_b, winner) rows with counts, ties as half a win for each side, a
logistic Bradley-Terry fit by L-BFGS, and bootstrap rounds that resample those counts
multinomially and refit from scratch, spread over a process pool of all cores as
FastChat does. arena-rank (LMArena's package, which pins jax and numpy) runs in its own
environment, reached through its interpreter; its sandwich intervals are timed from
reading the database.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

__all__ = ["arena_rank", "make_arena_rank_venv", "reference"]

BATTLES_QUERY = (
    "SELECT qa.model AS model_a, qb.model AS model_b, v.choice AS winner FROM votes v"
    " JOIN battles b ON b.id = v.battle_id JOIN answers qa ON qa.id = b.answer_a"
    " JOIN answers qb ON qb.id = b.answer_b"
)

# Runs inside arena-rank's own environment: read the battles, fit, sandwich intervals.
ARENA_RANK_WORKER = """
import json, sqlite3, sys, time
started = time.perf_counter()
import pandas as pd
from arena_rank.models.bradley_terry import BradleyTerry
from arena_rank.utils.data_utils import PairDataset
imported = time.perf_counter()
with sqlite3.connect(sys.argv[1]) as con:
    battles = pd.read_sql_query(sys.argv[2], con)
names = {"a": "model_a", "b": "model_b", "tie": "tie", "both_bad": "both_bad"}
battles["winner"] = battles["winner"].map(names)
loaded = time.perf_counter()
dataset = PairDataset.from_pandas(battles)
model = BradleyTerry(n_competitors=len(dataset.competitors))
result = model.compute_ratings_and_cis(dataset, ci_method="sandwich")
fitted = time.perf_counter()
print(json.dumps({
    "models": list(result["competitors"]),
    "ratings": [float(x) for x in result["ratings"]],
    "lower": [float(x) for x in result["rating_lower"]],
    "upper": [float(x) for x in result["rating_upper"]],
    "import_s": imported - started, "load_s": loaded - imported, "fit_s": fitted - loaded,
}))
"""


def reference_load(db: Path) -> pd.DataFrame:
    """Every battle as a row (model_a, model_b, winner), as FastChat starts from."""

    with closing(sqlite3.connect(db)) as con:
        return pd.read_sql_query(BATTLES_QUERY, con)


def reference_preprocess(
    battles: pd.DataFrame,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Unique matchups with counts; outcome 1.0 (A wins), 0.0 (B wins), 0.5 (tie).

    A tie at outcome 0.5 is the same likelihood as FastChat's duplicated rows (one win
    for each side at half weight)."""
    models = sorted(set(battles["model_a"]) | set(battles["model_b"]))
    index = {m: n for n, m in enumerate(models)}
    battles = battles.assign(
        outcome=battles["winner"].map({"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5})
    )
    grouped = battles.groupby(["model_a", "model_b", "outcome"]).size().reset_index(name="n")
    matchups = np.column_stack(
        [grouped["model_a"].map(index).to_numpy(), grouped["model_b"].map(index).to_numpy()]
    )
    return models, matchups, grouped["outcome"].to_numpy(), grouped["n"].to_numpy(float)


def reference_fit(
    matchups: np.ndarray,
    outcomes: np.ndarray,
    weights: np.ndarray,
    n_models: int,
    base: float = 10.0,
    scale: float = 400.0,
    init: float = 1000.0,
) -> np.ndarray:
    """Logistic Bradley-Terry by L-BFGS on weighted rows, ratings in Elo units."""
    alpha = math.log(base)

    def loss(ratings: np.ndarray) -> tuple[float, np.ndarray]:
        logits = alpha * (ratings[matchups[:, 0]] - ratings[matchups[:, 1]])
        probs = 1 / (1 + np.exp(-logits))
        ll = weights * (
            outcomes * np.log(probs + 1e-12) + (1 - outcomes) * np.log(1 - probs + 1e-12)
        )
        grad_logit = weights * (outcomes - probs) * alpha
        grad = np.zeros(n_models)
        np.add.at(grad, matchups[:, 0], grad_logit)
        np.add.at(grad, matchups[:, 1], -grad_logit)
        total = weights.sum()
        return -ll.sum() / total, -grad / total

    result = minimize(
        loss,
        np.zeros(n_models),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 100, "gtol": 1e-6},
    )
    ratings = result.x - result.x.mean()
    return scale * ratings + init


def reference(db: Path, rounds: int, seed: int) -> tuple[list[str], np.ndarray, dict]:
    """The whole reference pipeline, timed; the bootstrap resamples battles and refits
    each round in a process pool over all cores, as FastChat does."""
    t0 = time.perf_counter()
    battles = reference_load(db)
    t1 = time.perf_counter()
    models, matchups, results, weights = reference_preprocess(battles)
    scores = reference_fit(matchups, results, weights, len(models))
    t2 = time.perf_counter()
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(int(weights.sum()), weights / weights.sum(), size=rounds)
    refit = partial(reference_fit, matchups, results, n_models=len(models))
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        boot = np.array(list(pool.map(refit, draws.astype(float))))
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    t3 = time.perf_counter()
    return (
        models,
        scores,
        {
            "load_s": t1 - t0,
            "fit_s": t2 - t1,
            "bootstrap_s": t3 - t2,
            "total_s": t3 - t0,
            "ci_low": low.tolist(),
            "ci_high": high.tolist(),
        },
    )


def arena_rank(python: Path, db: Path) -> dict:
    """arena-rank's fit and sandwich intervals on the same battles, in its environment."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), "-c", ARENA_RANK_WORKER, str(db), BATTLES_QUERY],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_s"] = time.perf_counter() - started
    return figures


def make_arena_rank_venv(folder: Path) -> Path:
    """A separate environment with arena-rank installed (it pins jax and numpy)."""
    python = folder / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "arena-rank"], check=True)
    return python
