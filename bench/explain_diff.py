"""Differential of the explainer against its specification: ``.venv/bin/python -m bench.explain_diff [N]``.

The case base, N generated proposals (default 1,500), N/2 complete ones and N/2 with half their facts unknown,
each on five dates (law of 2001, 2012, 2025, 2026 and 2032): the explanations of ``engine/explain.py`` and of
``tests/engine/explain_spec.py`` compared, and the full verdicts built with each, in English and in Dutch.
Exits 1 on any difference. (Slow: the specification is the plain search; ~6 minutes for the default.)
"""

from __future__ import annotations

import sys
import time
from datetime import date


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 1500
    from biotoets.api.analysis.casebase import load_cases
    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.engine.evaluate import Engine
    from biotoets.engine.facts import flatten
    from biotoets.engine.loader import load_rule_base
    from biotoets.engine.proposal import Proposal
    from biotoets.engine.verdict import applies, build_verdict
    from tests.engine.explain_spec import Explainer as Spec

    try:  # a proposal naming several activities is evaluated once per activity (engine/activities.py, on main)
        from biotoets.engine.activities import per_activity  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        def per_activity(facts: dict[str, object]) -> list[dict[str, object]]:
            return [dict(facts)]

    base = load_rule_base()
    engine = Engine(base, name="explain-diff")
    spec = Spec(base)
    proposals = [c.proposal for c in load_cases() if c.scenario is None]
    proposals += generate_proposals(n, seed=101) + generate_proposals(n // 2, seed=102, complete=True)
    proposals += generate_proposals(n // 2, seed=103, unknown=0.5)
    dates = [date(2001, 1, 1), date(2012, 7, 1), date(2025, 6, 1), date(2026, 11, 28), date(2032, 1, 1)]
    explained = differ = verdicts_differ = non_empty = 0
    start = time.time()
    evaluated = [f for p in proposals for f in per_activity(flatten(Proposal.model_validate(p)))]
    for facts in evaluated:
        for on in dates:
            ev = engine.evaluate_facts(facts, on)
            for lang in ("en", "nl"):
                ours = build_verdict(base, ev, lang=lang, engine_version="d", scenario=None, explainer=engine.explainer)
                theirs = build_verdict(base, ev, lang=lang, engine_version="d", scenario=None, explainer=spec)
                verdicts_differ += ours != theirs
            fast = engine.explainer.changes(ev.facts, ev.statuses, on, ours["verdict"], applies)
            plain = spec.changes(ev.facts, ev.statuses, on, ours["verdict"], applies)
            explained += 1
            differ += fast != plain
            non_empty += bool(fast)
    print(f"{len(proposals)} proposals ({len(evaluated)} evaluations, one per activity) × {len(dates)} dates = "
          f"{explained} explanations ({non_empty} not empty), "
          f"{differ} differ; {2 * explained} full verdicts (en, nl), {verdicts_differ} differ; "
          f"{time.time() - start:.0f} s")
    engine.close()
    return 1 if differ or verdicts_differ else 0


if __name__ == "__main__":
    sys.exit(main())
