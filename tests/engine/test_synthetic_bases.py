"""The scaling benchmark's synthetic rule bases load and evaluate (``make bench`` stopped on them once the
questions' gates were proven at load: clones read facts where the real rules' gates are closed)."""

from __future__ import annotations

from datetime import date

from bench.synth import synthetic_rule_base
from biotoets.api.analysis.generate import generate_proposals
from biotoets.engine.evaluate import Engine


def test_a_synthetic_base_of_every_size_the_bench_uses_loads_and_evaluates() -> None:
    for n in (64, 512):
        base = synthetic_rule_base(n)
        assert len(base.rules) == n
        assert not any(g.ask_when for g in base.gates.questions.values())
        engine = Engine(base, name=f"synthetic-{n}")
        try:
            for doc in generate_proposals(20, seed=3):
                assert engine.evaluate(doc, date(2026, 6, 1), explain=False)["verdict"] in (
                    "allowed", "conditional", "prohibited")
        finally:
            engine.close()
