"""Interleaved latency timing: every contender on the same inputs, in rotating order, repeated.

One repetition times each call of each contender over the whole workload with
``perf_counter_ns`` (wall clock: median and p99 per call), and the whole pass
with the thread's CPU clock (``time.thread_time_ns``: mean CPU time per call).
Contenders run one after another in an order rotated per repetition, so drift
hits all of them alike. On a shared machine the CPU figure is the robust one:
every contender computes synchronously on the calling thread (the Rust, C++ and
C engines included), so time other processes took does not count. (The CPU clock
is a system call in this VM, several µs, so it is read per pass, not per call.)

Reported per contender, over repetitions: the median of the per-repetition
median, p99 and CPU mean, and the spread (lowest and highest CPU mean).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    name: str
    medians: list[float] = field(default_factory=list)  # µs, one per repetition
    p99s: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # mean CPU µs per call, one per repetition
    calls: int = 0

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)

    @property
    def median(self) -> float:
        return statistics.median(self.medians)

    @property
    def p99(self) -> float:
        return statistics.median(self.p99s)

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.cpus), max(self.cpus)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    i = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[i]


def time_calls(fn: Callable[[Any], Any], inputs: Sequence[Any],
               budget_s: float | None = None) -> tuple[list[float], float]:
    """Wall µs of ``fn(x)`` per input, and CPU µs per call over the pass (stops after ``budget_s``)."""
    out: list[float] = []
    clock = time.perf_counter_ns
    limit = None if budget_s is None else clock() + int(budget_s * 1e9)
    cpu0 = time.thread_time_ns()
    for x in inputs:
        t0 = clock()
        fn(x)
        t1 = clock()
        out.append((t1 - t0) / 1000.0)
        if limit is not None and t1 > limit:
            break
    cpu = (time.thread_time_ns() - cpu0) / 1000.0 / max(1, len(out))
    return out, cpu


def interleaved(contenders: dict[str, tuple[Callable[[Any], Any], Sequence[Any]]], reps: int,
                budget_s: float | None = None) -> dict[str, Stats]:
    """Time every contender ``reps`` times, rotating the order; ``{name: (fn, inputs)}``."""
    names = list(contenders)
    stats = {n: Stats(n) for n in names}
    for name in names:  # warm-up: caches, lazy imports, first-call costs
        fn, inputs = contenders[name]
        for x in inputs[: min(len(inputs), 50)]:
            fn(x)
    for rep in range(reps):
        order = names[rep % len(names):] + names[: rep % len(names)]
        for name in order:
            fn, inputs = contenders[name]
            gc.collect()
            raw, cpu = time_calls(fn, inputs, budget_s)
            lat = sorted(raw)
            s = stats[name]
            s.cpus.append(cpu)
            s.medians.append(statistics.median(lat))
            s.p99s.append(percentile(lat, 0.99))
            s.calls += len(lat)
    return stats


def wall(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t
