"""Profile an evaluation with pyinstrument:
``.venv/bin/python -m bench.profile [NAME] [--no-explain | --slim | --outcome]``.

Evaluates the case base and 500 generated proposals three times over and writes
the call tree to ``bench/profiles/NAME.txt`` (default ``after``): the full verdict
(with explanations, or without: ``--no-explain``), the slim verdict without
explanations as ``POST /v1/checks`` makes it (``--slim``), or the outcome alone as
the batch makes it (``--outcome``). The profiles committed next to it are the ones
the performance notes refer to.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    slim, bulk = "--slim" in args, "--outcome" in args
    explain = not ({"--no-explain", "--slim", "--outcome"} & set(args))
    args = [a for a in args if a not in ("--no-explain", "--slim", "--outcome")]
    name = args[0] if args else "after"
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("bench.profile needs pyinstrument: .venv/bin/pip install -e '.[bench]'")
    from biotoets.api.analysis.casebase import load_cases
    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.engine.evaluate import Engine
    from biotoets.engine.loader import load_rule_base

    engine = Engine(load_rule_base(), name="profile")
    on = date(2025, 6, 1)
    proposals = [c.proposal for c in load_cases() if c.scenario is None] + generate_proposals(500, seed=1)

    def run(p: object) -> object:
        if bulk:
            return engine.outcome(p, on)  # type: ignore[arg-type]
        return engine.evaluate(p, on, explain=explain, view="slim" if slim else "full")  # type: ignore[arg-type]

    for p in proposals:  # warm-up
        run(p)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(3):
        for p in proposals:
            run(p)
    profiler.stop()
    out = Path(__file__).resolve().parent / "profiles" / f"{name}.txt"
    out.parent.mkdir(exist_ok=True)
    text = profiler.output_text(unicode=False, color=False)
    what = ("Engine.outcome (the batch)" if bulk else "Engine.evaluate, slim verdict without explanations "
            "(POST /v1/checks)" if slim else "Engine.evaluate" + ("" if explain else " without explanations"))
    out.write_text(f"# {len(proposals) * 3} evaluations (case base + 500 generated, x3), {what}\n{text}")
    print(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
