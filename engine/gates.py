"""Scope gates and declared implications of the questions, and the proof that the gates are sound.

Each question in ``rules/questions.yaml`` may carry a gate (``ask_when``): a condition, in the rules'
condition language, over other facts. The question is asked only when its gate definitely holds. A
gate is *sound* when skipping its question can never change what a rule says: wherever the gate is
false, every rule that reads the fact (directly, or through a fact a classification rule derives from
it) has the same three-valued status whether the fact is unknown or has any value consistent with the
implications. Loading proves this by enumerating every
assignment of the facts involved (each domain cut at the literals the rules and gates compare with,
plus "unknown") and refuses a gate that fails, naming the fact, the rule and a counter-example.

An exception that only lets a rule go (effect ``allowed``) matters only where one of the rules it
defeats may hold, so for it the proof looks only at those assignments.

Implications (``transplant.source: none`` settles the recipient, ...) fill in facts that were not
given, before evaluation; ``apply_implications`` returns what it set, for the trace.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import conditions as cond
from .conditions import Truth

if TYPE_CHECKING:
    from .loader import Rule, RuleBase

KINDS = ("design", "classification", "status")
OTHER = "\x00other"  # a value no rule or gate mentions


class GateError(Exception):
    """questions.yaml declares a gate or implication that cannot be used; ``check`` names the defect kind."""

    def __init__(self, check: str, reason: str, rule: str | None = None, path: str = "") -> None:
        super().__init__(reason)
        self.check, self.reason, self.rule, self.path = check, reason, rule, path


@dataclass(frozen=True)
class Gate:
    """How and when one fact's question is asked."""

    fact: str
    kind: str  # design | classification | status
    scope: bool  # tier A: what the proposal involves
    ask_when: cond.Node | None
    depends_on: tuple[str, ...]  # the facts the gate reads


@dataclass(frozen=True)
class Implication:
    id: str
    when: cond.Node
    then: tuple[tuple[str, Any], ...]
    because: dict[str, str]


@dataclass(frozen=True)
class Gates:
    questions: dict[str, Gate]
    implications: tuple[Implication, ...]

    def gate(self, fact: str, known: Mapping[str, Any]) -> Truth:
        """Whether the fact's question may be asked: True (ask), False (closed), None (ask its gate first)."""
        g = self.questions.get(fact)
        return True if g is None or g.ask_when is None else cond.kleene(g.ask_when, known)

    def kind(self, fact: str) -> str:
        g = self.questions.get(fact)
        return g.kind if g else "design"

    def is_scope(self, fact: str) -> bool:
        g = self.questions.get(fact)
        return bool(g and g.scope)


def apply_implications(gates: Gates, facts: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The facts with every declared implication applied (to facts not given), and what was set."""
    out = dict(facts)
    applied: list[dict[str, Any]] = []
    changed = True
    while changed:  # implications may chain; each sets only unknown facts, so this ends
        changed = False
        for imp in gates.implications:
            if cond.kleene(imp.when, out) is not True:
                continue
            for name, value in imp.then:
                if name not in out:
                    out[name] = list(value) if isinstance(value, tuple) else value
                    applied.append({"implication": imp.id, "fact": name, "value": out[name]})
                    changed = True
    return out, applied


def consistent(gates: Gates, facts: Mapping[str, Any]) -> bool:
    """No implication that holds wants another value for a fact that was given."""
    for imp in gates.implications:
        if cond.kleene(imp.when, facts) is True:
            for name, value in imp.then:
                want = list(value) if isinstance(value, tuple) else value
                if name in facts and facts[name] != want:
                    return False
    return True


# -- reading questions.yaml ---------------------------------------------------------------------
_PROVEN: dict[tuple[str, str], Gates] = {}  # (rule base digest, questions document) -> gates proven sound


def build_gates(doc: Mapping[str, Any], base: RuleBase) -> Gates:
    """Parse the gates and implications of a schema-valid questions document and prove them sound."""
    key = (base.digest, json.dumps(doc, sort_keys=True, default=str))
    got = _PROVEN.get(key)
    if got is None:
        if len(_PROVEN) > 32:
            _PROVEN.clear()
        got = _PROVEN[key] = _build_gates(doc, base)
    return got


def _build_gates(doc: Mapping[str, Any], base: RuleBase) -> Gates:
    lists = {k: v.values for k, v in base.lists.items()}
    questions: dict[str, Gate] = {}
    for name, raw in doc["questions"].items():
        node = None
        path = f"/questions/{name}/ask_when"
        if "ask_when" in raw:
            node = _parse(raw["ask_when"], lists, path)
            _check_refs(base, node, path)
            if name in cond.facts_read(node):
                raise GateError("gate-reference", f"the gate of {name!r} reads {name!r} itself", None, path)
        questions[name] = Gate(name, raw.get("kind", "design"), raw.get("tier") == "scope", node,
                               tuple(sorted(cond.facts_read(node))) if node else ())
    implications = []
    for i, raw in enumerate(doc.get("implications", [])):
        path = f"/implications/{i}"
        when = _parse(raw["when"], lists, path + "/when")
        _check_refs(base, when, path + "/when")
        then = []
        for name, value in raw["then"].items():
            fact = base.facts.get(name)
            if fact is None or fact.derived:
                raise GateError("bad-implication", f"implication {raw['id']!r} sets {name!r}, which is not a "
                                "proposal fact", None, f"{path}/then/{name}")
            ok = (isinstance(value, list) and fact.kind == "set" and all(fact.accepts(v) for v in value)) \
                or (not isinstance(value, list) and fact.kind != "set" and fact.accepts(value))
            if not ok:
                raise GateError("bad-implication", f"implication {raw['id']!r} sets {name!r} to {value!r}, "
                                f"which is not a possible value ({fact.kind})", None, f"{path}/then/{name}")
            then.append((name, tuple(value) if isinstance(value, list) else value))
        implications.append(Implication(raw["id"], when, tuple(then), dict(raw["because"])))
    gates = Gates(questions, tuple(implications))
    _check_cycles(gates)
    prove_sound(gates, base)
    return gates


def _parse(raw: Mapping[str, Any], lists: Mapping[str, tuple[str, ...]], path: str) -> cond.Node:
    try:
        return cond.parse(raw, lists)
    except KeyError as exc:
        raise GateError("gate-reference", f"unknown list {exc.args[0]!r}", None, path) from None


def _check_refs(base: RuleBase, node: cond.Node, path: str) -> None:
    for leaf in cond.leaves(node):
        fact = base.facts.get(leaf.fact)
        if fact is None:
            raise GateError("gate-reference", f"unknown fact {leaf.fact!r} in a gate or implication", None, path)
        if leaf.op in ("present", "absent"):
            continue
        values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
        if not all(fact.accepts(v) for v in values):
            raise GateError("gate-reference", f"{leaf.value!r} is not a possible value of {leaf.fact!r}", None, path)


def _check_cycles(gates: Gates) -> None:
    """A question's gate may not depend, through other gates, on the question itself."""
    def visit(name: str, trail: list[str]) -> None:
        g = gates.questions.get(name)
        for dep in g.depends_on if g else ():
            if dep in trail:
                cycle = " -> ".join(trail[trail.index(dep):] + [dep])
                raise GateError("gate-cycle", f"gates form a cycle: {cycle}", None, f"/questions/{dep}/ask_when")
            visit(dep, trail + [dep])

    for name in gates.questions:
        visit(name, [name])


# -- the soundness proof ------------------------------------------------------------------------
class _Domains:
    """Finite domains per fact: the values that can make a difference to some condition, plus unknown."""

    def __init__(self, base: RuleBase, extra: Iterable[cond.Node]) -> None:
        self.base = base
        self.literals: dict[str, set[Any]] = {}
        self.set_lists: dict[str, set[tuple[str, ...]]] = {}
        nodes = [r.when for r in base.rules.values()] + list(extra)
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


def _with_derived(facts: dict[str, Any], order: list[str], derived: Mapping[str, list[Rule]]) -> dict[str, Any]:
    """Derived facts as the engine computes them: true if a rule says so, unknown if one may."""
    for d in order:
        values = [cond.kleene(r.when, facts) for r in derived[d]]
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
    extra = [g.ask_when for g in gates.questions.values() if g.ask_when is not None]
    extra += [i.when for i in gates.implications]
    domains = _Domains(base, extra)
    readers: dict[str, list[Rule]] = {}
    for r in base.rules.values():
        for f in r.facts:
            readers.setdefault(f, []).append(r)
    for fact, g in sorted(gates.questions.items()):
        if g.ask_when is None or fact not in base.facts:
            continue
        for rule in _affected(readers, fact):
            watch = [base.rules[p] for p in parents.get(rule.id, [])] if rule.effect == "allowed" else []
            found = _counter_example(gates, base, fact, g.ask_when, rule, watch, domains, order, derived)
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
            elif r.derives not in seen:
                seen.add(r.derives)
                stack.append(r.derives)
    return [out[k] for k in sorted(out)]


def _counter_example(gates: Gates, base: RuleBase, fact: str, gate: cond.Node, rule: Rule, watch: list[Rule],
                     domains: _Domains, order: list[str], derived: Mapping[str, list[Rule]]) -> str | None:
    names = _inputs(base, derived, set(rule.facts) | cond.facts_read(gate)
                    | {f for w in watch for f in w.facts}) - {fact}
    touched = names | {fact}
    implied = tuple(i for i in gates.implications if any(n in touched for n, _ in i.then))
    gates = Gates(gates.questions, implied)  # only the implications that can touch these facts
    names |= _inputs(base, derived, {f for i in implied for f in cond.facts_read(i.when)}) - {fact}
    needed = _needed(derived, set(rule.facts) | cond.facts_read(gate) | {f for w in watch for f in w.facts})
    order = [d for d in order if d in needed]
    names_list = sorted(names)
    for values in itertools.product(*(domains.of(n) for n in names_list)):
        given = {n: v for n, v in zip(names_list, values, strict=True) if v is not None}
        if not consistent(gates, given):
            continue
        skipped = _with_derived(apply_implications(gates, given)[0], order, derived)
        if cond.kleene(gate, skipped) is not False:
            continue
        if watch and all(cond.kleene(w.when, skipped) is False for w in watch):
            continue
        before = cond.kleene(rule.when, skipped)
        for v in domains.of(fact)[1:]:
            answered = {**given, fact: v}
            if not consistent(gates, answered):
                continue
            after = cond.kleene(rule.when, _with_derived(apply_implications(gates, answered)[0], order, derived))
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
