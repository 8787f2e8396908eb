"""``Engine.outcome`` (the bulk runs' lean path) says what the full verdict says about the outcome."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from biotoets.api.analysis.casebase import load_cases
from biotoets.api.analysis.generate import generate_proposals
from biotoets.engine.evaluate import Engine


def from_verdict(verdict: dict[str, Any]) -> dict[str, Any]:
    """The same parts read off a full verdict, written out here rather than taken from the code under test."""
    return {
        "verdict": verdict["verdict"], "could_become": verdict["could_become"],
        "could_fall_to": verdict["could_fall_to"], "complete": verdict["complete"],
        "applies": [g["rule"] for g in verdict["grounds"] if g["status"] == "applies"],
        "conditions": [[c["rule"], c["what"]["en"]] for c in verdict["conditions"]],
    }


@pytest.mark.parametrize("on", [date(2020, 1, 1), date(2025, 1, 1), date(2026, 6, 1)])
def test_the_outcome_equals_the_full_verdicts_outcome(engine: Engine, on: date) -> None:
    proposals = [c.proposal for c in load_cases()] + generate_proposals(400, seed=31)
    assert any(isinstance(p.get("activity"), list) for p in proposals)  # several activities (cases) too
    seen = set()
    for proposal in proposals:
        full = from_verdict(engine.evaluate(proposal, on, explain=False))
        assert engine.outcome(proposal, on) == full, proposal
        seen.add((full["verdict"], full["could_become"], full["complete"]))
    # the population is varied enough to mean something: every level, incomplete and complete outcomes
    assert {v for v, _, _ in seen} == {"allowed", "conditional", "prohibited"}
    assert {c for _, _, c in seen} == {True, False}
    assert any(v != b for v, b, _ in seen)


def test_the_outcome_refuses_what_the_verdict_refuses(engine: Engine) -> None:
    with pytest.raises(ValueError, match="technique"):
        engine.outcome({"technique": "telepathy"}, date(2025, 1, 1))


def test_an_untraced_run_decides_the_same_and_keeps_no_trace(engine: Engine) -> None:
    from biotoets.engine.facts import flatten
    from biotoets.engine.proposal import Proposal

    on = date(2026, 6, 1)
    for doc in generate_proposals(60, seed=32):
        facts = flatten(Proposal.model_validate(doc))
        traced, bare = engine.evaluate_facts(facts, on), engine.evaluate_facts(facts, on, tracing=False)
        assert (bare.statuses, bare.derived) == (traced.statuses, traced.derived)
        assert traced.trace and bare.trace == []
