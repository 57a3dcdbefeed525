"""Copy a whole arena from one database to another: SQLite to PostgreSQL, or back.

``parley db migrate --to TARGET`` moves a team that started on one machine to a shared
server (or a server's arena into a file) without losing a vote. The target is opened as
any store is (created and migrated to the same schema) and must hold no arena yet.
Every table (``arena.migrations.TABLES``) is read from one snapshot of the source and
written in one transaction on the target, in bulk (``copy_rows``: COPY on PostgreSQL),
ids and the database's instance id kept, so exported battle keys stay valid; each
identity sequence then continues after the largest id. Before that transaction commits,
every table's rows are counted on both sides: any difference, or any failure, leaves
the target as it was. PostgreSQL then gathers the copied tables' statistics. Writes to
the source after its snapshot are not copied: stop the bots before moving for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena.errors import StoreError
from arena.migrations import TABLES
from arena.store import Store
from knowledge.sql import AsyncSession, DatabaseUrl, is_database_url

__all__ = ["CopyReport", "copy_arena"]


@dataclass(frozen=True)
class CopyReport:
    """What was copied where: rows per table, the same on both sides; the databases as
    messages name them (a file, or a URL without its password)."""

    source: str
    target: str
    rows: dict[str, int]

    @property
    def to_server(self) -> bool:
        return is_database_url(self.target)


async def copy_arena(source: Path | str, target: Path | str | DatabaseUrl) -> CopyReport:
    """Copy the arena at ``source`` (a file or a URL) into ``target``, which must hold
    none; StoreError says why not, with nothing written."""
    if not is_database_url(source) and not Path(source).is_file():
        raise StoreError(f"there is no arena database at {source} to copy")
    if _spelled(source) == _spelled(target) or (
        not is_database_url(source)
        and not is_database_url(target)
        and Path(source).resolve() == Path(target).resolve()
    ):
        raise StoreError("the arena is already there: name another database with --to")
    origin = await Store.open(source)
    try:
        destination = await Store.open(target)
        try:
            return await _copy(origin, destination)
        finally:
            await destination.close()
    finally:
        await origin.close()


def _spelled(database: Path | str | DatabaseUrl) -> str:
    """The database as the user wrote it, password and all, to compare two."""
    return database.url if isinstance(database, DatabaseUrl) else str(database)


async def _copy(origin: Store, destination: Store) -> CopyReport:
    held = await _rows_held(destination)
    if held:
        raise StoreError(
            f"{destination.where} already holds an arena ({held}); copy into an empty database"
        )
    rows: dict[str, int] = {}
    async with origin._snapshot() as source, destination._transaction() as target:
        await target.execute("DELETE FROM meta")  # the source's instance id comes instead
        for table in TABLES:
            columns = await _columns(source, table)
            async for chunk in source.stream(f"SELECT {', '.join(columns)} FROM {table}"):
                await target.copy_rows(table, columns, chunk)
            for column in await _identity_columns(target, table):
                await target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'),"
                    f' COALESCE(MAX("{column}"), 0) + 1, false) FROM {table}'
                )
            rows[table] = await source.scalar(f"SELECT COUNT(*) FROM {table}")
            copied = await target.scalar(f"SELECT COUNT(*) FROM {table}")
            if copied != rows[table]:
                raise StoreError(
                    f"{table}: {rows[table]} rows at the source but {copied} copied;"
                    " nothing was written"
                )
    if destination.dialect.is_postgresql:
        # after a bulk load the planner has no statistics until autovacuum comes by, and
        # its guesses made the first boards from a million copied votes 5x slower
        await destination._write(lambda s: s.execute(f"ANALYZE {', '.join(TABLES)}"))
    return CopyReport(origin.where, destination.where, rows)


async def _columns(session: AsyncSession, table: str) -> list[str]:
    """The table's columns as the source has them, quoted (``"user"`` is reserved)."""
    cursor = await session.execute(f"SELECT * FROM {table} LIMIT 0")
    return [f'"{column[0]}"' for column in cursor.description]


async def _identity_columns(session: AsyncSession, table: str) -> list[str]:
    """The target table's columns that number new rows themselves: PostgreSQL's identity
    columns, asked of its catalogue (their sequences do not see copied ids). SQLite needs
    none: its integer key continues after the largest one by itself."""
    if not session.dialect.is_postgresql:
        return []
    rows = await session.fetchall(
        "SELECT column_name FROM information_schema.columns WHERE table_schema ="
        " current_schema() AND table_name = ? AND is_identity = 'YES'",
        (table,),
    )
    return [column for (column,) in rows]


async def _rows_held(store: Store) -> str:
    """What a database already holds of an arena ("" for none; its own id is no data)."""
    counts = []
    for table in TABLES:
        if table != "meta":
            (n,) = (await store._rows(f"SELECT COUNT(*) FROM {table}"))[0]
            if n:
                counts.append(f"{n} rows in {table}")
    return ", ".join(counts)
