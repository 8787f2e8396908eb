"""The rule base in other engines, for side-by-side timing.

Peers implement the same rules with the same semantics *on complete proposals*
(every fact a rule reads is known, so three-valued logic collapses to two):
a rule applies when its condition holds and none of its exceptions applies;
derived facts (classification rules) are inlined; only rules in force on the
evaluation date take part. Every peer answers ``(verdict, applying rule ids)``,
and the benchmark checks that answer against biotoets' own verdict on every
proposal before it times anything.

The translations are generated from ``rules/`` (and from the synthetic rule
bases of the scaling section), so a rule change never leaves a peer behind:

* ``hand``     -- straight-line Python in the style a person writes by hand
                  (locals for derived facts, one ``if`` per rule); the limit;
* ``zen``      -- GoRules ZEN (Rust): one decision table, hit policy "collect",
                  one row per rule with a ZEN expression cell, static loader;
* ``regopy``   -- Rego on rego-cpp: one helper rule per condition node,
                  ``applies contains id if ...``, built once, ``query_bundle``;
* ``stock``    -- durable_rules through its stock Python host (``durable.engine.Host``),
                  asserting the same compiled shards as biotoets; the naive way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import orjson

from biotoets.engine import conditions as cond
from biotoets.engine.compiler import CompiledRuleBase
from biotoets.engine.model import SEVERITY, RuleBase

Facts = Mapping[str, Any]
Answer = tuple[str, tuple[str, ...]]

# A two-valued expression over base facts: ("and", [x..]) | ("or", [x..]) | ("not", x)
# | ("leaf", Leaf) | ("const", bool).
Expr = tuple[Any, ...]


class PeerMissing(RuntimeError):
    """A peer engine's package is not installed."""


def key(fact: str) -> str:
    """Peers see flat identifiers: ``human.embryo`` becomes ``human_embryo``."""
    return fact.replace(".", "_")


def peer_facts(facts: Facts) -> dict[str, Any]:
    return {key(k): v for k, v in facts.items()}


def verdict_of(base: RuleBase, applying: list[str]) -> Answer:
    effects = [base.rules[r].effect for r in applying]
    verdict = max(effects, key=SEVERITY.__getitem__, default="allowed")
    return verdict, tuple(sorted(applying))


def answer_of_verdict(verdict: dict[str, Any], base: RuleBase) -> Answer:
    """biotoets' verdict JSON reduced to the peers' answer."""
    applying = [g["rule"] for g in verdict["grounds"]
                if g["status"] == "applies" and base.rules.get(g["rule"]) is not None
                and base.rules[g["rule"]].effect != "derive"]
    return verdict["verdict"], tuple(sorted(applying))


class Flat:
    """Each verdict rule in force as one two-valued expression over base facts."""

    def __init__(self, base: RuleBase, on: date) -> None:
        self.base = base
        self.on = on
        self.in_force = {rid: r for rid, r in base.rules.items() if r.in_force(on)}
        derived = base.derived_facts()
        self._derived = {f: [r for r in rs if r.id in self.in_force] for f, rs in derived.items()}
        self.verdict_rules = sorted(rid for rid, r in self.in_force.items() if r.effect in SEVERITY)
        self.exprs = {rid: self.applies(rid) for rid in self.verdict_rules}

    def condition(self, node: cond.Node) -> Expr:
        if isinstance(node, cond.Leaf):
            if node.fact in self._derived:
                return self._derived_leaf(node)
            return ("leaf", node)
        if isinstance(node, cond.Not):
            return ("not", self.condition(node.item))
        op = "and" if isinstance(node, cond.All) else "or"
        return (op, [self.condition(x) for x in node.items])

    def _derived_leaf(self, leaf: cond.Leaf) -> Expr:
        holds: Expr = ("or", [self.condition(r.when) for r in self._derived[leaf.fact]])
        # Derived facts are booleans; rules test them with eq/ne against true/false.
        if leaf.op == "eq":
            return holds if leaf.value is True else ("not", holds)
        if leaf.op == "ne":
            return ("not", holds) if leaf.value is True else holds
        if leaf.op == "present":
            return ("const", True)
        if leaf.op == "absent":
            return ("const", False)
        raise ValueError(f"unsupported operator {leaf.op} on derived fact {leaf.fact}")

    def applies(self, rid: str) -> Expr:
        rule = self.base.rules[rid]
        parts = [self.condition(rule.when)]
        for ex in rule.exceptions:
            if ex in self.in_force:
                parts.append(("not", self.applies(ex)))
        return ("and", parts) if len(parts) > 1 else parts[0]


# -- hand-style Python ---------------------------------------------------------------------
def _py(expr: Expr, sets: dict[tuple[Any, ...], str]) -> str:
    kind = expr[0]
    if kind == "const":
        return repr(expr[1])
    if kind == "not":
        return f"not ({_py(expr[1], sets)})"
    if kind in ("and", "or"):
        return "(" + f" {kind} ".join(_py(x, sets) for x in expr[1]) + ")"
    leaf: cond.Leaf = expr[1]
    v = f"f[{key(leaf.fact)!r}]"
    lit = leaf.value
    if leaf.op == "present":
        return "True"
    if leaf.op == "absent":
        return "False"
    if leaf.op in ("in", "not_in", "contains_any", "contains_none"):
        name = sets.setdefault(tuple(lit), f"S{len(sets)}")
        return {"in": f"{v} in {name}", "not_in": f"{v} not in {name}",
                "contains_any": f"not {name}.isdisjoint({v})", "contains_none": f"{name}.isdisjoint({v})"}[leaf.op]
    if leaf.op == "eq":
        return v if lit is True else f"not {v}" if lit is False else f"{v} == {lit!r}"
    if leaf.op == "ne":
        return f"not {v}" if lit is True else v if lit is False else f"{v} != {lit!r}"
    sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[leaf.op]
    return f"{v} {sym} {lit!r}"


def hand_source(flat: Flat) -> str:
    """Python source of ``check(f) -> (verdict, ids)``: one ``if`` per rule."""
    sets: dict[tuple[Any, ...], str] = {}
    body = []
    sev = {"allowed": 0, "conditional": 1, "prohibited": 2}
    for rid in flat.verdict_rules:
        effect = flat.base.rules[rid].effect
        body.append(f"    if {_py(flat.exprs[rid], sets)}:\n        out.append({rid!r}); s = max(s, {sev[effect]})")
    head = "\n".join(f"{name} = frozenset({list(vals)!r})" for vals, name in sets.items())
    return (f"{head}\nV = ('allowed', 'conditional', 'prohibited')\n\n"
            "def check(f):\n    out = []\n    s = 0\n" + "\n".join(body) + "\n    return V[s], tuple(out)\n")


def hand_engine(flat: Flat) -> Callable[[Facts], Answer]:
    scope: dict[str, Any] = {}
    exec(compile(hand_source(flat), "<hand-style rules>", "exec"), scope)  # noqa: S102 - our own generated code
    return scope["check"]  # verdict_rules are sorted, so ids come out sorted


# -- ZEN -----------------------------------------------------------------------------------
def _zen(expr: Expr) -> str:
    kind = expr[0]
    if kind == "const":
        return "true" if expr[1] else "false"
    if kind == "not":
        return f"not({_zen(expr[1])})"
    if kind in ("and", "or"):
        return "(" + f" {kind} ".join(_zen(x) for x in expr[1]) + ")"
    leaf: cond.Leaf = expr[1]
    v, lit = key(leaf.fact), leaf.value
    if leaf.op == "present":
        return "true"
    if leaf.op == "absent":
        return "false"
    if leaf.op in ("in", "not_in"):
        return f"{'not(' if leaf.op == 'not_in' else '('}{v} in {json.dumps(list(lit))})"
    if leaf.op == "contains_any":
        return f"some({v}, # in {json.dumps(list(lit))})"
    if leaf.op == "contains_none":
        return f"not(some({v}, # in {json.dumps(list(lit))}))"
    sym = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[leaf.op]
    return f"{v} {sym} {json.dumps(lit)}"


def zen_engine(flat: Flat) -> Callable[[Facts], Answer]:
    try:
        import zen
    except ImportError as exc:
        raise PeerMissing("zen-engine") from exc
    rows = [{"_id": f"r{i}", "c": _zen(flat.exprs[rid]), "o": json.dumps(rid)}
            for i, rid in enumerate(flat.verdict_rules)]
    jdm = {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}},
            {"id": "t", "type": "decisionTableNode", "name": "rules", "position": {"x": 200, "y": 0},
             "content": {"hitPolicy": "collect", "inputs": [{"id": "c", "name": "condition", "field": ""}],
                         "outputs": [{"id": "o", "name": "rule", "field": "rule"}], "rules": rows}},
            {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 400, "y": 0}},
        ],
        "edges": [{"id": "e1", "sourceId": "in", "targetId": "t", "type": "edge"},
                  {"id": "e2", "sourceId": "t", "targetId": "out", "type": "edge"}],
    }
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"rules": jdm}}})
    base = flat.base

    def check(f: Facts) -> Answer:
        result = engine.evaluate("rules", f)["result"]
        return verdict_of(base, [row["rule"] for row in result])

    return check


# -- Rego (regopy) ---------------------------------------------------------------------------
def rego_source(flat: Flat) -> str:
    lines = ["package biotoets", "import rego.v1", ""]
    memo: dict[str, str] = {}

    def node(expr: Expr) -> str:
        sig = repr(expr)
        if sig in memo:
            return memo[sig]
        name = f"n{len(memo)}"
        memo[sig] = name
        kind = expr[0]
        if kind == "const":
            lines.append(f"{name} if {{ {'true' if expr[1] else 'false'} }}")
        elif kind == "not":
            lines.append(f"{name} if {{ not {node(expr[1])} }}")
        elif kind == "and":
            lines.append(f"{name} if {{ " + "; ".join(node(x) for x in expr[1]) + " }")
        elif kind == "or":
            for x in expr[1]:
                lines.append(f"{name} if {{ {node(x)} }}")
        else:
            leaf: cond.Leaf = expr[1]
            v, lit = f"input.{key(leaf.fact)}", leaf.value
            if leaf.op in ("present", "absent"):
                body = "true" if leaf.op == "present" else "false"
            elif leaf.op == "in":
                body = f"{v} in {{{', '.join(json.dumps(x) for x in lit)}}}"
            elif leaf.op == "not_in":
                body = f"not {v} in {{{', '.join(json.dumps(x) for x in lit)}}}"
            elif leaf.op in ("contains_any", "contains_none"):
                hit = f"{name}_any"
                lines.append(f"{hit} if {{ some x in {v}; x in {{{', '.join(json.dumps(x) for x in lit)}}} }}")
                body = hit if leaf.op == "contains_any" else f"not {hit}"
            else:
                sym = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[leaf.op]
                body = f"{v} {sym} {json.dumps(lit)}"
            lines.append(f"{name} if {{ {body} }}")
        return name

    for rid in flat.verdict_rules:
        lines.append(f"applies contains {json.dumps(rid)} if {{ {node(flat.exprs[rid])} }}")
    return "\n".join(lines) + "\n"


def regopy_engine(flat: Flat) -> Callable[[Facts], Answer]:
    try:
        from regopy import Input, Interpreter
    except ImportError as exc:
        raise PeerMissing("regopy") from exc
    rego = Interpreter()
    rego.add_module("biotoets", rego_source(flat))
    bundle = rego.build("data.biotoets.applies")
    base = flat.base

    def check(f: Facts) -> Answer:
        rego.set_input(Input(f))
        out = orjson.loads(str(rego.query_bundle(bundle)))
        return verdict_of(base, out["expressions"][0])

    return check


# -- durable_rules through its stock Python host ---------------------------------------------
class StockDurable:
    """The compiled shards of biotoets on ``durable.engine.Host``: the naive way to use durable_rules.

    The Host's two background timer threads are switched off (``_run``): with them the
    stock host gives wrong answers and crashes (shared/notes/durable-rules.md section 4);
    the notes measured no difference in speed. Everything else is the stock path:
    ``Host.assert_fact`` (JSON in, JSON out, ``Closure``/``Content`` per action, state
    re-asserted after every action), then ``delete_state``.
    """

    def __init__(self, compiled: CompiledRuleBase, prefix: str = "stock") -> None:
        import copy

        from durable import engine as durable_engine

        class QuietHost(durable_engine.Host):
            def _run(self) -> None:  # no dispatch/timer threads
                pass

        self.host = QuietHost()
        self.compiled = compiled
        self.fired: list[str] = []
        self.names: dict[str, str] = {}
        rulesets: dict[str, Any] = {}
        for stratum in compiled.strata:
            for shard in stratum.shards:
                name = f"{prefix}:{shard.name}"
                self.names[shard.name] = name
                definition = copy.deepcopy(shard.definition)
                for rule_name, rule in definition.items():
                    rule["run"] = self._action(rule_name)
                rulesets[name] = definition
        self.host.register_rulesets(rulesets)

    def _action(self, rule_name: str) -> Callable[[Any], None]:
        fired = self.fired

        def action(c: Any) -> None:  # exactly one parameter, or durable treats it as async
            fired.append(rule_name)

        return action

    def run(self, facts: Facts, on: date) -> tuple[set[str], set[str]]:
        """Definitely and possibly true rule ids, as ``Engine.fire`` computes them."""
        known = dict(facts)
        as_of = on.year * 10000 + on.month * 100 + on.day
        definite: set[str] = set()
        possible: set[str] = set()
        for stratum in self.compiled.strata:
            for shard in stratum.shards:
                fact = {k: known[k] for k in shard.reads if k in known}
                fact.update(kind="proposal", as_of=as_of, sid="s")
                name = self.names[shard.name]
                self.fired.clear()
                try:
                    self.host.assert_fact(name, fact)
                finally:
                    self.host.delete_state(name, "s")
                for durable_name in self.fired:
                    if durable_name in shard.forms:
                        rule_id, form = shard.forms[durable_name]
                        (definite if form == "t" else possible).add(rule_id)
            for fact_name in stratum.derives_after:
                rules = self.compiled.derived_by[fact_name]
                if any(r in definite for r in rules):
                    known[fact_name] = True
                elif not any(r in possible for r in rules):
                    known[fact_name] = False
        return definite, possible
