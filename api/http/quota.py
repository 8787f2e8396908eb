"""Per-key quotas on calls that cost much: a replay (an evaluation plus an audit record) and an impact run.

Without one, an applicant could replay its own check in a loop and add ~130 audit records a second. Replays are
counted in the audit log itself -- the records of ``check.replayed`` by this key within the window -- so the quota
holds across worker processes and across servers sharing one database. An impact run leaves no record; its quota
is counted per worker process. Past the quota the caller gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import threading
import time
from collections.abc import Callable

from ..store.audit import recent_actions
from ..store.db import Database, as_utc, utcnow
from .problems import Problem

REPLAY_ACTION = "check.replayed"


def _refuse(what: str, limit: int, window: int, retry: int) -> Problem:
    return Problem("rate-limited", f"This key has made {limit} {what} within {window} s, its quota; try again in "
                   f"{retry} s.", headers={"Retry-After": str(retry)})


def check_replays(db: Database, key_id: str, limit: int, window: int) -> None:
    """Raise a 429 problem if ``key_id`` replayed ``limit`` checks within the last ``window`` seconds."""
    if limit <= 0:
        return
    now = utcnow()
    since = now - dt.timedelta(seconds=window)
    n, oldest = recent_actions(db, key_id, REPLAY_ACTION, since)
    if n >= limit and oldest is not None:
        retry = max(1, math.ceil((as_utc(oldest) - since).total_seconds()))
        raise _refuse("replays", limit, window, retry)


class KeyQuota:
    """At most ``limit`` calls per key within a sliding ``window`` (seconds), in one process."""

    def __init__(self, limit: int, window: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._calls: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def spend(self, key_id: str, what: str) -> None:
        """Count one call, or raise a 429 problem if the key has used its quota."""
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            calls = self._calls.setdefault(key_id, collections.deque())
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) >= self.limit:
                raise _refuse(what, self.limit, self.window, max(1, math.ceil(calls[0] + self.window - now)))
            calls.append(now)
            if len(self._calls) > 10_000:  # forget keys with no call in the window
                for k in [k for k, v in self._calls.items() if not v or v[-1] <= now - self.window]:
                    del self._calls[k]
