"""The SQLite write lock: the writers of every process on one database file take turns before they begin."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class WriteLock:
    """One writer at a time across the threads (a lock) and processes (``flock`` on a file) using one SQLite file.
    Re-entrant within a thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._depth == 0:
            try:
                if self._fd is None or self._pid != os.getpid():  # (a forked child opens its own)
                    self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()
