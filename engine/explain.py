"""What would change the verdict: single-fact counterfactuals computed from the rule conditions.

For every known fact that the deciding rules (or more severe rules that do not
apply) read, try the other values that matter to the rules -- the literals
they compare with, one step either side of a number, an "other" enum value --
and re-evaluate only the rules that depend on that fact. A change is reported
when it moves the verdict, with the rules that would then decide it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from . import conditions as cond
from .conditions import Truth
from .loader import SEVERITY, RuleBase, Text

MAX_CHANGES = 12
WORDS = {
    "allowed": Text("toegestaan", "allowed"),
    "conditional": Text("voorwaardelijk toegestaan", "conditional"),
    "prohibited": Text("verboden", "prohibited"),
}


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


class Explainer:
    """Precomputed dependencies of a rule base, for cheap counterfactuals."""

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.derived_rules = base.derived_facts()
        # fact -> derived facts that read it, transitively
        self.downstream: dict[str, set[str]] = {}
        for name in base.facts:
            self.downstream[name] = self._downstream(name, set())
        # fact -> ids of rules that read it or a derived fact downstream of it
        self.readers: dict[str, set[str]] = {}
        for rid, rule in base.rules.items():
            for f in rule.facts:
                self.readers.setdefault(f, set()).add(rid)
        self.literals: dict[str, list[Any]] = {}
        for rule in base.rules.values():
            for leaf in cond.leaves(rule.when):
                vals = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
                bucket = self.literals.setdefault(leaf.fact, [])
                for v in vals:
                    if v is not None and v not in bucket:
                        bucket.append(v)
        self.order = self._derived_order()

    def _downstream(self, fact: str, seen: set[str]) -> set[str]:
        out: set[str] = set()
        for d, rules in self.derived_rules.items():
            if d in seen:
                continue
            if any(fact in r.facts for r in rules):
                out.add(d)
                out |= self._downstream(d, seen | {d})
        return out

    def _derived_order(self) -> list[str]:
        done: list[str] = []

        def visit(d: str) -> None:
            if d in done:
                return
            for r in self.derived_rules[d]:
                for f in r.facts:
                    if f in self.derived_rules:
                        visit(f)
            done.append(d)

        for d in sorted(self.derived_rules):
            visit(d)
        return done

    def alternatives(self, fact: str, value: Any) -> list[Any]:
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

    def changes(self, facts: Mapping[str, Any], statuses: Mapping[str, Truth], on: date,
                verdict: str, applies_fn: Any) -> list[dict[str, Any]]:
        base = self.base
        in_force = {rid for rid, r in base.rules.items() if r.in_force(on)}
        current = applies_fn(base, dict(statuses))
        deciding = [rid for rid in in_force if base.rules[rid].effect == verdict and current[rid] is True]
        higher = [rid for rid in in_force if SEVERITY.get(base.rules[rid].effect, -1) > SEVERITY[verdict]
                  and current[rid] is False]
        candidates: set[str] = set()
        exceptions = [e for d in deciding for e in base.rules[d].exceptions]
        for rid in deciding + higher + exceptions:
            candidates |= self._inputs(rid)
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for fact in sorted(candidates):
            if fact not in facts or base.facts[fact].derived:
                continue
            for alt in self.alternatives(fact, facts[fact]):
                new_status = self._recompute(facts, statuses, fact, alt, on, in_force)
                applied = applies_fn(base, new_status)
                effects = [base.rules[r].effect for r in in_force
                           if applied[r] is True and base.rules[r].effect != "derive"]
                new_verdict = max(effects, key=SEVERITY.__getitem__, default="allowed")
                if new_verdict == verdict or (fact, new_verdict) in seen:
                    continue
                seen.add((fact, new_verdict))
                rules = sorted(r for r in in_force if applied[r] is True and base.rules[r].effect == new_verdict)
                out.append(self._change(fact, facts[fact], alt, new_verdict, rules))
        out.sort(key=lambda c: (SEVERITY[c["verdict"]] > SEVERITY[verdict], c["fact"], str(c["to"])))
        return out[:MAX_CHANGES]

    def _inputs(self, rid: str) -> set[str]:
        out: set[str] = set()
        for f in self.base.rules[rid].facts:
            if f in self.derived_rules:
                for r in self.derived_rules[f]:
                    out |= self._inputs(r.id)
            else:
                out.add(f)
        return out

    def _recompute(self, facts: Mapping[str, Any], statuses: Mapping[str, Truth], fact: str, value: Any,
                   on: date, in_force: set[str]) -> dict[str, Truth]:
        known = dict(facts)
        known[fact] = value
        if self.base.facts[fact].kind == "set":
            count = "partners.count" if fact == "partners.countries" else fact + ".count"
            if count in self.base.facts:
                known[count] = len(value)
        touched = {fact} | self.downstream.get(fact, set())
        for d in self.order:
            results = [cond.kleene(r.when, known) for r in self.derived_rules[d] if r.id in in_force]
            if any(x is True for x in results):
                known[d] = True
            elif any(x is None for x in results):
                known.pop(d, None)
            else:
                known[d] = False
        new = dict(statuses)
        for f in touched:
            for rid in self.readers.get(f, ()):
                new[rid] = cond.kleene(self.base.rules[rid].when, known) if rid in in_force else False
        return new

    @staticmethod
    def _change(fact: str, old: Any, new: Any, verdict: str, rules: list[str]) -> dict[str, Any]:
        tail = f" ({', '.join(rules)})" if rules else ""
        text = Text(
            f"Als {fact} {_show(new)} was in plaats van {_show(old)}: {WORDS[verdict].nl}{tail}",
            f"If {fact} were {_show(new)} instead of {_show(old)}: {verdict}{tail}",
        )
        return {"fact": fact, "from": old, "to": new, "verdict": verdict, "rules": rules, "text": text.as_dict()}
