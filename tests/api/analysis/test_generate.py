"""The proposal generator: valid, realistic, deterministic per seed."""

from __future__ import annotations

import pytest

from biotoets.api.analysis.generate import ProposalGenerator, generate_proposals
from biotoets.engine.facts import flatten
from biotoets.engine.loader import load_rule_base
from biotoets.engine.proposal import Proposal


def test_every_generated_proposal_is_valid() -> None:
    for doc in generate_proposals(300, seed=11):
        Proposal.model_validate(doc)


def test_same_seed_same_proposals_other_seed_other_proposals() -> None:
    assert generate_proposals(50, seed=7) == generate_proposals(50, seed=7)
    assert generate_proposals(50, seed=7) != generate_proposals(50, seed=8)


def test_iterating_a_generator_continues_the_same_sequence() -> None:
    gen = ProposalGenerator(5)
    first = [next(iter(gen)) for _ in range(3)]
    assert first == generate_proposals(3, seed=5)


def test_complete_proposals_leave_no_fact_a_rule_reads_unknown() -> None:
    base = load_rule_base()
    read = {f for rule in base.rules.values() for f in rule.facts if not base.facts[f].derived}
    for doc in generate_proposals(100, seed=3, complete=True):
        facts = flatten(Proposal.model_validate(doc))
        assert read <= set(facts), sorted(read - set(facts))


def test_incomplete_proposals_do_leave_facts_unknown() -> None:
    base = load_rule_base()
    read = {f for rule in base.rules.values() for f in rule.facts if not base.facts[f].derived}
    missing = [read - set(flatten(Proposal.model_validate(d))) for d in generate_proposals(50, seed=3)]
    assert any(missing)


def test_generated_proposals_cover_every_verdict() -> None:
    from datetime import date

    from biotoets.engine.evaluate import Engine

    engine = Engine(load_rule_base())
    try:
        verdicts = {engine.evaluate(d, date(2025, 1, 1))["verdict"] for d in generate_proposals(200, seed=1)}
    finally:
        engine.close()
    assert verdicts == {"allowed", "conditional", "prohibited"}


def test_unknown_share_must_be_a_probability() -> None:
    with pytest.raises(ValueError):
        ProposalGenerator(1, unknown=1.5)
