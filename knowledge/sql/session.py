"""What async code may rely on, whichever engine lends the session (for type hints).

``AsyncSqliteDatabase`` and ``AsyncPgDatabase`` both are an ``AsyncDatabase``; their
sessions both are an ``AsyncSession``. Code written against these two runs on either
engine as long as its SQL does (see ``Dialect``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from .dialect import Dialect

__all__ = ["AsyncDatabase", "AsyncSession"]


class AsyncSession(Protocol):
    """One connection for the length of a block, speaking ``?`` SQL."""

    dialect: Dialect

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None: ...

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    def stream(
        self, sql: str, params: Sequence[Any] = (), size: int = ...
    ) -> AsyncIterator[list[tuple[Any, ...]]]: ...

    async def copy_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int: ...

    async def lock(self, name: str) -> None: ...


class AsyncDatabase(Protocol):
    """A database that lends sessions: one transaction, one snapshot or one statement."""

    dialect: Dialect
    errors: tuple[type[Exception], ...]
    read_only: bool

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    def snapshot(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    def read(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    async def close(self) -> None: ...
