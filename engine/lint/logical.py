"""The logical checks: rules that can never hold or never apply, exceptions that never defeat, conflicts.

Each is a question 'is there a proposal and a date such that ...', decided exactly over the
three-valued semantics of the engine: by enumeration when the domains it touches are small
(``enumeration``), by z3 otherwise (``smt``). Each finding says which method decided it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..conditions import Truth
from ..model import RESTRICTING, RuleBase
from .domains import Domains, Witness
from .enumeration import Enumerator, applies
from .report import Finding, show_witness
from .smt import Z3, z3_applies

ENUMERATION_LIMIT = 20_000  # assignments per period above which z3 decides


class Analyser:
    """Answers 'is there a proposal and a date such that ...' questions, by enumeration or z3."""

    def __init__(self, base: RuleBase, enumeration_limit: int = ENUMERATION_LIMIT) -> None:
        self.base = base
        self.domains = Domains(base)
        self.enum = Enumerator(self.domains)
        self.limit = enumeration_limit
        self.methods: dict[str, int] = {}
        self._z3: Z3 | None = None

    def size(self, facts: Iterable[str]) -> int:
        n = 1
        for f in facts:
            n *= len(self.domains.domain(f))
        return n

    def exists(self, rules: Iterable[str], goal_enum: Callable[[Callable[[str], Truth]], bool],
               goal_z3: Callable[[Any, Callable[[str], Any]], Any]) -> tuple[Witness | None, str]:
        facts: set[str] = set()
        scope_rules: set[str] = set()
        for rid in rules:
            f, r = self.domains.scope(rid)
            facts |= f
            scope_rules |= r
        days = self.domains.periods(scope_rules)
        if self.size(facts) <= self.limit:
            method = "enumeration"
            found = self.enum.search(facts, days, goal_enum)
        else:
            method = "z3"
            if self._z3 is None:
                self._z3 = Z3(self.domains)
            z3 = self._z3.z3
            found = self._z3.search(facts, days, lambda holds: goal_z3(z3, holds))
        self.methods[method] = self.methods.get(method, 0) + 1
        return found, method

    def can_hold(self, rid: str) -> tuple[Witness | None, str]:
        return self.exists([rid], lambda h: h(rid) is True, lambda z3, h: h(rid))

    def can_apply(self, rid: str) -> tuple[Witness | None, str]:
        base = self.base
        return self.exists([rid], lambda h: applies(base, h, rid),
                           lambda z3, h: z3_applies(z3, base, h, rid))

    def both_apply(self, a: str, b: str) -> tuple[Witness | None, str]:
        base = self.base
        return self.exists([a, b], lambda h: applies(base, h, a) and applies(base, h, b),
                           lambda z3, h: z3.And(z3_applies(z3, base, h, a), z3_applies(z3, base, h, b)))

    def can_defeat(self, rid: str, ex: str) -> tuple[Witness | None, str]:
        base = self.base
        return self.exists([rid, ex], lambda h: h(rid) is True and applies(base, h, ex),
                           lambda z3, h: z3.And(h(rid), z3_applies(z3, base, h, ex)))


def _exception_closure(base: RuleBase, rid: str) -> set[str]:
    out: set[str] = set()
    stack = list(base.rules[rid].exceptions)
    while stack:
        cur = stack.pop()
        if cur not in out:
            out.add(cur)
            stack.extend(base.rules[cur].exceptions)
    return out


def logical(base: RuleBase, analyser: Analyser | None = None) -> list[Finding]:
    an = analyser or Analyser(base)
    out: list[Finding] = []
    rules = sorted(base.rules.values(), key=lambda r: r.id)
    for r in rules:
        found, method = an.can_hold(r.id)
        if found is None:
            out.append(Finding("unsatisfiable", r.id,
                               f"the condition can never hold while the rule is in force [{method}]"))
            continue
        if r.exceptions and r.effect != "derive":
            found, method = an.can_apply(r.id)
            if found is None:
                out.append(Finding("always-defeated", r.id,
                                   f"whenever the condition holds an exception defeats the rule [{method}]"))
    for r in rules:
        for ex in r.exceptions:
            found, method = an.can_defeat(r.id, ex)
            if found is None:
                out.append(Finding("dead-exception", f"{r.id} <- {ex}",
                                   f"the exception can never apply while the rule's condition holds [{method}]"))
    permissions = [r for r in rules if r.effect == "allowed"]
    restrictions = [r for r in rules if r.effect in RESTRICTING]
    for a in permissions:
        cited_a = {(c.source, c.article) for c in a.citations if base.sources[c.source].binding}
        for b in restrictions:
            shared = cited_a & {(c.source, c.article) for c in b.citations}
            if not shared:
                continue
            if a.id in _exception_closure(base, b.id) or b.id in _exception_closure(base, a.id):
                continue
            found, method = an.both_apply(a.id, b.id)
            if found is not None:
                src, art = sorted(shared)[0]
                out.append(Finding(
                    "conflict", f"{a.id} / {b.id}",
                    f"'{a.effect}' and '{b.effect}' on {src} {art} both apply, with no exception between them, "
                    f"e.g. when {show_witness(found)} [{method}]"))
    return out
