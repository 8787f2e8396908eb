"""The explainer's search as it was before its boundary values were precomputed (engine/explain.py at 7a5b492).

Kept as the specification the fast explainer is compared with (tests/engine/test_explain_fast.py). It takes
what did not change from the engine's Explainer -- the facts each rule depends on, the values tried for a fact,
the wording of a change -- and searches plainly: every fact is probed and every value tried is evaluated in
full with the reference evaluator's closures, and the verdict after a change looks at every verdict rule in
force.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from biotoets.engine.conditions import Truth
from biotoets.engine.explain import _FORGET, MAX_CHANGES, AppliesFn
from biotoets.engine.explain import Explainer as FastExplainer
from biotoets.engine.model import EFFECTS, SEVERITY


class Explainer(FastExplainer):
    """The engine's Explainer with the plain search (``changes``) of 7a5b492."""

    def changes(self, facts: Mapping[str, Any], statuses: Mapping[str, Truth], on: date,
                verdict: str, applies_fn: AppliesFn) -> list[dict[str, Any]]:
        """Single-fact changes that move the verdict, lowering ones first (at most ``MAX_CHANGES``)."""
        base = self.base
        in_force = self._plain_in_force(on)
        current = applies_fn(base, dict(statuses))
        deciding = [rid for rid in in_force if base.rules[rid].effect == verdict and current[rid] is True]
        higher = [rid for rid in in_force if SEVERITY.get(base.rules[rid].effect, -1) > SEVERITY[verdict]
                  and current[rid] is False]
        candidates: set[str] = set()
        exceptions = [e for d in deciding + higher for e in base.rules[d].exceptions]
        relevant = set(deciding + higher + exceptions)
        for rid in relevant:
            candidates |= self._inputs(rid)
        known = dict(facts)
        for d in self.order:  # the derived facts as they stand, computed once
            value = self.compiled.derived_value(d, known, in_force)
            if value is None:
                known.pop(d, None)
            else:
                known[d] = value
        verdict_rules = self._plain_verdict_rules(on)
        settled = {rid: current[rid] is True for rid in base.rules}
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for fact in sorted(candidates):
            if fact not in facts or base.facts[fact].derived:
                continue
            # Kleene logic is monotone: a rule that keeps its value with this fact unknown keeps it
            # whatever the fact is. Try values only for facts that some relevant rule depends on.
            probe = self._plain_recompute(known, statuses, fact, _FORGET, in_force)
            if not any(v is None and statuses[rid] is not None and rid in relevant for rid, v in probe.items()):
                continue
            found = 0
            for alt in self.alternatives(fact, facts[fact]):
                delta = self._plain_recompute(known, statuses, fact, alt, in_force)
                new_verdict, rules = self._plain_verdict(statuses, delta, settled, verdict_rules)
                if new_verdict == verdict or (fact, new_verdict) in seen:
                    continue
                found += 1
                seen.add((fact, new_verdict))
                out.append(self._change(fact, facts[fact], alt, new_verdict, rules))
                if found == 2:
                    break  # both other verdicts reached
        out.sort(key=lambda c: (SEVERITY[c["verdict"]] > SEVERITY[verdict], c["fact"], str(c["to"])))
        return out[:MAX_CHANGES]

    def _plain_in_force(self, on: date) -> frozenset[str]:
        return self.compiled.in_force(self.base, on)

    def _plain_verdict_rules(self, on: date) -> list[tuple[str, int]]:
        """In-force verdict rules as (id, severity), most severe first."""
        in_force = self._plain_in_force(on)
        rules = [(rid, SEVERITY[r.effect]) for rid, r in self.base.rules.items()
                 if rid in in_force and r.effect in SEVERITY]
        return sorted(rules, key=lambda x: (-x[1], x[0]))

    def _plain_verdict(self, statuses: Mapping[str, Truth], delta: Mapping[str, Truth], settled: Mapping[str, bool],
                 rules: list[tuple[str, int]]) -> tuple[str, list[str]]:
        """The verdict after the status changes in ``delta``, with ``verdict.applies``' default logic (a rule
        applies when its condition definitely holds and none of its exceptions definitely applies). Only the
        changed rules and the rules they may defeat are evaluated again; ``settled`` has the rest."""
        affected: set[str] = set()
        todo = [rid for rid in delta if delta[rid] != statuses[rid]]
        while todo:
            rid = todo.pop()
            if rid not in affected:
                affected.add(rid)
                todo.extend(self.parents.get(rid, ()))
        memo: dict[str, bool] = {}

        def definitely(rid: str) -> bool:
            if rid not in affected:
                return settled[rid]
            if rid not in memo:
                own = delta.get(rid, statuses[rid])
                memo[rid] = own is True and not any(definitely(e) for e in self.exceptions[rid])
            return memo[rid]

        best = -1
        chosen: list[str] = []
        for rid, severity in rules:
            if severity < best:
                break
            if definitely(rid):
                best = severity
                chosen.append(rid)
        return (EFFECTS[best] if best >= 0 else "allowed"), sorted(chosen)

    def _plain_recompute(self, known: dict[str, Any], statuses: Mapping[str, Truth], fact: str, value: Any,
                   in_force: frozenset[str]) -> dict[str, Truth]:
        """New statuses of the rules that depend on one changed fact (the others keep theirs).

        ``known`` is changed in place and restored before returning, to save copying it for every value tried.
        """
        saved: dict[str, Any] = {}

        def put(name: str, v: Any) -> None:
            if name not in saved:
                saved[name] = known.get(name, _FORGET)
            if v is _FORGET or v is None and name in self.derived_rules:
                known.pop(name, None)
            else:
                known[name] = v

        touched = {fact}
        count = "partners.count" if fact == "partners.countries" else fact + ".count"
        put(fact, value)
        if self.base.facts[fact].kind == "set" and count in self.base.facts:
            put(count, _FORGET if value is _FORGET else len(value))
            touched.add(count)
        down = self.downstream.get(fact, set())
        for d in self.order:
            if d in down:
                put(d, self.compiled.derived_value(d, known, in_force))
        touched |= down
        delta: dict[str, Truth] = {}
        for f in touched:
            for rid in self.readers.get(f, ()):
                delta[rid] = self.checks[rid](known) if rid in in_force else False
        for name, old in saved.items():
            if old is _FORGET:
                known.pop(name, None)
            else:
                known[name] = old
        return delta
