"""One process of the engine soak (tests/reliability/test_engine_soak.py): register every rule base, evaluate.

``python -m tests.reliability.engine_soak_child SEED`` loads today's rules and every policy scenario (in an order
of its own), compiles each and registers its rulesets on the one host -- right before each ruleset is created, the
heap is left full of freed blocks of one byte value (0x09 and 0x0C are the values that made durable_rules refuse
a ruleset with error 102, see engine/compiler.py) -- and evaluates the case base's proposals on it, every
evaluation checked against the reference evaluator by the engine itself.
It prints one line, ``ok <rule bases> <evaluations>``, or fails.
"""

from __future__ import annotations

import random
import sys
from datetime import date

from biotoets.api.analysis.casebase import load_cases
from biotoets.api.documents.inputs import to_proposal
from biotoets.engine.evaluate import Engine
from biotoets.engine.host import DurableHost
from biotoets.engine.loader import load_rule_base
from biotoets.engine.scenarios import load_scenario, scenario_names

FILLS = (0x09, 0x0C, 0x00, 0xFF)


def dirty_heap(rng: random.Random) -> None:
    """Allocate and free blocks of many sizes holding one byte value: the next mallocs reuse them as they are."""
    fill = rng.choice(FILLS) if rng.random() < 0.75 else rng.randrange(256)
    blocks = [bytes([fill]) * n for n in range(48, 24_000, rng.randrange(29, 61))]
    del blocks


class DirtyHost(DurableHost):
    """The engine's host, with the heap dirtied right before each ruleset is created (nothing allocates between)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def register(self, name: str, definition_json: str, warm_up_fact: str) -> None:
        dirty_heap(self.rng)
        super().register(name, definition_json, warm_up_fact)


def main(seed: int) -> int:
    rng = random.Random(seed)
    cases = [c for c in load_cases(None) if not c.scenario]
    rng.shuffle(cases)
    proposals = [(to_proposal(c.proposal), c.as_of or date(2026, 11, 28)) for c in cases[:12]]
    host = DirtyHost(rng)
    names = scenario_names()
    rng.shuffle(names)  # registration order varies too
    bases = [("law", load_rule_base(), None)] + [(f"scenario/{n}", *load_scenario(n)) for n in names]
    engines = []
    for name, base, info in bases:
        engines.append(Engine(base, name=name, host=host, scenario=info))
    evaluations = 0
    for engine in engines:
        for proposal, on in proposals:
            dirty_heap(rng)
            engine.evaluate(proposal, on, explain=False)
            evaluations += 1
    print(f"ok {len(engines)} {evaluations}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1])))
