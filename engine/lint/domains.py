"""Finite domains for the facts of a rule base: what the logical checks quantify over.

Each fact's domain is cut at the literals the rules compare it with (enum values, integer
thresholds one step either side, the regions of the value lists a set is tested against),
plus ``UNKNOWN``. A question about one rule only ranges over the facts and rules in its scope.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from .. import conditions as cond
from ..model import FAR_FUTURE, RuleBase

UNKNOWN = None
OTHER = "\x00other"  # stands for every set element no rule mentions
Env = dict[str, Any]  # an assignment: fact name -> value; an unknown fact is absent
Witness = tuple[Env, date]  # a proposal (its known facts) and a date on which a question holds


class Domains:
    """The finite fact domains of one rule base, and the facts, rules and periods each question ranges over."""

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.derived = base.derived_facts()
        self.literals: dict[str, list[Any]] = {}
        self.set_lists: dict[str, set[tuple[str, ...]]] = {}
        for r in base.rules.values():
            for leaf in cond.leaves(r.when):
                if leaf.fact in self.derived or leaf.value is None:
                    continue
                fact = base.facts[leaf.fact]
                values = list(leaf.value) if isinstance(leaf.value, tuple) else [leaf.value]
                if fact.kind == "set":
                    self.set_lists.setdefault(leaf.fact, set()).add(tuple(sorted(values)))
                else:
                    self.literals.setdefault(leaf.fact, []).extend(values)
        self._domains: dict[str, list[Any]] = {}
        self._region_cache: dict[str, list[frozenset[str]]] = {}
        self._scope: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    # domains
    def domain(self, name: str) -> list[Any]:
        if name not in self._domains:
            self._domains[name] = [UNKNOWN] + self.values(name)
        return self._domains[name]

    def values(self, name: str) -> list[Any]:
        fact = self.base.facts[name]
        if fact.kind == "bool":
            return [True, False]
        if fact.kind == "enum":
            return list(fact.values) or sorted({str(v) for v in self.literals.get(name, [])} | {OTHER})
        if fact.kind == "int":
            lo = fact.minimum if fact.minimum is not None else -(10 ** 9)
            hi = fact.maximum if fact.maximum is not None else 10 ** 9
            points = {lo, hi}
            for v in self.literals.get(name, []):
                points |= {v - 1, v, v + 1}
            return sorted(p for p in points if lo <= p <= hi)
        regions = self.regions(name)
        reps = [min(r) for r in regions]
        return [tuple(sorted(c)) for n in range(len(reps) + 1) for c in itertools.combinations(reps, n)]

    def regions(self, name: str) -> list[frozenset[str]]:
        """Split the mentioned elements by which lists they belong to; one more region for the rest."""
        if name not in self._region_cache:
            lists = sorted(self.set_lists.get(name, set()))
            elements = sorted({x for lst in lists for x in lst})
            by_signature: dict[tuple[bool, ...], set[str]] = {}
            for x in elements:
                by_signature.setdefault(tuple(x in lst for lst in lists), set()).add(x)
            self._region_cache[name] = [frozenset(v) for _, v in sorted(by_signature.items())] + [frozenset({OTHER})]
        return self._region_cache[name]

    # scope: the base facts and the rules a question depends on
    def scope(self, rid: str) -> tuple[frozenset[str], frozenset[str]]:
        if rid not in self._scope:
            facts: set[str] = set()
            rules: set[str] = set()
            stack = [rid]
            while stack:
                cur = stack.pop()
                if cur in rules:
                    continue
                rules.add(cur)
                rule = self.base.rules[cur]
                stack.extend(rule.exceptions)
                for f in rule.facts:
                    if f in self.derived:
                        stack.extend(r.id for r in self.derived[f])
                    else:
                        facts.add(f)
            self._scope[rid] = (frozenset(facts), frozenset(rules))
        return self._scope[rid]

    def periods(self, rules: Iterable[str]) -> list[date]:
        """First days of the periods in which these rules' in-force status is constant."""
        days = {date(1900, 1, 1)}
        for rid in rules:
            r = self.base.rules[rid]
            days.add(date.fromisoformat(r.valid_from))
            if r.valid_to and r.valid_to != FAR_FUTURE:
                days.add(date.fromisoformat(r.valid_to) + timedelta(days=1))
        return sorted(days)
