"""Battles as JSONL in the field names of the FastChat / Chatbot Arena battle files.

Each line: ``model_a``, ``model_b`` (A was shown on the left), ``winner`` (``model_a``,
``model_b``, ``tie`` or ``tie (bothbad)``), ``tstamp`` (unix seconds of the vote),
``judge`` (the voter, FastChat's name for it), ``question_id`` and ``channel``, and
for a battle left out of the ratings (``arena.hygiene``) ``excluded`` with why. Import
reads the same fields and ignores the rest (so public arena files load); a missing
``channel`` or ``judge`` becomes ``"import"``, a missing ``tstamp`` 0.

Every exported line also carries ``battle_key``, a stable id of that vote: an imported
battle keeps the key it came with; a vote cast here is keyed by this database's id, the
battle and the voter. Import keys each battle by its ``battle_key`` or, for files from
elsewhere, by a hash of model_a, model_b, winner, tstamp, judge and question_id, so
importing a file twice, a file that overlaps one already imported, or an instance's own
export back into it counts nothing twice. Malformed lines are reported by number and
skipped; the rest still load.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from arena.store import BattleRecord, Store
from arena.types import Choice

__all__ = ["ImportReport", "export_battles", "import_battles", "parse_battle"]

WINNER_OF: dict[Choice, str] = {
    "a": "model_a",
    "b": "model_b",
    "tie": "tie",
    "both_bad": "tie (bothbad)",
}
CHOICE_OF = {winner: choice for choice, winner in WINNER_OF.items()}


@dataclass
class ImportReport:
    """What an import did: battles stored, battles already present, and bad lines."""

    imported: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


async def export_battles(store: Store, out: IO[str]) -> int:
    """Write every live vote as one battle line, oldest first; return how many."""
    count = 0
    async for record in store.iter_battles():
        line = {
            "model_a": record.model_a,
            "model_b": record.model_b,
            "winner": WINNER_OF[record.choice],
            "tstamp": record.tstamp,
            "judge": record.user,
            "question_id": record.question_id,
            "channel": record.channel,
            "battle_key": record.source_key,
        }
        if record.excluded:
            line["excluded"] = record.excluded
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count


def parse_battle(line: str) -> BattleRecord:
    """One JSONL line to a record; ValueError says what is wrong with it."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    missing = [
        k
        for k in ("model_a", "model_b", "winner")
        if not isinstance(data.get(k), str) or not data[k]
    ]
    if missing:
        raise ValueError(f"missing or not text: {', '.join(missing)}")
    if data["winner"] not in CHOICE_OF:
        raise ValueError(f"unknown winner {data['winner']!r}")
    if data["model_a"] == data["model_b"]:
        raise ValueError("a model cannot battle itself")
    try:
        tstamp = float(data.get("tstamp") or 0)
    except (TypeError, ValueError) as exc:
        raise ValueError("tstamp is not a number") from exc
    if not math.isfinite(tstamp):
        raise ValueError("tstamp is not a finite number")
    identity = [
        data["model_a"],
        data["model_b"],
        data["winner"],
        tstamp,
        str(data.get("judge", "")),
        str(data.get("question_id", "")),
    ]
    return BattleRecord(
        model_a=str(data["model_a"]),
        model_b=str(data["model_b"]),
        choice=CHOICE_OF[data["winner"]],
        tstamp=tstamp,
        channel=str(data.get("channel") or "import"),
        user=str(data.get("judge") or "import"),
        excluded=str(data["excluded"]) if data.get("excluded") else None,
        source_key=_key(data.get("battle_key"))
        or hashlib.sha1(json.dumps(identity).encode()).hexdigest(),
    )


def _key(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


async def import_battles(store: Store, lines: IO[str]) -> ImportReport:
    """Store every well-formed battle line; report duplicates and bad lines by number."""
    report = ImportReport()
    parsed = 0

    def records() -> Iterator[BattleRecord]:
        nonlocal parsed
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = parse_battle(line)
            except ValueError as exc:
                report.errors.append((number, str(exc)))
                continue
            parsed += 1
            yield record

    report.imported = await store.bulk_record_battles(records())
    report.duplicates = parsed - report.imported
    return report
