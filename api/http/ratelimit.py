"""Rate limiting of failed authentication, per client address.

A client address that presents ``limit`` invalid API keys (malformed,
unknown, revoked or wrong) within ``window`` seconds is refused -- ``429``
with ``Retry-After`` -- on every request that carries a key, until the oldest
of those failures is ``window`` seconds old. A key that this process has
already verified keeps working from a refused address (it costs nothing and
guesses nothing), so one misbehaving client behind a shared address does not
lock out the others. Requests without a key are not counted: they guess nothing.

The count is kept per worker process (with ``--workers N`` an address gets up
to N times ``limit`` tries per window), in memory, for at most ``max_clients``
addresses (the least recently failing are forgotten first).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque


class FailureLimiter:
    def __init__(self, limit: int, window: float, max_clients: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.window > 0

    def retry_after(self, client: str, now: float | None = None) -> int | None:
        """Whole seconds until ``client`` may try again, or None if it may try now."""
        if not self.enabled:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                return None
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self._failures[client]
                return None
            if len(times) < self.limit:
                return None
            return max(1, math.ceil(times[0] + self.window - now))

    def failed(self, client: str, now: float | None = None) -> bool:
        """Count one failed authentication from ``client``; True if that makes it reach the limit."""
        if not self.enabled:
            return False
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(client)
            if times is None:
                times = self._failures[client] = deque(maxlen=self.limit)
            while times and times[0] <= now - self.window:
                times.popleft()
            times.append(now)
            self._failures.move_to_end(client)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
            return len(times) == self.limit
