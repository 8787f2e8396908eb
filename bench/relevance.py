"""How much the pre-check asks and how much noise it shows: ``.venv/bin/python -m bench.relevance``.

Prints, for the README example (with and without its scope answers; ``--probe FILE`` for more), the
number of questions, open norms and possible grounds; and over the whole case base, the mean and maximum
number of questions per incomplete case (complete false or not determined) and the number of questions
asked whose gate is closed. Counts, not timings.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import date
from pathlib import Path
from typing import Any

from biotoets.api.analysis import casebase as cb
from biotoets.api.documents.inputs import parse_document
from biotoets.engine.activities import per_activity
from biotoets.engine.evaluate import Engine
from biotoets.engine.facts import flatten
from biotoets.engine.implications import apply_implications
from biotoets.engine.loader import load_rule_base
from biotoets.engine.proposal import Proposal
from biotoets.engine.scenarios import load_scenario

ROOT = Path(__file__).resolve().parent.parent
ON = date(2026, 1, 1)
SCOPE_ANSWERS = ("animal", "gmo", "transplant", "partners", "export")  # what the README example adds to the old one


def figures(v: dict[str, Any]) -> str:
    return (f"questions {len(v['questions'])}, open norms {len(v['open_norms'])}, "
            f"possible grounds {len(v['possible_grounds'])}, determined {v.get('determined', '(no field)')}")


def closed_questions(engine: Engine, proposal: Proposal, v: dict[str, Any]) -> list[str]:
    """Questions offered although their gate is definitely false on the facts given (and implied)."""
    gates = engine.base.gates
    views = [apply_implications(gates, each)[0] for each in per_activity(flatten(proposal))]  # one per activity
    for known in views:
        known.update({k: x for k, x in v["derived"].items() if x is not None})
    return [q["fact"] for q in v["questions"] if all(gates.gate(q["fact"], known) is False for known in views)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--probe", type=Path, action="append", default=[], help="more proposals to report on")
    args = ap.parse_args()
    base = load_rule_base()
    engines: dict[str | None, Engine] = {None: Engine(base)}

    def engine_for(scenario: str | None) -> Engine:
        if scenario not in engines:
            sbase, info = load_scenario(scenario)
            engines[scenario] = Engine(sbase, name=f"s-{scenario}", scenario=info)
        return engines[scenario]

    example = ROOT / "examples" / "germline-editing.yaml"
    doc = parse_document(example.read_bytes(), example.name)
    unscoped = {k: v for k, v in doc.items() if k not in SCOPE_ANSWERS}
    print(f"{example.name} without its scope answers (the example before): "
          f"{figures(engines[None].evaluate(Proposal.model_validate(unscoped), ON))}")
    for path in [example, *args.probe]:
        doc = parse_document(path.read_bytes(), path.name)
        print(f"{path.name}: {figures(engines[None].evaluate(Proposal.model_validate(doc), ON))}")
    counts: list[int] = []
    closed = 0
    for case in cb.load_cases():
        proposal = cb.to_proposal(case.proposal)
        engine = engine_for(case.scenario)
        v = engine.evaluate(proposal, case.as_of or ON, explain=False)
        closed += len(closed_questions(engine, proposal, v))
        if not v["complete"] or v.get("determined") is False:
            counts.append(len(v["questions"]))
    print(f"case base: {len(counts)} incomplete cases; questions per incomplete case: "
          f"mean {statistics.mean(counts):.2f}, max {max(counts)}; questions asked behind a closed gate: {closed}")


if __name__ == "__main__":
    main()
