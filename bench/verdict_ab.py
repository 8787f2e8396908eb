"""The verdict builder before and after issue 17's slim builder, side by side in one process.

``.venv/bin/python -m bench.verdict_ab [--before COMMIT] [--n N]`` (from the project root, in a git checkout):
the engine, API and rules of COMMIT (default 81e3f87, the tree before this work) are copied from git into a
temporary directory as the package ``biotoets_before``; each proposal is fired once with today's engine, then

* the verdict: COMMIT's default path (``build_verdict``, then ``slim``: the full form built, then slimmed) and
  today's (``build_slim``), each with its JSON encoding -- what the API stores;
* the whole evaluation: validation + durable_rules + reference check (today's ``evaluate_facts``, the same code
  in both) followed by each of those, as a server makes a check's verdict.

Before any timing every verdict is compared: COMMIT's full verdict must equal today's slim one expanded
(``slim.expand``). Prints the best CPU µs per call over four passes in alternating order, per workload.
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
TREES = ("engine", "api", "rules", "schemas", "casebase")


def load_before(commit: str, into: Path) -> Any:
    """COMMIT's tree as the package ``biotoets_before`` (its imports of ``biotoets.*`` renamed)."""
    pkg = into / "biotoets_before"
    pkg.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, *TREES], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(pkg)], input=archive.stdout, check=True)
    for d in (pkg, *(pkg / t for t in TREES)):
        (d / "__init__.py").touch()
    pattern = re.compile(r"\bbiotoets\.(" + "|".join(TREES) + r")\b")
    for f in pkg.rglob("*.py"):
        f.write_text(pattern.sub(r"biotoets_before.\1", f.read_text(encoding="utf-8")), encoding="utf-8")
    sys.path.insert(0, str(into))
    return importlib.import_module("biotoets_before")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", default="81e3f87", help="the commit to compare with")
    p.add_argument("--n", type=int, default=400, help="generated proposals (and half as many complete ones)")
    args = p.parse_args(argv)

    from biotoets.api.analysis.casebase import load_cases
    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.api.documents import slim
    from biotoets.engine.evaluate import ENGINE_VERSION, Engine
    from biotoets.engine.facts import flatten
    from biotoets.engine.loader import load_rule_base
    from biotoets.engine.proposal import Proposal
    from biotoets.engine.slim import build_slim

    with tempfile.TemporaryDirectory() as tmp:
        load_before(args.before, Path(tmp))
        old_loader = importlib.import_module("biotoets_before.engine.loader")
        old_verdict = importlib.import_module("biotoets_before.engine.verdict")
        old_slim = importlib.import_module("biotoets_before.api.documents.slim")
        base, old_base = load_rule_base(), old_loader.load_rule_base()
        if base.digest != old_base.digest:
            print(f"the rule files differ ({base.digest[:12]} vs {old_base.digest[:12]}): compare on equal rules")
            return 2
        engine = Engine(base, name="verdict-ab")
        on = date(2025, 6, 1)
        workloads = {
            "case base": [(c.proposal, c.as_of or on) for c in load_cases() if c.scenario is None],
            "generated (20 % unknown)": [(x, on) for x in generate_proposals(args.n, seed=1)],
            "generated, complete": [(x, on) for x in generate_proposals(args.n // 2, seed=2, complete=True)],
        }
        kw: dict[str, Any] = {"lang": "en", "engine_version": ENGINE_VERSION, "scenario": None}

        def before_verdict(ev: Any) -> bytes:
            return orjson.dumps(old_slim.slim(old_verdict.build_verdict(old_base, ev, **kw), old_base))

        def after_verdict(ev: Any) -> bytes:
            return orjson.dumps(build_slim(base, ev, **kw))

        def before_whole(x: tuple[dict[str, Any], date]) -> bytes:
            return before_verdict(engine.evaluate_facts(flatten(Proposal.model_validate(x[0])), x[1]))

        def after_whole(x: tuple[dict[str, Any], date]) -> bytes:
            return orjson.dumps(engine.evaluate(x[0], x[1], explain=False, view="slim"))

        status = 0
        for wname, items in workloads.items():
            evs = [engine.evaluate_facts(flatten(Proposal.model_validate(x)), day) for x, day in items]
            differ = sum(orjson.loads(orjson.dumps(old_verdict.build_verdict(old_base, ev, **kw)))
                         != slim.expand(orjson.loads(after_verdict(ev)), base) for ev in evs)
            status |= differ != 0
            contenders: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
                "verdict, before (full built, then slimmed; encoded)": (before_verdict, evs),
                "verdict, after (slim built directly; encoded)": (after_verdict, evs),
                "whole evaluation, before": (before_whole, items),
                "whole evaluation, after": (after_whole, items),
            }
            best = dict.fromkeys(contenders, float("inf"))
            names = list(contenders)
            for rep in range(4):
                for name in names if rep % 2 == 0 else names[::-1]:
                    fn, inputs = contenders[name]
                    t = time.thread_time()
                    for x in inputs:
                        fn(x)
                    best[name] = min(best[name], (time.thread_time() - t) / len(inputs) * 1e6)
            print(f"{wname}: {len(evs)} proposals, {differ} verdicts differ (must be 0)")
            for name in names:
                print(f"  {best[name]:8.1f} µs CPU  {name}")
            print(f"  verdict {best[names[0]] / best[names[1]]:.2f}× faster, whole evaluation "
                  f"{best[names[2]] / best[names[3]]:.2f}× faster")
        engine.close()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
