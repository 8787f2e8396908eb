"""Figures that the reliability tests report at the end of a pytest run (requests sent, checks found, inputs tried).

``tally("junk inputs (HTTP)", 1)`` adds to a figure; ``note("load sqlite", "...")`` records a line. The root
conftest prints them in pytest's terminal summary, so ``pytest tests/reliability tests/api -q`` shows them.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

_lock = threading.Lock()
counts: Counter[str] = Counter()
lines: dict[str, str] = {}


def tally(name: str, n: int = 1) -> None:
    with _lock:
        counts[name] += n


def note(name: str, text: str) -> None:
    with _lock:
        lines[name] = text


def summary(reporter: Any) -> None:
    if not counts and not lines:
        return
    reporter.section("reliability figures")
    for name in sorted(lines):
        reporter.line(f"{name}: {lines[name]}")
    for name in sorted(counts):
        reporter.line(f"{name}: {counts[name]}")
