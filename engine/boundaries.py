"""The boundary values of a rule base: which values of a fact the rules can tell apart.

Every leaf of a condition on a known fact is one test of the fact's value
against a literal (``conditions.KNOWN_TESTS``). A fact's *boundary tests* are
the distinct (operator, literal) pairs of all rules' leaves on it (and on its
count, for a set); a value's *signature* is which of them it passes. Two values
with the same signature give every leaf on the fact, and so every rule, the
same outcome: the explainer (``explain.py``) tries one value per signature and
re-evaluates only the rules whose leaves changed outcome. Computed once per
rule base, when it is loaded. With them, per fact, the values worth trying (``alternatives``), and per date,
the verdict rules in force (``DayRules``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import conditions as cond
from .model import SEVERITY, RuleBase

Test = tuple[Callable[[Any, Any], bool], Any]
Signature = tuple[bool, ...]


def count_fact(base: RuleBase, fact: str) -> str | None:
    """The fact holding a set's size (changed with it), if the rule base has one."""
    name = "partners.count" if fact == "partners.countries" else fact + ".count"
    return name if base.facts[fact].kind == "set" and name in base.facts else None


class Boundaries:
    """Per fact: its boundary tests, on the value and on its count, and the rules that make each test."""

    def __init__(self, base: RuleBase) -> None:
        leaves = [(rid, leaf) for rid, rule in base.rules.items() for leaf in cond.leaves(rule.when)
                  if leaf.op in cond.KNOWN_TESTS]
        self.tests: dict[str, tuple[tuple[Test, ...], tuple[Test, ...]]] = {}
        # For each signature position of a fact, the rules with a leaf making that test.
        self.rules: dict[str, tuple[frozenset[str], ...]] = {}
        for name in base.facts:
            count = count_fact(base, name)
            own = self._tests(leaves, name)
            on_count = self._tests(leaves, count) if count else []
            self.tests[name] = (tuple(t for t, _ in own), tuple(t for t, _ in on_count))
            self.rules[name] = tuple(rules for _, rules in own + on_count)
        # Per fact, the literals the rules compare it with, in the rule base's order (for ``alternatives``).
        self.base = base
        self.literals: dict[str, list[Any]] = {}
        for rule in base.rules.values():
            for leaf in cond.leaves(rule.when):
                vals = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
                bucket = self.literals.setdefault(leaf.fact, [])
                for v in vals:
                    if v is not None and v not in bucket:
                        bucket.append(v)

    def alternatives(self, fact: str, value: Any) -> list[Any]:
        """The values of a fact worth trying instead of ``value``: the other literals the rules compare it with
        (and one enum value none does), one step either side of a number's literals, a set with one literal more
        or emptied."""
        spec = self.base.facts[fact]
        lits = self.literals.get(fact, [])
        if spec.kind == "bool":
            return [not value]
        if spec.kind == "enum":
            others = [v for v in lits if v != value]
            spare = [v for v in spec.values if v not in lits and v != value]
            return others + spare[:1]
        if spec.kind == "int":
            cands: list[int] = []
            for lit in lits:
                for c in (lit - 1, lit, lit + 1):
                    if c != value and c not in cands and (spec.minimum is None or c >= spec.minimum) \
                            and (spec.maximum is None or c <= spec.maximum):
                        cands.append(c)
            return cands
        if spec.kind == "set":
            current = list(value)
            cands_s: list[Any] = [] if not current else [[]]
            for lit in lits[:8]:
                if lit not in current:
                    cands_s.append(sorted(current + [lit]))
            return cands_s
        return []

    @staticmethod
    def _tests(leaves: list[tuple[str, cond.Leaf]], fact: str) -> list[tuple[Test, frozenset[str]]]:
        tests: dict[tuple[str, Any], tuple[Test, set[str]]] = {}
        for rid, leaf in leaves:
            if leaf.fact == fact:
                key = (leaf.op, (type(leaf.value), leaf.value))
                tests.setdefault(key, ((cond.KNOWN_TESTS[leaf.op], leaf.value), set()))[1].add(rid)
        return [(test, frozenset(rules)) for test, rules in tests.values()]

    def signature(self, fact: str, value: Any) -> Signature | None:
        """Which boundary tests a known value of a fact passes (None: a value no test can compare)."""
        own, on_count = self.tests[fact]
        try:
            sig = tuple(test(value, lit) for test, lit in own)
            if on_count:
                n = len(value)
                sig += tuple(test(n, lit) for test, lit in on_count)
        except TypeError:
            return None
        return sig

    def moved(self, fact: str, sig: Signature, other: Signature) -> frozenset[str]:
        """The rules with a leaf on the fact (or its count) whose outcome differs between two signatures."""
        moved: set[str] = set()
        for rules, a, b in zip(self.rules[fact], sig, other, strict=True):
            if a is not b:
                moved |= rules
        return frozenset(moved)


class DayRules:
    """The verdict rules in force on one date, as the explainer looks at them (kept per date)."""

    def __init__(self, base: RuleBase, in_force: frozenset[str]) -> None:
        self.in_force = in_force
        # (id, effect, severity) of every verdict rule in force, in the rule base's order
        self.rules = [(rid, r.effect, SEVERITY[r.effect]) for rid, r in base.rules.items()
                      if rid in in_force and r.effect in SEVERITY]
        self.severity = {rid: severity for rid, _, severity in self.rules}
        self._top: dict[str, int] = {}
        self._more_severe: dict[int, list[str]] = {}

    def more_severe(self, level: int) -> list[str]:
        """The verdict rules in force more severe than ``level``, in the rule base's order (kept per level)."""
        got = self._more_severe.get(level)
        if got is None:
            got = self._more_severe[level] = [rid for rid, _, severity in self.rules if severity > level]
        return got

    def top(self, fact: str, reach: frozenset[str]) -> int:
        """The highest severity of a verdict rule in force among ``reach`` (the rules a fact can reach; -1 for
        none), kept per fact."""
        got = self._top.get(fact)
        if got is None:
            severity = self.severity
            got = self._top[fact] = max((severity[rid] for rid in reach if rid in severity), default=-1)
        return got
