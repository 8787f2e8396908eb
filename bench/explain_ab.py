"""Two explainers side by side in one process: the working tree's and an earlier revision's (or the plain one).

``.venv/bin/python -m bench.explain_ab [N] [--before REV]`` (from the project root): the case base and N generated
proposals (default 600; and N/2 complete ones), explanations from ``engine/explain.py`` and from the plain
explainer kept as the specification in ``tests/engine/explain_spec.py``; checks that they are identical, then
prints each one's best CPU µs per explanation over four passes in alternating order. With ``--before REV`` the
second contender is the explainer of that git revision instead, with that revision's compiled conditions and
reference evaluator (``engine/conditions.py``, ``reference.py``, ``boundaries.py`` read with ``git show``), so the
figures compare the whole path an explanation takes; it is checked against the specification too.
"""

from __future__ import annotations

import subprocess
import sys
import time
import types
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _module(rev: str, name: str, renames: dict[str, str]) -> types.ModuleType:
    """``engine/NAME.py`` as it was at ``rev``, loaded as ``biotoets.engine.NAME_before`` (its relative imports of
    the other modules loaded so renamed as ``renames`` says)."""
    source = subprocess.run(["git", "show", f"{rev}:engine/{name}.py"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    for old, new in renames.items():
        source = source.replace(f"from .{old} import", f"from .{new} import").replace(
            f"from . import {old}\n", f"from . import {new} as {old}\n")
    module = types.ModuleType(f"biotoets.engine.{name}_before")
    module.__package__ = "biotoets.engine"
    sys.modules[module.__name__] = module
    exec(compile(source, f"{rev}:engine/{name}.py", "exec"), module.__dict__)  # noqa: S102 -- this repository's code
    return module


def explainer_at(rev: str, base: Any) -> Any:
    """The Explainer of a git revision, on its own compiled conditions (closures or generated source)."""
    from biotoets.engine import conditions

    renames = {"conditions": "conditions_before", "reference": "reference_before", "boundaries": "boundaries_before"}
    cond = _module(rev, "conditions", {})
    for cls in ("Leaf", "All", "Any_", "Not"):  # the rule base's trees are made of today's classes
        setattr(cond, cls, getattr(conditions, cls))
    _module(rev, "reference", renames)
    _module(rev, "boundaries", renames)
    return _module(rev, "explain", renames).Explainer(base)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    before = None
    if "--before" in args:
        i = args.index("--before")
        before = args[i + 1]
        args = args[:i] + args[i + 2:]
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
    plain = PlainExplainer(base)
    contenders = {"engine/explain.py (this tree)": engine.explainer}
    if before:
        contenders[f"engine/explain.py at {before}"] = explainer_at(before, base)
    else:
        contenders["plain (tests/engine/explain_spec.py)"] = plain
    expected = [plain.changes(ev.facts, ev.statuses, ev.as_of, v, applies) for ev, v in cases]
    differ = {name: sum(x.changes(ev.facts, ev.statuses, ev.as_of, v, applies) != want
                        for (ev, v), want in zip(cases, expected, strict=True))
              for name, x in contenders.items()}
    best = dict.fromkeys(contenders, float("inf"))
    names = list(contenders)
    for rep in range(4):
        for name in names if rep % 2 == 0 else names[::-1]:
            x = contenders[name]
            t = time.thread_time()
            for ev, v in cases:
                x.changes(ev.facts, ev.statuses, ev.as_of, v, applies)
            best[name] = min(best[name], (time.thread_time() - t) / len(cases) * 1e6)
    print(f"{len(cases)} evaluations; explanations that differ from the specification (must be 0): "
          + ", ".join(f"{differ[name]} ({name})" for name in names))
    for name in names:
        print(f"  {best[name]:7.1f} µs CPU per explanation  {name}")
    print(f"  {best[names[1]] / best[names[0]]:.2f}× faster")
    engine.close()
    return 0 if not any(differ.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
