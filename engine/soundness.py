"""The proof that the questions' gates are sound (see ``gates.py``).

A gate is *sound* when skipping its question can never change what a rule says: wherever the gate is false,
every rule that reads the fact (directly, or through a fact a classification rule derives from it) has the same
three-valued status whether the fact is unknown or has any value consistent with the implications.

Quick proofs first, each by enumerating only a few facts: an implication settles the fact wherever the gate is
closed; or every place a rule reads the fact sits in an "all" with another part that is false wherever the gate
is closed; or the rule itself (or, for an exception, every rule it defeats) has such a part. Otherwise every
assignment of the facts involved is enumerated (each domain cut at the literals of the conditions involved,
plus "unknown"), and a gate that fails is refused with the fact, the rule and a counter-example.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

from . import conditions as cond
from .implications import apply_implications, compiled, consistent
from .model import GateError, Gates, Implication, Rule, RuleBase

OTHER = "\x00other"  # a value no rule or gate mentions
QUICK_BUDGET = 20_000  # assignments a quick proof may try before leaving it to the full one
BUDGET = 2_000_000  # assignments the full proof may try for one gate and rule; beyond it loading refuses the gate


def _size(domains: _Domains, names: list[str]) -> int:
    n = 1
    for name in names:
        n *= len(domains.of(name))
    return n


class _Domains:
    """Finite domains per fact: the values that can make a difference to some condition, plus unknown."""

    def __init__(self, base: RuleBase, nodes: Iterable[cond.Node], implied: Iterable[Implication] = ()) -> None:
        self.base = base
        self.literals: dict[str, set[Any]] = {}
        self.set_lists: dict[str, set[tuple[str, ...]]] = {}
        for imp in implied:  # a value an implication sets is a value to try
            for name, value in imp.then:
                if isinstance(value, tuple):
                    self.set_lists.setdefault(name, set()).add(tuple(sorted(value)))
                elif value is not None and not isinstance(value, bool):
                    self.literals.setdefault(name, set()).add(value)
        for node in nodes:
            for leaf in cond.leaves(node):
                if leaf.value is None or base.facts[leaf.fact].derived:
                    continue
                vals = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
                if base.facts[leaf.fact].kind == "set":
                    self.set_lists.setdefault(leaf.fact, set()).add(tuple(sorted(vals)))
                else:
                    self.literals.setdefault(leaf.fact, set()).update(vals)
        self._cache: dict[str, list[Any]] = {}

    def of(self, name: str) -> list[Any]:
        got = self._cache.get(name)
        if got is None:
            got = self._cache[name] = [None] + self._values(name)
        return got

    def _values(self, name: str) -> list[Any]:
        fact = self.base.facts[name]
        if fact.kind == "bool":
            return [True, False]
        if fact.kind == "enum":
            return list(fact.values)
        if fact.kind == "int":
            lo = fact.minimum if fact.minimum is not None else -(10 ** 9)
            points = {lo}
            for v in self.literals.get(name, ()):
                points |= {v - 1, v, v + 1}
            return sorted(p for p in points if p >= lo and (fact.maximum is None or p <= fact.maximum))
        lists = sorted(self.set_lists.get(name, set()))
        regions: dict[tuple[bool, ...], str] = {}
        for x in sorted({x for lst in lists for x in lst}):
            regions.setdefault(tuple(x in lst for lst in lists), x)
        reps = list(regions.values()) + [OTHER]
        return [list(c) for n in range(len(reps) + 1) for c in itertools.combinations(reps, n)]


def _inputs(base: RuleBase, derived: Mapping[str, list[Rule]], node_facts: Iterable[str]) -> set[str]:
    """The base facts behind some facts, through derived facts."""
    out: set[str] = set()
    stack = list(node_facts)
    seen: set[str] = set()
    while stack:
        f = stack.pop()
        if f in seen:
            continue
        seen.add(f)
        if f in derived:
            for r in derived[f]:
                stack.extend(r.facts)
        else:
            out.add(f)
    return out


def _needed(derived: Mapping[str, list[Rule]], facts: set[str]) -> set[str]:
    """The derived facts these facts rest on, transitively."""
    out: set[str] = set()
    stack = [f for f in facts if f in derived]
    while stack:
        d = stack.pop()
        if d not in out:
            out.add(d)
            stack.extend(f for r in derived[d] for f in r.facts if f in derived)
    return out


def _derived_order(derived: Mapping[str, list[Rule]]) -> list[str]:
    order: list[str] = []

    def visit(d: str) -> None:
        if d in order:
            return
        for r in derived[d]:
            for f in r.facts:
                if f in derived:
                    visit(f)
        order.append(d)

    for d in sorted(derived):
        visit(d)
    return order


def _derivation(order: list[str], derived: Mapping[str, list[Rule]]) -> list[tuple[str, list[cond.Check]]]:
    """The derived facts in ``order`` with their rules' compiled conditions, for ``_with_derived``."""
    return [(d, [compiled(r.when) for r in derived[d]]) for d in order]


def _with_derived(facts: dict[str, Any], derivation: list[tuple[str, list[cond.Check]]]) -> dict[str, Any]:
    """Derived facts as the engine computes them: true if a rule says so, unknown if one may."""
    for d, checks in derivation:
        values = [check(facts) for check in checks]
        if True in values:
            facts[d] = True
        elif None in values:
            facts.pop(d, None)
        else:
            facts[d] = False
    return facts


def prove_sound(gates: Gates, base: RuleBase) -> None:
    """Raise ``GateError`` with a counter-example for the first gate that a rule can see through."""
    derived = base.derived_facts()
    order = _derived_order(derived)
    parents: dict[str, list[str]] = {}
    for r in base.rules.values():
        for e in r.exceptions:
            parents.setdefault(e, []).append(r.id)
    readers: dict[str, list[Rule]] = {}
    for r in base.rules.values():
        for f in r.facts:
            readers.setdefault(f, []).append(r)
    for fact, g in sorted(gates.questions.items()):
        if g.ask_when is None or fact not in base.facts:
            continue
        if _settled_when_closed(gates, base, g.ask_when, fact, order, derived) or all(
                _occurrences_closed(gates, base, g.ask_when, r.when, fact, order, derived)
                for r in readers.get(fact, [])):
            continue
        for rule in _affected(readers, fact):
            watch = [base.rules[p] for p in parents.get(rule.id, [])] if rule.effect == "allowed" else []
            if _closed_by_gate(gates, base, g.ask_when, [rule], fact, order, derived) or (
                    watch and _closed_by_gate(gates, base, g.ask_when, watch, fact, order, derived)):
                continue
            found = _counter_example(gates, base, fact, g.ask_when, rule, watch, order, derived)
            if found is not None:
                raise GateError(
                    "unsound-gate",
                    f"the gate of {fact!r} is not sound: rule {rule.id!r} reads {fact!r} where the gate is false, "
                    f"e.g. {found}; make the rule's condition imply the gate, or widen the gate",
                    rule.id, f"/questions/{fact}/ask_when")


def _affected(readers: Mapping[str, list[Rule]], fact: str) -> list[Rule]:
    """The verdict rules that read a fact, directly or through the facts classification rules derive from it."""
    out: dict[str, Rule] = {}
    stack, seen = [fact], {fact}
    while stack:
        for r in readers.get(stack.pop(), []):
            if r.effect != "derive":
                out[r.id] = r
            elif r.derives is not None and r.derives not in seen:
                seen.add(r.derives)
                stack.append(r.derives)
    return [out[k] for k in sorted(out)]


def _settled_when_closed(gates: Gates, base: RuleBase, gate: cond.Node, fact: str, order: list[str],
                         derived: Mapping[str, list[Rule]]) -> bool:
    """Wherever the gate is false an implication sets the fact: skipping its question then leaves nothing open
    (an answer that contradicts the implication is not consistent)."""
    return any(any(n == fact for n, _ in imp.then)
               and _false_when_closed(gates, base, gate, cond.Not(imp.when), order, derived)
               for imp in gates.implications)


def _occurrences_closed(gates: Gates, base: RuleBase, gate: cond.Node, node: cond.Node, fact: str,
                        order: list[str], derived: Mapping[str, list[Rule]]) -> bool:
    """The quickest proof, per place a rule reads ``fact``: the place sits in an "all" with a part that does not
    rest on ``fact`` and is false wherever the gate is false. Then where the gate is closed that "all" is false
    whatever ``fact`` is, so no rule (nor any fact derived from it) can see the fact there."""
    if isinstance(node, cond.Leaf):
        return node.fact != fact
    if isinstance(node, cond.Not):
        return fact not in cond.facts_read(node)
    if fact not in cond.facts_read(node):
        return True
    if isinstance(node, cond.All):
        free = [c for c in node.items if fact not in _inputs(base, derived, cond.facts_read(c)) | cond.facts_read(c)]
        free.sort(key=lambda c: len(_inputs(base, derived, cond.facts_read(c))))  # the cheapest proof first
        if any(_false_when_closed(gates, base, gate, c, order, derived) for c in free) or (
                len(free) > 1 and _false_when_closed(gates, base, gate, cond.All(tuple(free)), order, derived)):
            return True
    return all(_occurrences_closed(gates, base, gate, c, fact, order, derived) for c in node.items)


def _closed_by_gate(gates: Gates, base: RuleBase, gate: cond.Node, targets: list[Rule], fact: str,
                    order: list[str], derived: Mapping[str, list[Rule]]) -> bool:
    """The quick proof: each target rule has a conjunct, not resting on ``fact``, that is false wherever the gate
    is false (or all of them together are), so where the gate is closed the rule is false whatever ``fact`` is.
    Targets: the rule itself, or all the rules an exception defeats (where none can hold, it cannot matter).
    Checked by enumerating only the facts of the gate and those conjuncts."""
    for target in targets:
        conjuncts = target.when.items if isinstance(target.when, cond.All) else (target.when,)
        free = [c for c in conjuncts if fact not in _inputs(base, derived, cond.facts_read(c)) | cond.facts_read(c)]
        if not free or not (any(_false_when_closed(gates, base, gate, c, order, derived) for c in free)
                            or _false_when_closed(gates, base, gate, cond.All(tuple(free)), order, derived)):
            return False
    return True


_CLOSED: dict[tuple[str, cond.Node, cond.Node], bool] = {}  # (rule base digest, gate, part) -> proven


def _false_when_closed(gates: Gates, base: RuleBase, gate: cond.Node, conjunct: cond.Node, order: list[str],
                       derived: Mapping[str, list[Rule]]) -> bool:
    key = (base.digest, gate, conjunct)
    got = _CLOSED.get(key)
    if got is None:
        if len(_CLOSED) > 10_000:
            _CLOSED.clear()
        got = _CLOSED[key] = _enumerate_closed(gates, base, gate, conjunct, order, derived)
    return got


def _enumerate_closed(gates: Gates, base: RuleBase, gate: cond.Node, conjunct: cond.Node, order: list[str],
                      derived: Mapping[str, list[Rule]]) -> bool:
    read = cond.facts_read(gate) | cond.facts_read(conjunct)
    names = _inputs(base, derived, read)
    implied = tuple(i for i in gates.implications if any(n in names for n, _ in i.then))
    names |= _inputs(base, derived, {f for i in implied for f in cond.facts_read(i.when)})
    needed = _needed(derived, read | {f for i in implied for f in cond.facts_read(i.when)})
    order = [d for d in order if d in needed]
    local = Gates(gates.questions, implied)
    domains = _Domains(base, [gate, conjunct] + [i.when for i in implied]
                       + [r.when for d in needed for r in derived[d]], implied)
    names_list = sorted(names)
    if _size(domains, names_list) > QUICK_BUDGET:
        return False  # not a quick proof: the full one decides
    derivation = _derivation(order, derived)
    gate_check, conjunct_check = compiled(gate), compiled(conjunct)
    for values in itertools.product(*(domains.of(n) for n in names_list)):
        given = {n: v for n, v in zip(names_list, values, strict=True) if v is not None}
        if not consistent(local, given):
            continue
        facts = _with_derived(apply_implications(local, given)[0], derivation)
        if gate_check(facts) is False and conjunct_check(facts) is not False:
            return False
    return True


def _counter_example(gates: Gates, base: RuleBase, fact: str, gate: cond.Node, rule: Rule, watch: list[Rule],
                     order: list[str], derived: Mapping[str, list[Rule]]) -> str | None:
    names = _inputs(base, derived, set(rule.facts) | cond.facts_read(gate)
                    | {f for w in watch for f in w.facts}) - {fact}
    touched = names | {fact}
    implied = tuple(i for i in gates.implications if any(n in touched for n, _ in i.then))
    gates = Gates(gates.questions, implied)  # only the implications that can touch these facts
    names |= _inputs(base, derived, {f for i in implied for f in cond.facts_read(i.when)}) - {fact}
    needed = _needed(derived, set(rule.facts) | cond.facts_read(gate) | {f for w in watch for f in w.facts})
    order = [d for d in order if d in needed]
    # Each fact's values are cut only at the literals of the conditions this proof evaluates (the rule, the
    # gate, the exceptions watched, the implications and the classification rules in between): values alike
    # for all of them behave alike here, so one representative of each region is enough.
    domains = _Domains(base, [rule.when, gate] + [w.when for w in watch] + [i.when for i in implied]
                       + [r.when for d in needed for r in derived[d]], implied)
    names_list = sorted(names)
    if _size(domains, names_list) > BUDGET:
        raise GateError(
            "gate-proof-budget",
            f"the gate of {fact!r} cannot be proven sound for rule {rule.id!r}: its proof would try more than "
            f"{BUDGET:,} combinations of {len(names_list)} facts; narrow the gate or split the rule",
            rule.id, f"/questions/{fact}/ask_when")
    derivation = _derivation(order, derived)
    gate_check, rule_check = compiled(gate), compiled(rule.when)
    watch_checks = [compiled(w.when) for w in watch]
    for values in itertools.product(*(domains.of(n) for n in names_list)):
        given = {n: v for n, v in zip(names_list, values, strict=True) if v is not None}
        if not consistent(gates, given):
            continue
        skipped = _with_derived(apply_implications(gates, given)[0], derivation)
        if gate_check(skipped) is not False:
            continue
        if watch_checks and all(check(skipped) is False for check in watch_checks):
            continue
        before = rule_check(skipped)
        for v in domains.of(fact)[1:]:
            answered = {**given, fact: v}
            if not consistent(gates, answered):
                continue
            after = rule_check(_with_derived(apply_implications(gates, answered)[0], derivation))
            if after != before:
                shown = ", ".join(f"{k}={_show(x)}" for k, x in sorted(given.items())) or "no facts given"
                return (f"when {shown}: with {fact} unanswered the rule is {_show(before)}, "
                        f"with {fact}={_show(v)} it is {_show(after)}")
    return None


def _show(v: Any) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join("…" if x == OTHER else str(x) for x in v) + "]"
    return str(v)
