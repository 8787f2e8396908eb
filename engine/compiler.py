"""Compile the rule base onto durable_rules' JSON ruleset format.

Every rule becomes two durable rules over one fact (the proposal's known facts):

* ``<n>t`` -- the condition is *definitely* true (Kleene true);
* ``<n>p`` -- the condition is *possibly* true (true or unknown): each leaf
  test ``x`` becomes ``x or <fact absent>``.

Conditions are first put into negation normal form, so no ``$not`` reaches the
engine (durable_rules mishandles it). Each rule's validity period is part of
its pattern, tested against the evaluation date ``as_of`` (an int yyyymmdd).

Classification rules derive boolean facts. They are evaluated in strata:
stratum k holds the rules whose inputs are known after stratum k-1, and the
derived facts of a stratum are handed to the next as ordinary facts. That is
forward chaining with stratified negation, which durable_rules cannot do inside
one session (its ``$not`` under chaining is broken).

Only a safe subset of durable_rules is emitted; anything outside it is
rejected here, at load, with the rule it came from:

* every pattern starts with ``kind == "proposal"`` (the session state fact has
  no ``kind``, so no rule can loop on it);
* whitelisted operators only, no ``$in``/``$not``, no joins, no ``id``/``sid``;
* at most 32 expression slots per pattern (``MAX_SEQUENCE_EXPRESSIONS``);
* each ruleset (shard) is sized so that fewer than 64 sibling tests can match
  one fact (``MAX_STACK_SIZE``), and fewer than 128 ``$nex`` children exist;
* every ruleset has a catch-all guard rule so that each evaluation runs at
  least one action.

Definite/possible forms collapsed: each shard is also registered with its
definite forms only (``Shard.definite_definition``). When every fact the
shard reads is known, the engine runs that one (a rule's possible form then
holds exactly when its definite form does) and counts each fired definite form
as its possible form too: half the actions for complete proposals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import conditions as cond
from .loader import RuleLoadError
from .model import FAR_FUTURE, Rule, RuleBase

MAX_SLOTS = 32
# Upper bound on the number of alpha paths of one shard that can match a single fact. Every pending
# entry of durable_rules' alpha stack (64 deep) roots a distinct such path; the root and the guard
# rule take two more, so 60 keeps a margin. Fewer, fuller shards mean fewer sessions per evaluation,
# the largest fixed cost in the C core. (Probed: 60 never overflowed on 2,048-rule synthetic bases;
# 120 did, as error 303, failing closed.)
SHARD_PATH_BUDGET = 60
MAX_NEX_PER_SHARD = 100
MAX_DNF_PATHS_PER_RULE = 16
GUARD = "_guard"
SAFE_OPERATORS = {"$and", "$or", "$neq", "$gt", "$gte", "$lt", "$lte", "$ex", "$nex", "$iany", "$iall", "$i"}
RESERVED_FACTS = {"id", "sid", "kind", "as_of", "$s"}
# Inside $iany/$iall: true of every element (the element is there as "$i").
ELEMENT_PRESENT = {"$ex": {"$i": 1}}


class CompileError(RuleLoadError):
    """A rule that durable_rules cannot evaluate safely."""


@dataclass
class Shard:
    name: str
    definition: dict[str, Any]  # durable JSON ruleset
    reads: tuple[str, ...]  # facts the shard's rules read
    forms: dict[str, tuple[str, str]]  # durable rule name -> (rule id, "t" | "p")

    @property
    def definite_name(self) -> str:
        """The name of the shard's definite-only ruleset (``definite_definition``)."""
        return self.name + "/t"

    @property
    def definite_definition(self) -> dict[str, Any]:
        """The shard with only the definite forms (and the guard): what to run when every fact in ``reads`` is
        known. With no fact absent, each possible form's extra ``$nex`` branches are false, so a rule's possible
        form holds exactly when its definite form does, and running the definite forms alone halves the actions."""
        return {k: v for k, v in self.definition.items() if k == GUARD or self.forms[k][1] == "t"}


@dataclass
class Stratum:
    level: int
    shards: list[Shard]
    derives_after: list[str] = field(default_factory=list)  # derived facts complete after this stratum


@dataclass
class CompiledRuleBase:
    strata: list[Stratum]
    rule_order: list[str]
    derived_by: dict[str, list[str]]  # derived fact -> ids of rules that derive it


def as_of_int(day: str) -> int:
    return int(day.replace("-", ""))


def _leaf_t(leaf: cond.Leaf) -> dict[str, Any]:
    f, v, op = leaf.fact, leaf.value, leaf.op
    if op == "eq":
        return {f: v}
    if op == "ne":
        return {"$neq": {f: v}}
    if op in cond.ORDER_OPS:
        return {"$" + op: {f: v}}
    if op == "in":
        return {f: v[0]} if len(v) == 1 else {"$or": [{f: x} for x in v]}
    if op == "not_in":
        return {"$neq": {f: v[0]}} if len(v) == 1 else {"$and": [{"$neq": {f: x}} for x in v]}
    if op == "present":
        return {"$ex": {f: 1}}
    if op == "absent":
        return {"$nex": {f: 1}}
    if op == "contains_any":
        if len(v) == 1:
            return {"$iany": {f: {"$i": v[0]}}}
        # Not {"$iany": {f: {"$or": ...}}}: durable_rules checks the type of the right operand of the node an
        # $iany/$iall test ends in, and the node an $or ends in never had that field set (rete.c createForwardAlpha;
        # its bytes are whatever the heap held, and 0x09 or 0x0C there fails the ruleset with error 102). Ending the
        # test in a plain comparison that is always true of a list element gives the check an initialised node.
        return {"$iany": {f: {"$and": [{"$or": [{"$i": x} for x in v]}, ELEMENT_PRESENT]}}}
    if op == "contains_none":
        inner_all = {"$neq": {"$i": v[0]}} if len(v) == 1 else {"$and": [{"$neq": {"$i": x}} for x in v]}
        return {"$or": [{"$iall": {f: inner_all}}, {_count_fact(f): 0}]}
    raise ValueError(op)


def _count_fact(list_fact: str) -> str:
    return "partners.count" if list_fact == "partners.countries" else list_fact + ".count"


def _leaf_p(leaf: cond.Leaf) -> dict[str, Any]:
    if leaf.op in ("present", "absent"):
        return _leaf_t(leaf)
    t = _leaf_t(leaf)
    absent = {"$nex": {leaf.fact: 1}}
    if "$or" in t:
        return {"$or": t["$or"] + [absent]}
    return {"$or": [t, absent]}


def translate(node: cond.Node, possible: bool) -> dict[str, Any]:
    """An NNF tree as a durable_rules expression, in its definite or possible form."""
    if isinstance(node, cond.Leaf):
        return _leaf_p(node) if possible else _leaf_t(node)
    parts = [translate(x, possible) for x in cond.branches(node)]
    if len(parts) == 1:
        return parts[0]
    return {"$and" if isinstance(node, cond.All) else "$or": parts}


def path_bound(node: cond.Node) -> int:
    """How many alpha paths of this tree can match one fact at most."""
    if isinstance(node, cond.Leaf):
        return 1
    bounds = [path_bound(x) for x in cond.branches(node)]
    if isinstance(node, cond.All):
        out = 1
        for b in bounds:
            out *= b
        return out
    return sum(bounds)


def _walk_keys(expr: Any) -> list[str]:
    keys: list[str] = []
    if isinstance(expr, dict):
        for k, v in expr.items():
            keys.append(k)
            keys.extend(_walk_keys(v))
    elif isinstance(expr, list):
        for v in expr:
            keys.extend(_walk_keys(v))
    return keys


def slots(expr: Any) -> int:
    """Expression slots a pattern uses: 2 per $and/$or group, plus the end marker."""
    return 2 * sum(1 for k in _walk_keys(expr) if k in ("$and", "$or")) + 1


def nex_count(expr: Any) -> int:
    return sum(1 for k in _walk_keys(expr) if k == "$nex")


def pattern(rule: Rule, possible: bool) -> dict[str, Any]:
    tests: list[Any] = [{"kind": "proposal"}, {"$gte": {"as_of": as_of_int(rule.valid_from)}}]
    if rule.valid_to and rule.valid_to != FAR_FUTURE:
        tests.append({"$lte": {"as_of": as_of_int(rule.valid_to)}})
    body = translate(cond.nnf(rule.when), possible)
    if "$and" in body and len(body) == 1:
        tests.extend(body["$and"])
    else:
        tests.append(body)
    return {"$and": tests}


def _check_safe(rule: Rule, expr: dict[str, Any]) -> None:
    def fail(reason: str) -> None:
        raise CompileError(rule.file, reason, rule.id, "/when")

    for key in _walk_keys(expr):
        if key.startswith("$") and key not in SAFE_OPERATORS:
            fail(f"operator {key} is outside the safe durable_rules subset")
    for name in rule.facts:
        if name in RESERVED_FACTS:
            fail(f"fact name {name!r} is reserved by the engine")
    used = slots(expr)
    if used > MAX_SLOTS:
        fail(f"condition needs {used} expression slots; durable_rules allows {MAX_SLOTS} per pattern. "
             "Split it: move part of it into a classification rule that derives a fact.")
    if path_bound(cond.nnf(rule.when)) > MAX_DNF_PATHS_PER_RULE:
        fail(f"condition has more than {MAX_DNF_PATHS_PER_RULE} alternative paths; "
             "split it into several rules or derive an intermediate fact")
    if _array_test_ends_in_or(expr):
        fail("an $iany/$iall test ends in an $or, which durable_rules cannot compile reliably (error 102)")
    for v in _walk_values(expr):
        if isinstance(v, float):
            fail("floating-point literals are not supported; use whole numbers")
        if isinstance(v, str) and len(v) > 200:
            fail("a literal longer than 200 characters is not supported")


def _ends_in_or(expr: Any) -> bool:
    """Whether the last node durable_rules builds for this expression is an $or's (an $and ends in its last)."""
    if isinstance(expr, dict) and len(expr) == 1:
        (key, value), = expr.items()
        if key == "$or":
            return True
        if key == "$and" and isinstance(value, list) and value:
            return _ends_in_or(value[-1])
    return False


def _array_test_ends_in_or(expr: Any) -> bool:
    if isinstance(expr, dict):
        for key, value in expr.items():
            if key in ("$iany", "$iall") and isinstance(value, dict):
                if any(_ends_in_or(inner) for inner in value.values()):
                    return True
            if _array_test_ends_in_or(value):
                return True
    elif isinstance(expr, list):
        return any(_array_test_ends_in_or(x) for x in expr)
    return False


def _walk_values(expr: Any) -> list[Any]:
    if isinstance(expr, dict):
        return [x for v in expr.values() for x in _walk_values(v)]
    if isinstance(expr, list):
        return [x for v in expr for x in _walk_values(v)]
    return [expr]


def levels(base: RuleBase) -> dict[str, int]:
    """Level of every fact: 0 for proposal facts, 1 + inputs for derived facts."""
    derived = base.derived_facts()
    memo: dict[str, int] = {}

    def level(fact: str) -> int:
        if fact not in derived:
            return 0
        if fact not in memo:
            memo[fact] = 1 + max((level(f) for r in derived[fact] for f in r.facts), default=0)
        return memo[fact]

    return {f: level(f) for f in base.facts}


def rule_numbers(base: RuleBase) -> list[str]:
    """The rule ids in the order that numbers them: rule ``n``'s durable_rules names are ``f"{n}t"`` (its
    definite form) and ``f"{n}p"`` (its possible form), as a verdict's trace shows them; a slim verdict refers to
    long lists of rules by these numbers. Stored verdicts depend on it: changing it needs a migration."""
    return sorted(base.rules)


def fired_rule(numbers: list[str], durable_name: str) -> tuple[str, str]:
    """The rule id and form (``definite`` or ``possible``) of a durable_rules rule name (``rule_numbers``)."""
    return numbers[int(durable_name[:-1])], "definite" if durable_name[-1] == "t" else "possible"


def compile_rule_base(base: RuleBase, name: str = "law") -> CompiledRuleBase:
    """Compile every rule; shard each stratum so durable_rules' limits always hold."""
    lv = levels(base)
    order = rule_numbers(base)
    by_stratum: dict[int, list[Rule]] = {}
    for rid in order:
        rule = base.rules[rid]
        stratum = max((lv[f] for f in rule.facts), default=0)
        by_stratum.setdefault(stratum, []).append(rule)
    derived_by = {f: sorted(r.id for r in rs) for f, rs in base.derived_facts().items()}
    strata: list[Stratum] = []
    index = {rid: i for i, rid in enumerate(order)}
    top = max(by_stratum, default=0)
    for level in range(top + 1):
        rules = by_stratum.get(level, [])
        shards = _shards(rules, index, f"{name}/s{level}")
        after = sorted(f for f in derived_by if lv[f] == level + 1)
        strata.append(Stratum(level, shards, after))
    return CompiledRuleBase(strata, order, derived_by)


def _shards(rules: list[Rule], index: dict[str, int], prefix: str) -> list[Shard]:
    shards: list[Shard] = []
    current: dict[str, Any] = {}
    forms: dict[str, tuple[str, str]] = {}
    reads: set[str] = set()
    budget = nex = 0

    def close() -> None:
        nonlocal current, forms, reads, budget, nex
        if not current:
            return
        current[GUARD] = {"pri": 65000, "all": [{"p": {"kind": "proposal"}}]}
        shards.append(Shard(f"{prefix}/{len(shards)}", current, tuple(sorted(reads)), forms))
        current, forms, reads, budget, nex = {}, {}, set(), 0, 0

    for rule in rules:
        pt, pp = pattern(rule, False), pattern(rule, True)
        _check_safe(rule, pt)
        _check_safe(rule, pp)
        cost = 2 * path_bound(cond.nnf(rule.when))
        more_nex = nex_count(pt) + nex_count(pp)
        if current and (budget + cost > SHARD_PATH_BUDGET or nex + more_nex > MAX_NEX_PER_SHARD):
            close()
        n = index[rule.id]
        current[f"{n}t"] = {"all": [{"p": pt}]}
        current[f"{n}p"] = {"all": [{"p": pp}]}
        forms[f"{n}t"] = (rule.id, "t")
        forms[f"{n}p"] = (rule.id, "p")
        reads.update(rule.facts)
        for leaf in cond.leaves(rule.when):
            if leaf.op in ("contains_none", "contains_any"):
                reads.add(_count_fact(leaf.fact))
        budget += cost
        nex += more_nex
    close()
    return shards


def ruleset_json(shard: Shard) -> str:
    return json.dumps(shard.definition, ensure_ascii=False, sort_keys=False)
