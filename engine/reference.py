"""The independent reference evaluator: the same rule trees, in plain Python.

It shares nothing with the durable_rules path but the parsed condition trees
and their Kleene meaning (``conditions.kleene``): no compiler, no strata, no
shards. Derived facts are computed by memoised recursion. Its result is
compared with durable_rules' on every evaluation; a disagreement fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from .conditions import Truth, kleene
from .loader import RuleBase


def rule_statuses(base: RuleBase, facts: Mapping[str, Any], on: date) -> tuple[dict[str, Truth], dict[str, Truth]]:
    """Kleene value of every rule in force, and of every derived fact."""
    derived_rules = base.derived_facts()
    known: dict[str, Any] = dict(facts)
    derived: dict[str, Truth] = {}
    in_force = {rid: r.in_force(on) for rid, r in base.rules.items()}

    def value(name: str) -> Truth:
        if name not in derived:
            results = [kleene(r.when, view) for r in derived_rules[name] if in_force[r.id]]
            if any(x is True for x in results):
                derived[name] = True
            elif any(x is None for x in results):
                derived[name] = None
            else:
                derived[name] = False
        return derived[name]

    class View(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            if key in derived_rules:
                v = value(key)
                if v is None:
                    raise KeyError(key)
                return v
            return known[key]

        def __contains__(self, key: object) -> bool:
            if key in derived_rules:
                return value(key) is not None  # type: ignore[arg-type]
            return key in known

        def __iter__(self):  # pragma: no cover - not used by kleene
            return iter(known)

        def __len__(self) -> int:  # pragma: no cover
            return len(known)

    view = View()
    statuses: dict[str, Truth] = {}
    for rid, rule in base.rules.items():
        statuses[rid] = kleene(rule.when, view) if in_force[rid] else False
    for name in derived_rules:
        value(name)
    return statuses, derived
