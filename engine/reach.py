"""What each rule can come to read, worked out once per rule base: for the relevance filter's shortcuts.

A rule reads its own facts, the facts of the rules that derive the facts it reads and the facts of its exceptions
(transitively); a question on one of those facts may wait on its gate's facts (``questions.yaml``), and a fact may
be asked as another (a count with its list, ``facts.answered_by``). From that closure:

* ``status_readers``: the rules that can wait on the status of an application or approval;
* ``scope_reach``: per rule, the scope questions it can wait on -- a superset of what ``relevance`` finds for it on
  any proposal, so a rule none of whose reachable scope questions is open waits on none;
* ``excepted_by``: per rule, the rules it is an exception of.
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import answered_by
from .model import RuleBase, per_rule_base


@dataclass(frozen=True)
class Reach:
    status_readers: frozenset[str]
    scope_facts: frozenset[str]
    scope_reach: dict[str, frozenset[str]]
    excepted_by: dict[str, frozenset[str]]


def _reach(base: RuleBase) -> Reach:
    derived = base.derived_facts()
    gates = base.gates
    read: dict[str, set[str]] = {}

    def facts_of(rid: str) -> set[str]:
        if rid not in read:
            read[rid] = set()  # a cycle (refused at load) cannot recurse for ever
            rule = base.rules[rid]
            out = set(rule.facts)
            for f in rule.facts:
                for d in derived.get(f, ()):
                    out |= facts_of(d.id)
            for ex in rule.exceptions:
                out |= facts_of(ex)
            read[rid] = out
        return read[rid]

    def closure(facts: set[str]) -> set[str]:
        """The facts, what they are asked as, and what their gates read, through derived facts."""
        out: set[str] = set()
        todo = list(facts)
        while todo:
            f = todo.pop()
            if f in out:
                continue
            out.add(f)
            todo.append(answered_by(f, base.facts))
            for d in derived.get(f, ()):
                todo += d.facts
            g = gates.questions.get(f)
            if g is not None:
                todo += g.depends_on
        return out

    kind = gates.kind
    statuses = frozenset(rid for rid in base.rules
                         if any("status" in (kind(f), kind(answered_by(f, base.facts))) for f in facts_of(rid)))
    scope = frozenset(f for f, g in gates.questions.items() if g.scope)
    excepted: dict[str, set[str]] = {rid: set() for rid in base.rules}
    for rid, rule in base.rules.items():
        for ex in rule.exceptions:
            excepted[ex].add(rid)
    return Reach(statuses, scope, {rid: frozenset(closure(facts_of(rid)) & scope) for rid in base.rules},
                 {rid: frozenset(e) for rid, e in excepted.items()})


reach = per_rule_base(_reach)
