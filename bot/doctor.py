"""``parley doctor``: what is wrong with this installation, and how to fix it.

Each check says what it looked at, whether it is sound, and when it is not, the one
thing to do about it. It reads only: nothing is created or repaired here.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arena.errors import ArenaError, ConfigError
from arena.judge import judge_spec
from knowledge import cannot_read, read_only_uri
from knowledge.errors import KnowledgeError

from .config import Settings, config_file
from .errors import SAID_TO_USERS
from .messages import plural
from .runtime import open_knowledge, open_service, open_store

if TYPE_CHECKING:
    from knowledge.base import IndexHealth

__all__ = ["Finding", "diagnose"]


@dataclass(frozen=True)
class Finding:
    """One check: ``ok``, what was seen, and (when not ok) how to fix it."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


async def diagnose(
    settings: Settings, warnings: list[str], *, check_models: bool = True
) -> list[Finding]:
    """Run every check; a check that cannot run is itself a finding, never a traceback."""
    findings = [_configuration(warnings), _judge(settings), _data_dir(settings)]
    findings += await asyncio.to_thread(_index, settings)
    if settings.database_url:
        findings.append(await _server_database(settings))
    else:
        findings.append(await asyncio.to_thread(_database, settings))
    if check_models:
        findings += await _models(settings)
    return findings


def _configuration(warnings: list[str]) -> Finding:
    where = config_file()
    source = str(where) if where.is_file() else "defaults (no parley.toml)"
    if warnings:
        return Finding(
            "configuration", False, "; ".join(warnings), "fix or remove those keys and variables"
        )
    return Finding("configuration", True, f"read from {source}")


def _judge(settings: Settings) -> Finding:
    """The judge audits and `parley judge` grade with: the one they would find."""
    try:
        spec = judge_spec(settings.judge, settings.models)
    except ConfigError as exc:
        return Finding(
            "judge",
            False,
            str(exc),
            "set `judge` in parley.toml (or PARLEY_JUDGE) to the name of an openai or"
            " anthropic [[models]] entry, or remove it for the offline judge",
        )
    if spec is None:
        return Finding("judge", True, "the offline judge")
    return Finding("judge", True, f"{spec.name}, a model in the roster")


def _data_dir(settings: Settings) -> Finding:
    folder = settings.data_dir
    if not folder.is_dir():
        return Finding(
            "data directory",
            False,
            f"{folder} does not exist",
            "run `parley index PATH` first, or check --data-dir and PARLEY_DATA_DIR",
        )
    if not os.access(folder, os.W_OK):
        return Finding(
            "data directory",
            False,
            f"{folder} is not writable: votes and re-indexing will fail",
            f"give this user write access to {folder}",
        )
    return Finding("data directory", True, f"{folder} exists and is writable")


def _index(settings: Settings) -> list[Finding]:
    if not settings.database_url and not (settings.index_dir / "lexical.db").is_file():
        return [
            Finding("index", False, f"no index in {settings.index_dir}", "run `parley index PATH`")
        ]
    try:
        with open_knowledge(settings, read_only=True) as kb:
            health = kb.health()
            unsearchable = kb.dense_unavailable
    except KnowledgeError as exc:
        return [Finding("index", False, str(exc), "see the message; `parley index` rebuilds")]
    findings = [_counts(health, unsearchable)]
    findings.append(
        Finding("embedder", True, "the configured embedder built this index")
        if not health.embedder_mismatch
        else Finding(
            "embedder",
            False,
            health.embedder_mismatch,
            f"delete {settings.index_dir} and index again with the configured embedder",
        )
    )
    return findings


def _counts(health: IndexHealth, unsearchable: str) -> Finding:
    """Both stores hold the same passages, apart from the vectors a stopped run embedded
    for files it did not finish (kept for the next run)."""
    counts = f"{plural(health.passages, 'passage')}, {plural(health.vectors or 0, 'vector')}"
    if health.vectors is None:  # a read-only folder: the vectors cannot be opened
        return Finding("index", True, f"{plural(health.passages, 'passage')}; {unsearchable}")
    if health.passages == health.vectors and not health.pending:
        return Finding("index", True, counts)
    if unsearchable and not health.vectors:  # the store is gone: `parley index` notices
        return Finding(
            "index",
            False,
            f"{counts}: {unsearchable}",
            "run `parley index` on the indexed paths; it embeds every passage again",
        )
    again = "run `parley index` on the same paths again; it finishes the job"
    if health.vectors < health.passages + health.pending:  # lost from a store still there
        return Finding(
            "index",
            False,
            f"{counts}: the vector store has lost vectors (damaged or partly deleted?)",
            "run `parley index --force` on the indexed paths; it embeds every file again",
        )
    if health.passages + health.pending == health.vectors:
        return Finding(
            "index",
            False,
            f"{counts}: an index run was stopped before it finished; {health.pending} of the"
            " vectors are for files it had not written yet",
            f"{again} without embedding those again",
        )
    return Finding(
        "index", False, f"{counts}: the two stores disagree (an interrupted run?)", again
    )


def _database(settings: Settings) -> Finding:
    path = settings.database_path
    if not path.is_file():
        return Finding("arena database", True, f"none yet at {path} (no questions asked)")
    try:
        with closing(sqlite3.connect(read_only_uri(path), uri=True)) as db:
            (verdict,) = db.execute("PRAGMA integrity_check").fetchone()
            orphans = db.execute("PRAGMA foreign_key_check").fetchall()
            (votes,) = db.execute("SELECT COUNT(*) FROM votes").fetchone()
    except sqlite3.Error as exc:
        if cannot_read(exc):  # a sound database this user cannot open needs no restore
            return Finding(
                "arena database",
                False,
                f"{path} cannot be read: {exc}",
                "check that this user may read it and its folder",
            )
        return Finding("arena database", False, f"{path}: {exc}", "restore it: `parley restore`")
    if verdict != "ok" or orphans:
        verb = "points" if len(orphans) == 1 else "point"
        problem = verdict if verdict != "ok" else f"{plural(len(orphans), 'row')} {verb} at nothing"
        return Finding(
            "arena database", False, f"{path}: {problem}", "restore the latest `parley backup`"
        )
    return Finding("arena database", True, f"{path}: sound, {plural(votes, 'vote')}")


async def _server_database(settings: Settings) -> Finding:
    """The arena on PostgreSQL: reachable, its schema this Parley's, its votes counted."""
    try:
        async with open_store(settings, read_only=True) as store:
            votes, where = await store.votes_stored(), store.where
    except ArenaError as exc:
        return Finding(
            "arena database", False, str(exc), "see the message; `parley chat` creates it"
        )
    return Finding("arena database", True, f"{where}: reachable, {plural(votes, 'vote')}")


async def _models(settings: Settings) -> list[Finding]:
    try:
        async with open_service(settings, in_memory=True) as service:
            statuses = await service.models()
            checks = {c.name: c for c in await service.check_models()}
    except SAID_TO_USERS as exc:
        return [Finding("models", False, str(exc), "fix the [[models]] in parley.toml")]
    findings = []
    for status in statuses:
        check = checks.get(status.name)
        if not status.ready:
            findings.append(Finding(f"model {status.name}", False, status.reason, status.reason))
        elif check is not None and not check.reachable:
            findings.append(
                Finding(
                    f"model {status.name}",
                    False,
                    check.error,
                    "check its base_url, key and that its server is running",
                )
            )
        else:
            latency = f" ({check.latency_ms:.0f} ms)" if check else ""
            findings.append(Finding(f"model {status.name}", True, f"answers{latency}"))
    return findings
