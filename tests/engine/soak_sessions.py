"""Soak of the reused durable_rules sessions, run in its own process by test_reused_sessions.py.

    python -m tests.engine.soak_sessions [N]      (N evaluations, default 100,000)

Evaluates N generated proposals (a pool of distinct ones, cycled, on varying dates) on an engine with
reused sessions. Every evaluation is checked by the reference evaluator; every evaluation of the first
pass over the pool, and every 10th after it, is compared with an engine that opens a fresh session per
evaluation (the original recipe). RSS is read after the first tenth and at the end. Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta

from biotoets.api.analysis.generate import ProposalGenerator
from biotoets.engine.evaluate import Engine
from biotoets.engine.facts import flatten
from biotoets.engine.host import DurableHost
from biotoets.engine.loader import load_rule_base
from biotoets.engine.proposal import Proposal

POOL = 2000


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fired(trace: list[dict[str, str]]) -> list[tuple[str, str]]:
    """The trace without the ruleset names (the two engines register theirs under different names)."""
    return [(t["fired"], t["form"]) for t in trace]


def main(n: int) -> dict[str, object]:
    base = load_rule_base()
    reused = Engine(base, name="reused")
    fresh = Engine(base, name="fresh", host=DurableHost(reuse_sessions=False), check_reference=False)
    gen = ProposalGenerator(17, unknown=0.2)
    pool = [flatten(Proposal.model_validate(gen.proposal())) for _ in range(POOL)]
    dates = [date(1998, 1, 1) + timedelta(days=397 * k) for k in range(30)]
    mismatches, compared, rss_start, t0 = 0, 0, 0, time.perf_counter()
    for i in range(n):
        if i == n // 10:
            rss_start = rss_kib()
        facts, on = pool[i % POOL], dates[i % len(dates)]
        got = reused.evaluate_facts(facts, on)  # raises EngineDisagreement if the reference disagrees
        if i < POOL or i % 10 == 0:
            want = fresh.evaluate_facts(facts, on)  # the same path: implications applied first
            compared += 1
            if (got.statuses, got.derived, fired(got.trace)) != (want.statuses, want.derived, fired(want.trace)):
                mismatches += 1
    return {"evaluations": n, "compared_with_fresh": compared, "mismatches": mismatches,
            "rss_kib_after_first_tenth": rss_start, "rss_kib_end": rss_kib(),
            "seconds": round(time.perf_counter() - t0, 1)}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)))
