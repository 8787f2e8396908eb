"""Scope gates and declared implications of the questions, and the proof that the gates are sound.

Each question in ``rules/questions.yaml`` may carry a gate (``ask_when``): a condition, in the rules'
condition language, over other facts. The question is asked only when its gate definitely holds. A
gate is *sound* when skipping its question can never change what a rule says: wherever the gate is
false, every rule that reads the fact (directly, or through a fact a classification rule derives from
it) has the same three-valued status whether the fact is unknown or has any value consistent with the
implications. Loading proves this (``soundness.py``) and refuses a gate that fails, naming the fact,
the rule and a counter-example.

Implications (``transplant.source: none`` settles the recipient, ...) fill in facts that were not
given, before evaluation (``implications.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import conditions as cond
from .model import Gate, GateError, Gates, Implication
from .soundness import prove_sound

if TYPE_CHECKING:
    from .model import RuleBase

KINDS = ("design", "classification", "status")


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
