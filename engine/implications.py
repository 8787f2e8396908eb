"""Declared implications of the questions (``rules/questions.yaml``): facts that settle others.

``transplant.source: none`` settles the recipient, and so on. ``apply_implications`` fills in the facts that were
not given, before evaluation, and returns what it set (for the trace); ``consistent`` says whether given facts
agree with every implication that holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import conditions as cond
from .model import Gates

_COMPILED: dict[int, tuple[cond.Node, cond.Check]] = {}


def compiled(node: cond.Node) -> cond.Check:
    """The condition compiled once (looked up by identity: the proof evaluates millions of them)."""
    got = _COMPILED.get(id(node))
    if got is None or got[0] is not node:
        if len(_COMPILED) > 50_000:
            _COMPILED.clear()
        got = _COMPILED[id(node)] = (node, cond.compile_condition(node))
    return got[1]


def apply_implications(gates: Gates, facts: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The facts with every declared implication applied (to facts not given), and what was set."""
    out = dict(facts)
    applied: list[dict[str, Any]] = []
    changed = True
    while changed:  # implications may chain; each sets only unknown facts, so this ends
        changed = False
        for check, imp in gates.implication_checks():
            if check(out) is not True:
                continue
            for name, value in imp.then:
                if name not in out:
                    out[name] = list(value) if isinstance(value, tuple) else value
                    applied.append({"implication": imp.id, "fact": name, "value": out[name]})
                    changed = True
    return out, applied


def consistent(gates: Gates, facts: Mapping[str, Any]) -> bool:
    """No implication that holds wants another value for a fact that was given."""
    for check, imp in gates.implication_checks():
        if check(facts) is True:
            for name, value in imp.then:
                want = list(value) if isinstance(value, tuple) else value
                if name in facts and facts[name] != want:
                    return False
    return True
