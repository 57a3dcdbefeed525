"""Who may write an index folder: one process at a time, told apart by a file lock.

Embedded Chroma and the lexical database are not safe for two writing processes. The
writer takes an exclusive ``flock`` on ``<index>/lock`` and writes its pid there, so a
second writer is refused at once with a message naming the holder. The kernel drops
the lock when the holder exits, however it exits, so a crash never leaves it stuck.
Readers (searches) take no lock.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import IndexBusy

__all__ = ["LOCK_FILE", "IndexLock"]

LOCK_FILE = "lock"


class IndexLock:
    """An exclusive, non-blocking, inter-process lock on one index folder."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise IndexBusy naming the process that holds it."""
        if self._fd is not None:
            return
        fd = os.open(self._folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise IndexBusy(
                f"the index in {self._folder} is being written by another Parley process"
                f" (pid {holder}), such as the running bot: re-index through the bot"
                " (/reindex), stop that process and try again, or run Chroma as a server"
                " (chroma_host) to share the vectors between processes"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor drops the flock
        self._fd = None
