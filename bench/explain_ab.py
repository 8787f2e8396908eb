"""The explainer before and after its boundary values were precomputed, side by side in one process.

``.venv/bin/python -m bench.explain_ab [N]`` (from the project root): the case base and N generated proposals
(default 600; and N/2 complete ones), explanations from ``engine/explain.py`` and from the plain explainer kept
as the specification in ``tests/engine/explain_spec.py``; checks that they are identical, then prints each
one's best CPU µs per explanation over four passes in alternating order.
"""

from __future__ import annotations

import sys
import time
from datetime import date


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 600
    from biotoets.api.analysis.casebase import load_cases
    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.engine.activities import per_activity
    from biotoets.engine.evaluate import Engine
    from biotoets.engine.facts import flatten
    from biotoets.engine.loader import load_rule_base
    from biotoets.engine.proposal import Proposal
    from biotoets.engine.verdict import applies, build_verdict
    from tests.engine.explain_spec import Explainer as PlainExplainer

    base = load_rule_base()
    engine = Engine(base, name="explain-ab")
    on = date(2025, 6, 1)
    items = [(p, c.as_of or on) for c in load_cases() if c.scenario is None for p in per_activity(c.proposal)]
    items += [(p, on) for p in generate_proposals(n, seed=21)]
    items += [(p, on) for p in generate_proposals(n // 2, seed=22, complete=True)]
    cases = []
    for p, day in items:
        ev = engine.evaluate_facts(flatten(Proposal.model_validate(p)), day)
        cases.append((ev, build_verdict(base, ev, lang="en", engine_version="ab", scenario=None)["verdict"]))
    contenders = {"precomputed boundary values (engine/explain.py)": engine.explainer,
                  "plain (tests/engine/explain_spec.py, as before)": PlainExplainer(base)}
    a, b = contenders.values()
    differ = sum(a.changes(ev.facts, ev.statuses, ev.as_of, v, applies)
                 != b.changes(ev.facts, ev.statuses, ev.as_of, v, applies) for ev, v in cases)
    best = dict.fromkeys(contenders, float("inf"))
    names = list(contenders)
    for rep in range(4):
        for name in names if rep % 2 == 0 else names[::-1]:
            x = contenders[name]
            t = time.thread_time()
            for ev, v in cases:
                x.changes(ev.facts, ev.statuses, ev.as_of, v, applies)
            best[name] = min(best[name], (time.thread_time() - t) / len(cases) * 1e6)
    print(f"{len(cases)} evaluations, {differ} with different explanations (must be 0)")
    for name in names:
        print(f"  {best[name]:7.1f} µs CPU per explanation  {name}")
    print(f"  {best[names[1]] / best[names[0]]:.2f}× faster")
    engine.close()
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
