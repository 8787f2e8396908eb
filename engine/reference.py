"""The independent reference evaluator: the same rule trees, in plain Python.

It shares nothing with the durable_rules path but the parsed condition trees
and their Kleene meaning (``conditions``): no durable_rules compiler, no strata,
no shards. Its result is compared with durable_rules' on every evaluation; a
disagreement fails closed.

For speed each condition tree is turned once into nested closures with exactly
``conditions.kleene``'s meaning (``conditions.compile_condition``; a test holds
the two equal on generated facts), and derived facts are computed once per
evaluation in ``RuleBase.derived_order``. The compiled form is kept per rule
base (``compiled``); the explainer evaluates with it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from .conditions import Check, Truth, compile_condition
from .model import RuleBase, per_rule_base


class Compiled:
    """A rule base's conditions as closures, and its derived facts in dependency order."""

    def __init__(self, base: RuleBase) -> None:
        self.checks: dict[str, Check] = {rid: compile_condition(r.when) for rid, r in base.rules.items()}
        self.order = base.derived_order()
        self.derived_rules = {name: tuple(r.id for r in rules) for name, rules in base.derived_facts().items()}
        self._in_force: dict[date, frozenset[str]] = {}

    def in_force(self, base: RuleBase, on: date) -> frozenset[str]:
        """Ids of the rules of ``base`` (the rule base this was compiled from) in force on a date.

        The last 64 dates asked are kept.
        """
        got = self._in_force.get(on)
        if got is None:
            if len(self._in_force) > 64:
                self._in_force.clear()
            got = self._in_force[on] = frozenset(rid for rid, r in base.rules.items() if r.in_force(on))
        return got

    def derived_value(self, name: str, known: Mapping[str, Any], in_force: frozenset[str]) -> Truth:
        """A derived fact: true when one of its rules in force holds, unknown when none does but one may."""
        value: Truth = False
        for rid in self.derived_rules[name]:
            if rid in in_force:
                r = self.checks[rid](known)
                if r is True:
                    return True
                if r is None:
                    value = None
        return value


compiled = per_rule_base(Compiled)


def rule_statuses(base: RuleBase, facts: Mapping[str, Any], on: date) -> tuple[dict[str, Truth], dict[str, Truth]]:
    """Kleene value of every rule in force, and of every derived fact."""
    comp = compiled(base)
    checks = comp.checks
    in_force = comp.in_force(base, on)
    known: dict[str, Any] = dict(facts)
    derived: dict[str, Truth] = {}
    for name in comp.order:
        value = derived[name] = comp.derived_value(name, known, in_force)
        # A derived fact that is unknown is absent, like any unknown fact.
        if value is None:
            known.pop(name, None)
        else:
            known[name] = value
    statuses = {rid: (checks[rid](known) if rid in in_force else False) for rid in base.rules}
    return statuses, derived
