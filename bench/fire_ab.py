"""Engine.fire with and without the results-only C call and the collapsed forms, side by side in one process.

``.venv/bin/python -m bench.fire_ab [N]``: N generated proposals (default 300) with 20 % unknown facts and
complete, four engines on the same rules (results-only call on/off × forms collapsed/both), five passes in
rotating order; prints each one's median CPU µs per ``Engine.fire``. The core section of ``python -m bench``
has the same contenders among many others; this is the quiet, focused comparison.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 300
    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.engine.evaluate import Engine
    from biotoets.engine.facts import flatten
    from biotoets.engine.host import DurableHost
    from biotoets.engine.loader import load_rule_base
    from biotoets.engine.proposal import Proposal

    base = load_rule_base()
    on = date(2025, 6, 1)
    engines = {
        "results-only call, forms collapsed (default)": Engine(base, name="ab-a"),
        "stock C calls, forms collapsed": Engine(base, name="ab-b", host=DurableHost(results_only=False)),
        "results-only call, both forms": Engine(base, name="ab-c", collapse=False),
        "stock C calls, both forms (before issue 17's second part)": Engine(
            base, name="ab-d", host=DurableHost(results_only=False), collapse=False),
    }
    names = list(engines)
    for label, seed, complete in (("generated, 20 % unknown", 1, False), ("generated, complete", 2, True)):
        facts = [flatten(Proposal.model_validate(p)) for p in generate_proposals(n, seed=seed, complete=complete)]
        cpu: dict[str, list[float]] = {k: [] for k in names}
        for rep in range(5):
            for k in names[rep % 4:] + names[:rep % 4]:
                fire = engines[k].fire
                t = time.thread_time()
                for f in facts:
                    fire(f, on)
                cpu[k].append((time.thread_time() - t) / len(facts) * 1e6)
        print(f"{label} ({n} proposals), CPU µs per Engine.fire, median of 5 passes:")
        for k in names:
            print(f"  {statistics.median(cpu[k]):7.1f}  {k}")
    for e in engines.values():
        e.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
