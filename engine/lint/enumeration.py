"""Deciding a question by trying every assignment of the finite domains, for each period.

Assignments are evaluated with the reference evaluator's compiled conditions
(``reference.compiled``), so the lint means exactly what the engine means.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from .. import reference
from ..conditions import Truth
from ..model import RuleBase
from .domains import UNKNOWN, Domains, Env, Witness


class Enumerator:
    """Tries assignments with the reference evaluator's compiled conditions (an unknown fact is absent)."""

    def __init__(self, domains: Domains) -> None:
        self.domains = domains
        self.compiled = reference.compiled(domains.base)

    def evaluator(self, on: date) -> Callable[[Env], Callable[[str], Truth]]:
        comp = self.compiled
        checks = comp.checks
        in_force = comp.in_force(self.domains.base, on)

        def bind(assignment: Env) -> Callable[[str], Truth]:
            env: dict[str, Any] = dict(assignment)
            for name in comp.order:
                value = comp.derived_value(name, env, in_force)
                if value is not None:
                    env[name] = value
            own: dict[str, Truth] = {}

            def holds(rid: str) -> Truth:
                if rid not in own:
                    own[rid] = checks[rid](env) if rid in in_force else False
                return own[rid]
            return holds
        return bind

    def search(self, facts: Iterable[str], days: list[date],
               goal: Callable[[Callable[[str], Truth]], bool]) -> Witness | None:
        names = sorted(facts)
        domains = [self.domains.domain(n) for n in names]
        for on in days:
            bind = self.evaluator(on)
            for values in itertools.product(*domains):
                assignment = {n: v for n, v in zip(names, values, strict=True) if v is not UNKNOWN}
                if goal(bind(assignment)):
                    return assignment, on
        return None


def applies(base: RuleBase, holds: Callable[[str], Truth], rid: str) -> bool:
    """Definitely applies: the condition holds and no exception definitely applies."""
    return holds(rid) is True and not any(applies(base, holds, e) for e in base.rules[rid].exceptions)
