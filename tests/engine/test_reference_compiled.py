"""The reference evaluator's compiled conditions mean exactly what ``conditions.kleene`` means."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from biotoets.api.analysis.generate import generate_proposals
from biotoets.engine import conditions as cond
from biotoets.engine import reference
from biotoets.engine.facts import flatten
from biotoets.engine.loader import load_rule_base
from biotoets.engine.proposal import Proposal


def _tree_statuses(base, facts, on):
    """The specification: the first reference evaluator, tree walking with ``conditions.kleene``."""
    derived_rules = base.derived_facts()
    known = dict(facts)
    derived: dict = {}
    in_force = {rid: r.in_force(on) for rid, r in base.rules.items()}

    def value(name):
        if name not in derived:
            results = [cond.kleene(r.when, view) for r in derived_rules[name] if in_force[r.id]]
            if any(x is True for x in results):
                derived[name] = True
            elif any(x is None for x in results):
                derived[name] = None
            else:
                derived[name] = False
        return derived[name]

    class View(Mapping):
        def __getitem__(self, key):
            if key in derived_rules:
                v = value(key)
                if v is None:
                    raise KeyError(key)
                return v
            return known[key]

        def __contains__(self, key):
            if key in derived_rules:
                return value(key) is not None
            return key in known

        def __iter__(self):
            return iter(known)

        def __len__(self):
            return len(known)

    view = View()
    statuses = {rid: cond.kleene(rule.when, view) if in_force[rid] else False for rid, rule in base.rules.items()}
    for name in derived_rules:
        value(name)
    return statuses, derived


def test_compiled_conditions_equal_kleene_on_generated_facts() -> None:
    base = load_rule_base()
    checks = {rid: cond.compile_condition(r.when) for rid, r in base.rules.items()}
    for doc in generate_proposals(300, seed=4, unknown=0.5):
        facts = flatten(Proposal.model_validate(doc))
        # Also feed derived facts in every state, so rules that read them are exercised.
        for extra in ({}, {n: True for n in base.derived_facts()}, {n: False for n in base.derived_facts()}):
            known = {**facts, **extra}
            for rid, rule in base.rules.items():
                assert checks[rid](known) == cond.kleene(rule.when, known), rid


def test_rule_statuses_equal_the_tree_specification() -> None:
    base = load_rule_base()
    for on in (date(2025, 1, 1), date(2010, 1, 1)):
        for doc in generate_proposals(200, seed=5, unknown=0.4):
            facts = flatten(Proposal.model_validate(doc))
            assert reference.rule_statuses(base, facts, on) == _tree_statuses(base, facts, on)
