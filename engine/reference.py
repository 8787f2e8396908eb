"""The independent reference evaluator: the same rule trees, in plain Python.

It shares nothing with the durable_rules path but the parsed condition trees
and their Kleene meaning (``conditions.kleene`` / ``conditions.eval_leaf``): no
compiler, no strata, no shards. Its result is compared with durable_rules' on
every evaluation; a disagreement fails closed.

For speed each condition tree is turned once into nested closures with exactly
``conditions.kleene``'s meaning (``compile_condition``; a test holds the two
equal on generated facts), and derived facts are computed once per evaluation
in dependency order. The compiled form is cached per rule base.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from . import conditions as cond
from .conditions import Truth
from .model import RuleBase

Check = Callable[[Mapping[str, Any]], Truth]
_MISSING = object()


def _leaf(leaf: cond.Leaf) -> Check:
    """One leaf predicate with ``conditions.eval_leaf``'s meaning."""
    f, op, lit = leaf.fact, leaf.op, leaf.value
    missing = _MISSING
    if op == "present":
        return lambda facts: f in facts
    if op == "absent":
        return lambda facts: f not in facts
    if op in ("eq", "ne"):
        lit_type = type(lit)
        if op == "eq":
            def eq(facts: Mapping[str, Any]) -> Truth:
                v = facts.get(f, missing)
                return None if v is missing else (v == lit and type(v) is lit_type)
            return eq

        def ne(facts: Mapping[str, Any]) -> Truth:
            v = facts.get(f, missing)
            return None if v is missing else not (v == lit and type(v) is lit_type)
        return ne
    tests: dict[str, Callable[[Any], bool]] = {
        "in": lambda v: v in lit,
        "not_in": lambda v: v not in lit,
        "gt": lambda v: v > lit,
        "gte": lambda v: v >= lit,
        "lt": lambda v: v < lit,
        "lte": lambda v: v <= lit,
        "contains_any": lambda v: any(x in lit for x in v),
        "contains_none": lambda v: not any(x in lit for x in v),
    }
    if op not in tests:
        raise ValueError(f"unknown operator {op}")
    test = tests[op]

    def check(facts: Mapping[str, Any]) -> Truth:
        v = facts.get(f, missing)
        return None if v is missing else test(v)
    return check


def compile_condition(node: cond.Node) -> Check:
    """A condition tree as a function of the facts, with ``conditions.kleene``'s meaning."""
    if isinstance(node, cond.Leaf):
        return _leaf(node)
    if isinstance(node, cond.Not):
        inner = compile_condition(node.item)

        def negate(facts: Mapping[str, Any]) -> Truth:
            r = inner(facts)
            return None if r is None else not r
        return negate
    parts = tuple(compile_condition(x) for x in node.items)
    if isinstance(node, cond.All):
        def all_of(facts: Mapping[str, Any]) -> Truth:
            unknown = False
            for part in parts:
                r = part(facts)
                if r is False:
                    return False
                if r is None:
                    unknown = True
            return None if unknown else True
        return all_of

    def any_of(facts: Mapping[str, Any]) -> Truth:
        unknown = False
        for part in parts:
            r = part(facts)
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False
    return any_of


class _Compiled:
    """A rule base's conditions as closures, derived facts in dependency order."""

    def __init__(self, base: RuleBase) -> None:
        self.base_ref = weakref.ref(base)
        self.checks = {rid: compile_condition(r.when) for rid, r in base.rules.items()}
        derived = base.derived_facts()
        self.derived_rules = {name: tuple(r.id for r in rules) for name, rules in derived.items()}
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for r in derived[name]:
                for f in sorted(r.facts):
                    if f in derived:
                        visit(f)
            order.append(name)

        for name in derived:
            visit(name)
        self.order = tuple(order)
        self._in_force: dict[date, frozenset[str]] = {}

    def in_force(self, base: RuleBase, on: date) -> frozenset[str]:
        got = self._in_force.get(on)
        if got is None:
            if len(self._in_force) > 64:
                self._in_force.clear()
            got = self._in_force[on] = frozenset(rid for rid, r in base.rules.items() if r.in_force(on))
        return got


_CACHE: dict[int, _Compiled] = {}


def _compiled(base: RuleBase) -> _Compiled:
    got = _CACHE.get(id(base))
    if got is None or got.base_ref() is not base:
        got = _CACHE[id(base)] = _Compiled(base)
        weakref.finalize(base, _CACHE.pop, id(base), None)
    return got


def rule_statuses(base: RuleBase, facts: Mapping[str, Any], on: date) -> tuple[dict[str, Truth], dict[str, Truth]]:
    """Kleene value of every rule in force, and of every derived fact."""
    comp = _compiled(base)
    checks = comp.checks
    in_force = comp.in_force(base, on)
    known: dict[str, Any] = dict(facts)
    derived: dict[str, Truth] = {}
    for name in comp.order:
        value: Truth = False
        for rid in comp.derived_rules[name]:
            if rid in in_force:
                r = checks[rid](known)
                if r is True:
                    value = True
                    break
                if r is None:
                    value = None
        derived[name] = value
        # A derived fact that is unknown is absent, like any unknown fact.
        if value is None:
            known.pop(name, None)
        else:
            known[name] = value
    statuses = {rid: (checks[rid](known) if rid in in_force else False) for rid in base.rules}
    return statuses, derived
