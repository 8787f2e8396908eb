"""Deciding a question with the z3 SMT solver, when the domains are too large to enumerate.

Every fact becomes a 'known' flag and a value; a condition becomes its two Kleene forms,
'definitely true' and 'possibly true', over them (the same meaning as ``conditions.kleene``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from .. import conditions as cond
from ..model import RuleBase
from .domains import Domains, Env, Witness


class Z3:
    """The same questions as SMT formulas: per fact a 'known' flag and a value."""

    def __init__(self, domains: Domains) -> None:
        import z3

        self.z3 = z3
        self.domains = domains

    def _vars(self, names: Iterable[str]) -> dict[str, Any]:
        z3, out = self.z3, {}
        for n in names:
            fact = self.domains.base.facts[n]
            known = z3.Bool(f"known:{n}")
            if fact.kind == "bool":
                value = z3.Bool(f"v:{n}")
                bounds = []
            elif fact.kind == "enum":
                value = z3.Int(f"v:{n}")
                values = self.domains.values(n)
                bounds = [value >= 0, value < len(values)]
            elif fact.kind == "int":
                value = z3.Int(f"v:{n}")
                bounds = []
                if fact.minimum is not None:
                    bounds.append(value >= fact.minimum)
                if fact.maximum is not None:
                    bounds.append(value <= fact.maximum)
            else:
                value = [z3.Bool(f"v:{n}:{i}") for i in range(len(self.domains.regions(n)))]
                bounds = []
            out[n] = (known, value, bounds)
        return out

    def _pred(self, leaf: cond.Leaf, value: Any) -> Any:
        z3 = self.z3
        fact = self.domains.base.facts.get(leaf.fact)
        op, lit = leaf.op, leaf.value
        kind = "bool" if fact is None else fact.kind
        if kind == "set":
            regions = self.domains.regions(leaf.fact)
            hit = z3.Or([b for b, reg in zip(value, regions, strict=True) if reg & set(lit)] or [z3.BoolVal(False)])
            return hit if op == "contains_any" else z3.Not(hit)

        def eq(x: Any) -> Any:
            if kind == "enum":
                values = self.domains.values(leaf.fact)
                return value == values.index(x) if x in values else z3.BoolVal(False)
            return value == x

        if op == "eq":
            return eq(lit)
        if op == "ne":
            return z3.Not(eq(lit))
        if op == "in":
            return z3.Or([eq(x) for x in lit])
        if op == "not_in":
            return z3.Not(z3.Or([eq(x) for x in lit]))
        return {"gt": value > lit, "gte": value >= lit, "lt": value < lit, "lte": value <= lit}[op]

    def forms(self, node: cond.Node, env: Mapping[str, Any]) -> tuple[Any, Any]:
        """(definitely true, possibly true) of an NNF tree."""
        z3 = self.z3
        if isinstance(node, cond.Leaf):
            known, value, _ = env[node.fact]
            if node.op == "present":
                return known, known
            if node.op == "absent":
                return z3.Not(known), z3.Not(known)
            pred = self._pred(node, value)
            return z3.And(known, pred), z3.Or(z3.Not(known), pred)
        parts = [self.forms(x, env) for x in cond.branches(node)]
        join = z3.And if isinstance(node, cond.All) else z3.Or
        return join([t for t, _ in parts]), join([p for _, p in parts])

    def search(self, facts: Iterable[str], days: list[date],
               goal: Callable[[Callable[[str], Any]], Any]) -> Witness | None:
        z3 = self.z3
        base, derived = self.domains.base, self.domains.derived
        names = sorted(facts)
        for on in days:
            env: dict[str, Any] = dict(self._vars(names))
            memo: dict[str, Any] = {}

            def derived_var(name: str, on: date = on, env: dict[str, Any] = env) -> None:
                if name in env:
                    return
                ts, ps = [], []
                for r in derived[name]:
                    if not r.in_force(on):
                        continue
                    for f in r.facts:
                        if f in derived:
                            derived_var(f)
                    t, p = self.forms(cond.nnf(r.when), env)
                    ts.append(t)
                    ps.append(p)
                d_t = z3.Or(ts) if ts else z3.BoolVal(False)
                d_p = z3.Or(ps) if ps else z3.BoolVal(False)
                env[name] = (z3.Or(d_t, z3.Not(d_p)), d_t, [])

            def holds(rid: str, on: date = on, env: dict[str, Any] = env, memo: dict[str, Any] = memo) -> Any:
                if rid not in memo:
                    rule = base.rules[rid]
                    if not rule.in_force(on):
                        memo[rid] = z3.BoolVal(False)
                    else:
                        for f in rule.facts:
                            if f in derived:
                                derived_var(f)
                        memo[rid] = self.forms(cond.nnf(rule.when), env)[0]
                return memo[rid]

            solver = z3.Solver()
            for n in names:
                solver.add(*env[n][2])
            solver.add(goal(holds))
            if solver.check() == z3.sat:
                m = solver.model()
                return self._witness(m, names, env), on
        return None

    def _witness(self, m: Any, names: list[str], env: Mapping[str, Any]) -> Env:
        z3, out = self.z3, {}
        for n in names:
            known, value, _ = env[n]
            if not z3.is_true(m.eval(known, model_completion=True)):
                continue
            fact = self.domains.base.facts[n]
            if fact.kind == "bool":
                out[n] = z3.is_true(m.eval(value, model_completion=True))
            elif fact.kind == "enum":
                out[n] = self.domains.values(n)[m.eval(value, model_completion=True).as_long()]
            elif fact.kind == "int":
                out[n] = m.eval(value, model_completion=True).as_long()
            else:
                regions = self.domains.regions(n)
                out[n] = tuple(sorted(min(reg) for b, reg in zip(value, regions, strict=True)
                                      if z3.is_true(m.eval(b, model_completion=True))))
        return out


def z3_applies(z3: Any, base: RuleBase, holds: Callable[[str], Any], rid: str) -> Any:
    exc = [z3_applies(z3, base, holds, e) for e in base.rules[rid].exceptions]
    return z3.And([holds(rid)] + [z3.Not(x) for x in exc])
