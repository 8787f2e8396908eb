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


def _random_tree(rng, depth: int = 0):
    """A condition tree over facts a..d with every operator, literals of several types and nesting."""
    roll = rng.random()
    if depth < 3 and roll < 0.35:
        kind = rng.choice([cond.All, cond.Any_])
        return kind(tuple(_random_tree(rng, depth + 1) for _ in range(rng.randint(1, 4))))
    if depth < 3 and roll < 0.45:
        return cond.Not(_random_tree(rng, depth + 1))
    op = rng.choice(["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains_any", "contains_none",
                     "present", "absent"])
    fact = rng.choice("abcd")
    if op in ("present", "absent"):
        return cond.Leaf(fact, op, None)
    if op in ("in", "not_in", "contains_any", "contains_none"):
        return cond.Leaf(fact, op, tuple(rng.sample([1, 2, "x", "y", True], rng.randint(1, 3))))
    if op in ("gt", "gte", "lt", "lte"):
        return cond.Leaf(fact, op, rng.choice([0, 1, 5]))
    return cond.Leaf(fact, op, rng.choice([True, False, 1, 0, "x", 5]))


def _outcome(fn, *args):
    try:
        return ("value", fn(*args))
    except TypeError as exc:  # a test on a value of the wrong type
        return ("raises", type(exc))


def test_the_generated_code_means_kleene_for_every_operator_and_value_type() -> None:
    import random
    rng = random.Random(11)
    pool = [True, False, 1, 0, 2, 5, "x", "y", ("x", 1), ()]
    ops_seen: set[str] = set()
    for _ in range(1500):
        tree = _random_tree(rng)
        check = cond.compile_condition(tree)
        ops_seen |= {leaf.op for leaf in cond.leaves(tree)}
        for _ in range(12):
            facts = {f: rng.choice(pool) for f in "abcd" if rng.random() < 0.7}
            want = _outcome(cond.kleene, tree, facts)
            if want[0] == "raises":
                continue  # a value of the wrong type (validation keeps them out); the code may stop earlier
            got = _outcome(check, facts)
            assert got == want and got[1] is want[1], (tree, facts)  # exactly True, False or None
    assert len(ops_seen) == 12
