"""The domain model's own behaviour: the derived-fact order, the per-rule-base cache, the effect vocabulary."""

from __future__ import annotations

import gc

import pytest

from biotoets.engine import conditions as cond
from biotoets.engine.loader import load_rule_base
from biotoets.engine.model import EFFECTS, RESTRICTING, SEVERITY, VERDICT_WORDS, RuleBase, per_rule_base


def test_derived_order_puts_every_derived_fact_after_those_its_rules_read(base: RuleBase) -> None:
    order = base.derived_order()
    derived = base.derived_facts()
    assert sorted(order) == sorted(derived)
    position = {name: i for i, name in enumerate(order)}
    read_before = 0
    for name, rules in derived.items():
        for rule in rules:
            for f in rule.facts & set(derived):
                assert position[f] < position[name], (f, name)
                read_before += 1
    assert read_before > 0  # the shipped rules do chain, so the order is tested, not vacuous


def test_derived_order_is_the_same_for_the_same_rules(base: RuleBase) -> None:
    assert load_rule_base().derived_order() == base.derived_order()


def test_per_rule_base_builds_once_per_rule_base_and_forgets_it() -> None:
    built: list[int] = []

    def build(b: RuleBase) -> int:
        built.append(id(b))
        return len(built)

    cached = per_rule_base(build)
    first, second = load_rule_base(), load_rule_base()
    assert cached(first) == 1 and cached(first) == 1
    assert cached(second) == 2 and cached(first) == 1
    assert len(built) == 2
    gone = id(first)
    del first
    gc.collect()
    third = load_rule_base()
    # Whatever id the new rule base gets, it is built for, never served what belonged to a dead one.
    assert cached(third) == 3
    assert built[-1] == id(third) and (id(third) != gone or built.count(gone) == 2)


def test_the_effect_vocabulary_is_one_order() -> None:
    assert EFFECTS == ("allowed", "conditional", "prohibited")
    assert [SEVERITY[e] for e in EFFECTS] == [0, 1, 2]
    assert set(RESTRICTING) == {e for e in EFFECTS if SEVERITY[e] > SEVERITY["allowed"]}
    assert set(VERDICT_WORDS) == set(EFFECTS)


def test_branches_refuses_a_not_left_in_negation_normal_form() -> None:
    tree = cond.parse({"not": {"fact": "human.embryo", "eq": True}})
    assert isinstance(tree, cond.Not)
    with pytest.raises(ValueError, match="negation normal form"):
        cond.branches(tree)
    assert cond.branches(cond.nnf(cond.All((tree,)))) == (cond.Leaf("human.embryo", "ne", True),)
