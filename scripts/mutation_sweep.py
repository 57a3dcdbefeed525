"""Single-mutation sweep: does a test fail when one small thing in the code is wrong?

    python scripts/mutation_sweep.py AREA [AREA ...] [--list] [--timeout 120] [--json OUT]
    python scripts/mutation_sweep.py --only arena/votes.py:42:negate votes
    python scripts/mutation_sweep.py service --functions vote,thumb --skip EARLIER.json

Each mutant changes one spot of a target module (swap a comparison or boolean operator,
negate a condition, swap an if-expression's branches or a pair's order, drop a keyword
argument, move an integer by one, flip a bool, delete a statement), is written over the
module, and the area's test files are run against it with ``pytest -x``; the file is
restored after each run. A mutant is *killed* when a test fails (or the run times out)
and *survives* when every test passes. The AREAS table says which functions of
which modules are mutated and which tests guard them (``mutation_areas.py``).

The process imports pytest and the heavy third-party libraries once and forks a child
per mutant, so a mutant costs its tests, not Python's start-up. Bytecode is never
written, so a mutant cannot be run from a stale ``.pyc``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import importlib
import json
import os
import random
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mutation_areas import AREAS  # beside this script

ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE = 15.0  # seconds a timed-out run has to stop what it started

# third-party imports shared by every child (project modules are imported after the fork)
PRELOAD = [
    "pytest",
    "pytest_asyncio",
    "hypothesis",
    "numpy",
    "scipy",
    "aiosqlite",
    "pydantic",
    "slack_bolt",
    "slack_sdk",
    "discord",
    "aiohttp",
    "httpx",
    "matplotlib",
]

SWAPPED_COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
SWAPPED_BINOP = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
}
DELETABLE = (
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.Raise,
    ast.Return,
    ast.If,
    ast.Continue,
    ast.Break,
)


@dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    kind: str
    start: int  # character offsets of the replaced span in the module's source
    end: int
    replacement: str

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}:{self.kind}"

    def record(self) -> dict[str, str]:
        """What identifies this mutant across edits that only move lines (for ``--skip``)."""
        source = (ROOT / self.path).read_text()
        return {
            "path": self.path,
            "code": source.splitlines()[self.line - 1].strip(),
            "original": source[self.start : self.end],
            "replacement": self.replacement,
        }


def _key(record: dict) -> tuple[str, str, str, str]:
    return (record["path"], record["code"], record["original"], record["replacement"])


def _offsets(source: str) -> list[int]:
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _span(node: ast.AST, starts: list[int]) -> tuple[int, int]:
    return (
        starts[node.lineno - 1] + node.col_offset,
        starts[node.end_lineno - 1] + node.end_col_offset,
    )


def _changed(node: ast.expr) -> Iterator[tuple[str, ast.expr]]:
    """The single-point variants of one expression node."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in SWAPPED_COMPARE:
                new = copy.deepcopy(node)
                new.ops[i] = SWAPPED_COMPARE[type(op)]()
                yield f"compare-{type(op).__name__}", new
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "boolop", new
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "drop-not", node.operand
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "drop-minus", node.operand
    elif isinstance(node, ast.BinOp) and type(node.op) in SWAPPED_BINOP:
        new = copy.deepcopy(node)
        new.op = SWAPPED_BINOP[type(node.op)]()
        yield f"binop-{type(node.op).__name__}", new
    elif isinstance(node, ast.IfExp):
        yield "ifexp-swap", ast.IfExp(test=node.test, body=node.orelse, orelse=node.body)
    elif isinstance(node, ast.Tuple) and len(node.elts) == 2 and isinstance(node.ctx, ast.Load):
        yield "pair-swap", ast.Tuple(elts=node.elts[::-1], ctx=ast.Load())
    elif isinstance(node, ast.Call):
        for i in range(len(node.keywords)):
            if node.keywords[i].arg is not None:
                new = copy.deepcopy(node)
                del new.keywords[i]
                yield f"drop-kw-{node.keywords[i].arg}", new
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield "flip-bool", ast.Constant(not node.value)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        yield "const+1", ast.Constant(node.value + 1)
        if node.value != 0:
            yield "const-1", ast.Constant(node.value - 1)


def _untouched(tree: ast.AST) -> set[int]:
    """Nodes inside f-strings and ``log.*(...)`` calls (they change only text) and in
    annotations (they change nothing at run time)."""
    skipped = [j for j in ast.walk(tree) if isinstance(j, ast.JoinedStr) or _is_log(j)]
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.arg) and node.annotation:
            skipped.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            skipped.append(node.returns)
    return {id(n) for j in skipped for n in ast.walk(j)}


def _is_log(node: ast.AST) -> bool:
    call = node.value if isinstance(node, ast.Expr) else node
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "log"
    )


def _scopes(tree: ast.Module, names: list[str] | None) -> list[ast.AST]:
    if names is None:
        return [n for n in tree.body if not isinstance(n, ast.Import | ast.ImportFrom)]
    found = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name in names
    ]
    missing = set(names) - {n.name for n in found}
    if missing:
        raise SystemExit(f"no such function or class: {', '.join(sorted(missing))}")
    return found


def _is_ellipsis(node: ast.AST) -> bool:
    return isinstance(node, ast.Expr) and getattr(node.value, "value", None) is Ellipsis


def _is_docstring(node: ast.AST, parent_body: list[ast.stmt]) -> bool:
    return (
        parent_body
        and node is parent_body[0]
        and isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def mutants_of(path: str, names: list[str] | None) -> list[Mutant]:
    source = (ROOT / path).read_text()
    tree = ast.parse(source)
    starts = _offsets(source)
    skip = _untouched(tree)
    seen: set[tuple[int, int, str]] = set()
    found: list[Mutant] = []

    def add(node: ast.AST, kind: str, replacement: str) -> None:
        start, end = _span(node, starts)
        mutated = source[:start] + replacement + source[end:]
        try:
            if ast.dump(ast.parse(mutated)) == ast.dump(tree):
                return
        except SyntaxError:
            return
        if (start, end, replacement) not in seen:
            seen.add((start, end, replacement))
            found.append(Mutant(path, node.lineno, kind, start, end, replacement))

    for scope in _scopes(tree, names):
        for node in ast.walk(scope):
            if isinstance(node, ast.expr) and id(node) not in skip and hasattr(node, "lineno"):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    continue
                for kind, new in _changed(node):
                    add(node, kind, f"({ast.unparse(new)})")
            for field in ("body", "orelse"):
                body = getattr(node, field, None)
                if not isinstance(body, list):
                    continue
                for stmt in body:
                    kept = _is_docstring(stmt, body) or _is_log(stmt) or _is_ellipsis(stmt)
                    if isinstance(stmt, DELETABLE) and not kept:
                        add(stmt, "delete", "pass")
            if isinstance(node, ast.If | ast.While):
                add(node.test, "negate", f"(not ({ast.unparse(node.test)}))")
    return sorted(found, key=lambda m: (m.line, m.start, m.kind))


def _run_child(tests: list[str]) -> None:
    import pytest

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests])
    os._exit(int(code))


def run_tests(tests: list[str], timeout: float) -> str:
    """'passed', 'failed' or 'timeout' for one run of ``tests`` in a forked child."""
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        _run_child(tests)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"
        time.sleep(0.05)
    # SIGTERM first: the test session stops the throw-away PostgreSQL it started (its
    # server runs in a session of its own, out of the group's reach), then SIGKILL
    os.killpg(pid, signal.SIGTERM)
    grace, reaped = time.monotonic() + STOP_GRACE, False
    while not reaped and time.monotonic() < grace:
        reaped = bool(os.waitpid(pid, os.WNOHANG)[0])
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)  # whatever of the group is left
    if not reaped:
        os.waitpid(pid, 0)
    return "timeout"


def sweep(area: str, mutants: list[Mutant], tests: list[str], timeout: float) -> list[dict]:
    results = []
    for number, mutant in enumerate(mutants, 1):
        target = ROOT / mutant.path
        original = target.read_text()
        target.write_text(original[: mutant.start] + mutant.replacement + original[mutant.end :])
        started = time.monotonic()
        try:
            outcome = run_tests(tests, timeout)
        finally:
            target.write_text(original)
        seconds = time.monotonic() - started
        results.append(
            {
                "area": area,
                "mutant": mutant.name,
                **mutant.record(),
                "outcome": outcome,
                "seconds": round(seconds, 1),
            }
        )
        mark = "SURVIVED" if outcome == "passed" else outcome
        print(
            f"[{area} {number}/{len(mutants)}] {mark:8} {mutant.name} -> "
            f"{mutant.replacement[:70]!r} ({seconds:.0f} s)",
            flush=True,
        )
    return results


def _narrowed(
    modules: dict[str, list[str] | None], wanted: list[str]
) -> dict[str, list[str] | None]:
    """The area's modules cut down to the named functions and classes they define."""
    narrowed: dict[str, list[str] | None] = {}
    for path, names in modules.items():
        tree = ast.parse((ROOT / path).read_text())
        defined = {
            n.name
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        kept = [w for w in wanted if w in defined and (names is None or w in names)]
        if kept:
            narrowed[path] = kept
    if not narrowed:
        raise SystemExit(f"none of {', '.join(wanted)} is mutated in this area")
    return narrowed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("areas", nargs="+", choices=sorted(AREAS))
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--only", help="run just the mutants whose name starts with this")
    parser.add_argument(
        "--sample",
        type=int,
        help="at most this many mutants per area, drawn at random (seeded) from all of them",
    )
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument(
        "--functions", help="comma-separated: mutate only these of the area's functions/classes"
    )
    parser.add_argument(
        "--skip",
        type=Path,
        action="append",
        default=[],
        help="a --json file of an earlier run: its mutants are not run again (repeatable)",
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per mutant")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # restore the module on the way out
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    skipped = {_key(r) for f in args.skip for r in json.loads(f.read_text())}
    results: list[dict] = []
    for area in args.areas:
        modules, tests = AREAS[area]
        if args.functions:
            modules = _narrowed(modules, args.functions.split(","))
        mutants = [m for path, names in modules.items() for m in mutants_of(path, names)]
        if skipped:
            before = len(mutants)
            mutants = [m for m in mutants if _key(m.record()) not in skipped]
            print(f"{area}: {before - len(mutants)} mutants skipped as run before", flush=True)
        if args.only:
            mutants = [m for m in mutants if m.name.startswith(args.only)]
        if args.sample and len(mutants) > args.sample:
            print(f"{area}: {args.sample} drawn from {len(mutants)} mutants", flush=True)
            drawn = random.Random(args.seed).sample(range(len(mutants)), args.sample)
            mutants = [mutants[i] for i in sorted(drawn)]
        if args.list:
            for m in mutants:
                print(f"{m.name} -> {m.replacement[:90]!r}")
            print(f"{area}: {len(mutants)} mutants")
            continue
        if run_tests(tests, args.timeout) != "passed":
            raise SystemExit(f"{area}: the tests fail without any mutant; fix that first")
        results += sweep(area, mutants, tests, args.timeout)
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))
    for area in args.areas:
        mine = [r for r in results if r["area"] == area]
        if mine:
            survived = [r["mutant"] for r in mine if r["outcome"] == "passed"]
            print(f"{area}: {len(mine)} tried, {len(survived)} survived: {', '.join(survived)}")


if __name__ == "__main__":
    main()
