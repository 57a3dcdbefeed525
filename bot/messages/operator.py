"""What the operator commands say: index and re-index (also asked from chat and the
dashboard), search, models, judge and audit, import and export, backup and restore,
``db migrate``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.types import display_path

from .counting import plural

__all__ = [
    "arena_copied",
    "arena_on_server",
    "backup_done",
    "cannot_create_data_dir",
    "data_dir_not_writable",
    "empty_search",
    "export_done",
    "export_write_failed",
    "file_skipped",
    "import_line_skipped",
    "import_summary",
    "index_stopped",
    "index_stopping",
    "index_summary",
    "migrate_target_malformed",
    "migrate_target_unknown",
    "model_status",
    "more_skipped",
    "no_audit_yet",
    "no_data_dir",
    "no_index",
    "no_knowledge_base",
    "no_match_judged_in_both",
    "no_sources",
    "not_admin",
    "nothing_found",
    "nothing_matched",
    "rated_anew",
    "reindex_busy",
    "reindex_progress",
    "reindex_starting",
    "restore_done",
    "words_only_search",
]

if TYPE_CHECKING:
    from knowledge.indexer import IndexReport
    from knowledge.types import IndexProgress

    from ..service import ModelCheck, ModelStatus


def file_skipped(path: str, reason: str) -> str:
    return f"Skipped {display_path(path)}: {reason}"


def import_line_skipped(line: int, reason: str) -> str:
    return f"line {line}: {reason}"


def rated_anew(renamed: list[tuple[str, str]]) -> str:
    """Under ``parley models``: why an entry shows as ``name #hash`` (rated name,
    configured name pairs)."""
    names = ", ".join(rated for rated, _ in renamed)
    return (
        f"{names}: settings changed since first rated, so rated (and shown on the"
        " leaderboard) as a new contestant; --model takes either name"
    )


def model_status(status: ModelStatus, check: ModelCheck | None = None) -> str:
    """One model's status in ``parley models``: set up or not, and when checked, whether
    it answered."""
    if not status.ready:
        return f"not set up: {status.reason}"
    if check is None:
        return "configured"
    if check.reachable:
        return f"reachable ({check.latency_ms:.0f} ms)"
    return f"unreachable: {check.error}"


def empty_search() -> str:
    return 'Give some words to search for, for example: parley search "roll back a deploy"'


def index_summary(report: IndexReport) -> str:
    restored = (
        f" The vector store had lost the vectors of {plural(report.restored, 'passage')};"
        " they were embedded again."
        if report.restored
        else ""
    )
    return (
        f"Indexed in {report.seconds:.1f} s: {report.added} added, {report.changed} changed, "
        + (f"{report.reembedded} re-embedded, " if report.reembedded else "")
        + f"{report.removed} removed, {report.unchanged} unchanged, {len(report.skipped)} skipped; "
        f"{plural(report.passages, 'passage')} in the index.{restored}"
    )


def index_stopping() -> str:
    return "Stopping: finishing the step in progress; every finished file is kept."


def index_stopped(report: IndexReport) -> str:
    finished = report.added + report.changed + report.reembedded + report.unchanged
    again = f", {report.reembedded} re-embedded" if report.reembedded else ""
    kept = (
        f"Stopped after {report.seconds:.1f} s. Kept {plural(finished, 'finished file')}"
        f" ({report.added} added, {report.changed} changed{again}, {report.unchanged} unchanged)"
    )
    if report.pending:
        kept += (
            f" and {plural(report.pending, 'passage')} embedded from files not finished,"
            " which the next run will not embed again"
        )
    return (
        f"{kept}; {plural(report.passages, 'passage')} in the index. Run `parley index`"
        " on the same paths again to do the rest."
    )


def no_index(folder: Path) -> str:
    return (
        f"There is no index in {folder}: run `parley index PATH` first"
        " (or check --data-dir and PARLEY_DATA_DIR)."
    )


def words_only_search(why: str) -> str:
    return f"Note: matching by words only; {why}."


def nothing_found() -> str:
    return (
        "No passages matched. Is the knowledge base indexed? Try `parley index examples/handbook`."
    )


def nothing_matched(mode: str) -> str:
    """``parley search`` finding nothing in an index that holds passages."""
    other = " or `--mode hybrid`, which matches by meaning too" if mode == "lexical" else ""
    return f"Nothing in the knowledge base matched: try other words{other}."


def no_match_judged_in_both() -> str:
    """``parley judge agreement`` when the two sets of verdicts share no match."""
    return "No match was judged in both sets."


def no_audit_yet() -> str:
    return "No audit has run yet: run `parley audit`."


def import_summary(imported: int, duplicates: int, errors: int) -> str:
    return (
        f"Imported {plural(imported, 'battle')} ({duplicates} already present,"
        f" {plural(errors, 'line')} skipped)."
    )


def export_done(count: int) -> str:
    return f"Exported {plural(count, 'battle')}."


def export_write_failed(file: Path, reason: str) -> str:
    return f"Could not write the export to {file}: {reason}."


def not_admin() -> str:
    return "Only Parley's admins can re-index the knowledge base. Ask one of them to run it."


def no_sources() -> str:
    """Said by every re-index (chat, dashboard, CLI) with nothing to walk; only the CLI
    takes paths, so the message says where sources are set rather than "name them"."""
    return (
        'No knowledge sources are configured: set `sources = ["docs/"]` in parley.toml'
        " (or PARLEY_SOURCES='[\"docs/\"]' in the environment) and restart, or index"
        " from a shell with `parley index PATH`."
    )


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{int(seconds)} s" if minutes == 0 else f"{minutes} min"


def reindex_progress(status: IndexProgress) -> str:
    """``Re-indexing: 12 of 40 files (handbook.pdf)``; the total is unknown at first; a
    file too long for one embedding batch says how far its passages are."""
    name = display_path(status.current).rsplit("/", 1)[-1] if status.current else ""
    count = f"{status.done} of {plural(status.total, 'file')}" if status.total else "starting"
    if name and status.passages_total:
        name += f": {status.passages_done:,} of {status.passages_total:,} passages embedded"
    return f"Re-indexing: {count}" + (f" ({name})" if name else "")


def reindex_busy(status: IndexProgress) -> str:
    started = time.strftime("%H:%M", time.localtime(status.started_at))
    running = _ago(time.time() - status.started_at)
    where = f" on {status.host}" if status.host else ""  # another instance's, from PostgreSQL
    progress = reindex_progress(status)
    return (
        f"A re-index is already running, started by {status.requested_by}{where} at {started}"
        f" ({running} ago); {progress[0].lower()}{progress[1:]}. Try again when it has finished."
    )


def backup_done(file: Path, votes: int) -> str:
    return f"Backed up the arena database to {file} ({plural(votes, 'vote')})."


def restore_done(file: Path, database: Path, votes: int) -> str:
    return f"Restored {database} from {file} ({plural(votes, 'vote')})."


def arena_on_server() -> str:
    """``parley backup`` and ``restore`` copy an SQLite file; a server has its own tools."""
    return (
        "The arena is on PostgreSQL (database_url): back it up with pg_dump and restore"
        " it with pg_restore; `parley db migrate --to FILE` copies it into an SQLite file."
    )


def arena_copied(source: str, target: str, rows: dict[str, int], to_server: bool) -> list[str]:
    """What ``parley db migrate`` copied, and how to use the copy."""
    counted = ", ".join(
        plural(rows.get(table, 0), noun)
        for table, noun in (("questions", "question"), ("battles", "battle"), ("votes", "vote"))
    )
    use = (
        f"To serve from it, set PARLEY_DATABASE_URL (database_url in parley.toml) to {target}"
        " and run `parley index PATH` once: the index is re-built on the server."
        if to_server
        else f"To serve from it, unset PARLEY_DATABASE_URL and use {target} as the data"
        " directory's parley.db."
    )
    return [
        f"Copied the arena from {source} to {target}: {counted}; all"
        f" {plural(sum(rows.values()), 'row')} in {len(rows)} tables counted the same on"
        " both sides.",
        use,
    ]


def reindex_starting() -> str:
    return "Re-indexing: starting"


def more_skipped(count: int) -> str:
    """Under the first few skipped files a re-index lists in chat."""
    return f"... and {count} more skipped."


def no_knowledge_base() -> str:
    return "this Parley has no knowledge base to re-index"


def no_data_dir(folder: Path) -> str:
    """A report (leaderboard, export) on a data directory that does not exist."""
    return f"there is no Parley data directory at {folder} (check --data-dir or PARLEY_DATA_DIR)"


def cannot_create_data_dir(folder: Path, reason: str) -> str:
    return f"cannot create the data directory {folder}: {reason}"


def data_dir_not_writable(folder: Path) -> str:
    return f"the data directory {folder} is not writable"


def migrate_target_unknown() -> str:
    """``parley db migrate --to`` given a URL that is not PostgreSQL's."""
    return "--to takes a postgresql:// URL or the path of an SQLite file (such as parley.db)"


def migrate_target_malformed(problem: str) -> str:
    """``parley db migrate --to`` given a PostgreSQL URL it cannot read (never quoted)."""
    return f"--to: {problem}"
