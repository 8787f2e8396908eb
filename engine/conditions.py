"""Condition trees of rules: parsing, negation normal form, and Kleene evaluation.

A condition is ``all`` / ``any`` / ``not`` over leaf predicates on one fact.
This module is the single home of their meaning: ``KNOWN_TESTS`` says what each
operator means for a known value, ``kleene`` is the plain tree-walking statement
of the three-valued semantics, and ``compile_condition`` turns a tree once into
generated Python functions with exactly that meaning -- the one compiled form, used by the reference
evaluator, the explainer and the lint (a test holds it equal to ``kleene``). The
durable_rules compiler (``compiler.py``) starts from the negation normal form
built here, so "not" never reaches the engine.

Three-valued logic: a predicate on an absent (unknown) fact is unknown
(``None``), except ``present``, which asks whether the fact was given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Operator -> its complement, used to push "not" down to the leaves.
COMPLEMENT = {
    "eq": "ne",
    "ne": "eq",
    "in": "not_in",
    "not_in": "in",
    "gt": "lte",
    "lte": "gt",
    "gte": "lt",
    "lt": "gte",
    "contains_any": "contains_none",
    "contains_none": "contains_any",
    "present": "absent",
    "absent": "present",
}
SCALAR_OPS = ("eq", "ne")
LIST_OPS = ("in", "not_in", "contains_any", "contains_none")
ORDER_OPS = ("gt", "gte", "lt", "lte")
AUTHOR_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains_any", "contains_none", "present")

Truth = bool | None  # True, False, or None for unknown


@dataclass(frozen=True)
class Leaf:
    fact: str
    op: str
    value: Any  # scalar, tuple of scalars, or None for presence tests

    def words(self, lang: str = "en") -> str:
        """The predicate in plain words, for readers of rules (Dutch or English)."""
        v = self.value
        shown = ", ".join(_show(x, lang) for x in v) if isinstance(v, tuple) else _show(v, lang)
        phrase = PHRASES["nl" if lang == "nl" else "en"][self.op].format(shown)
        return f"{self.fact} {phrase}"


PHRASES = {
    "en": {
        "eq": "is {}", "ne": "is not {}", "in": "is one of {}", "not_in": "is none of {}",
        "gt": "is more than {}", "gte": "is at least {}", "lt": "is less than {}", "lte": "is at most {}",
        "contains_any": "includes any of {}", "contains_none": "includes none of {}",
        "present": "is answered", "absent": "is not answered",
    },
    "nl": {
        "eq": "is {}", "ne": "is niet {}", "in": "is een van {}", "not_in": "is geen van {}",
        "gt": "is meer dan {}", "gte": "is ten minste {}", "lt": "is minder dan {}", "lte": "is ten hoogste {}",
        "contains_any": "bevat een of meer van {}", "contains_none": "bevat geen van {}",
        "present": "is beantwoord", "absent": "is niet beantwoord",
    },
}
HEADS = {
    "en": {"all": "all of:", "any": "any of:", "not": "it is not the case that:"},
    "nl": {"all": "alle volgende:", "any": "ten minste een van:", "not": "het is niet zo dat:"},
}


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Leaf | All | Any_ | Not


def _show(v: Any, lang: str = "en") -> str:
    if isinstance(v, bool):
        if lang == "nl":
            return "ja" if v else "nee"
        return "true" if v else "false"
    return str(v)


def parse(raw: Mapping[str, Any], lists: Mapping[str, tuple[str, ...]] | None = None) -> Node:
    """Build a tree from its YAML form (already validated against the rule schema).

    ``{"list": NAME}`` as the value of ``in`` / ``contains_any`` refers to a named
    list in ``rules/lists.yaml`` and is expanded here.
    """
    if "all" in raw:
        return All(tuple(parse(x, lists) for x in raw["all"]))
    if "any" in raw:
        return Any_(tuple(parse(x, lists) for x in raw["any"]))
    if "not" in raw:
        return Not(parse(raw["not"], lists))
    fact = raw["fact"]
    (op,) = [k for k in raw if k != "fact"]
    value = raw[op]
    if op == "present":
        return Leaf(fact, "present" if value else "absent", None)
    if isinstance(value, Mapping) and "list" in value:
        if lists is None or value["list"] not in lists:
            raise KeyError(value["list"])
        value = lists[value["list"]]
    if isinstance(value, list | tuple):
        value = tuple(value)
    return Leaf(fact, op, value)


def nnf(node: Node, negate: bool = False) -> Node:
    """Negation normal form: "not" is pushed into complementary leaf operators."""
    if isinstance(node, Not):
        return nnf(node.item, not negate)
    if isinstance(node, Leaf):
        return Leaf(node.fact, COMPLEMENT[node.op], node.value) if negate else node
    items = tuple(nnf(x, negate) for x in node.items)
    if isinstance(node, All):
        return Any_(items) if negate else All(items)
    return All(items) if negate else Any_(items)


def branches(node: All | Any_ | Not) -> tuple[Node, ...]:
    """The sub-trees of an ``all`` / ``any`` node of a tree in negation normal form (no ``not`` left)."""
    if isinstance(node, Not):
        raise ValueError("a 'not' is left in a condition that should be in negation normal form")
    return node.items


def facts_read(node: Node) -> set[str]:
    if isinstance(node, Leaf):
        return {node.fact}
    if isinstance(node, Not):
        return facts_read(node.item)
    return set().union(*(facts_read(x) for x in node.items))


def leaves(node: Node) -> list[Leaf]:
    if isinstance(node, Leaf):
        return [node]
    if isinstance(node, Not):
        return leaves(node.item)
    return [leaf for x in node.items for leaf in leaves(x)]


def _same(v: Any, lit: Any) -> bool:
    return v == lit and type(v) is type(lit)


# What each operator means for a *known* value ``v`` and the rule's literal ``lit``.
# The one place where operators get their meaning; every evaluator takes it from here.
KNOWN_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _same,
    "ne": lambda v, lit: not _same(v, lit),
    "in": lambda v, lit: v in lit,
    "not_in": lambda v, lit: v not in lit,
    "gt": lambda v, lit: v > lit,
    "gte": lambda v, lit: v >= lit,
    "lt": lambda v, lit: v < lit,
    "lte": lambda v, lit: v <= lit,
    "contains_any": lambda v, lit: any(x in lit for x in v),
    "contains_none": lambda v, lit: not any(x in lit for x in v),
}


def eval_leaf(leaf: Leaf, facts: Mapping[str, Any]) -> Truth:
    op = leaf.op
    if op == "present":
        return leaf.fact in facts
    if op == "absent":
        return leaf.fact not in facts
    if leaf.fact not in facts:
        return None
    return KNOWN_TESTS[op](facts[leaf.fact], leaf.value)


def kleene(node: Node, facts: Mapping[str, Any]) -> Truth:
    """Evaluate a tree in strong Kleene logic; ``None`` means unknown."""
    if isinstance(node, Leaf):
        return eval_leaf(node, facts)
    if isinstance(node, Not):
        r = kleene(node.item, facts)
        return None if r is None else not r
    results = [kleene(x, facts) for x in node.items]
    if isinstance(node, All):
        if any(r is False for r in results):
            return False
        return True if all(r is True for r in results) else None
    if any(r is True for r in results):
        return True
    return False if all(r is False for r in results) else None


def open_facts(node: Node, facts: Mapping[str, Any]) -> set[str]:
    """The unknown facts that can still decide an undecided condition: those under a part that is itself
    undecided (an "any" that already holds, or an "all" already false, leaves its other parts moot)."""
    return _open(node, facts)[1]


def _open(node: Node, facts: Mapping[str, Any]) -> tuple[Truth, set[str]]:
    """``kleene`` and ``open_facts`` of a tree in one pass (its plain definition, a part's open facts asked only
    when it is undecided, is kept in tests/engine/test_conditions_open.py)."""
    if isinstance(node, Leaf):
        t = eval_leaf(node, facts)
        return t, (set() if t is not None else {node.fact})
    if isinstance(node, Not):
        t, inner = _open(node.item, facts)
        return (None, inner) if t is None else (not t, set())
    parts = [_open(x, facts) for x in node.items]
    if isinstance(node, All):
        if any(t is False for t, _ in parts):
            return False, set()
        if all(t is True for t, _ in parts):
            return True, set()
    else:
        if any(t is True for t, _ in parts):
            return True, set()
        if all(t is False for t, _ in parts):
            return False, set()
    out: set[str] = set()
    for t, inner in parts:
        if t is None:
            out |= inner
    return None, out


def words(node: Node, depth: int = 0, lang: str = "en") -> list[str]:
    """The condition as indented lines of plain words, in Dutch or English."""
    pad = "  " * depth
    heads = HEADS["nl" if lang == "nl" else "en"]
    if isinstance(node, Leaf):
        return [pad + node.words(lang)]
    if isinstance(node, Not):
        return [pad + heads["not"]] + words(node.item, depth + 1, lang)
    head = heads["all"] if isinstance(node, All) else heads["any"]
    return [pad + head] + [line for x in node.items for line in words(x, depth + 1, lang)]


Check = Callable[[Mapping[str, Any]], Truth]
_MISSING = object()


# The tests written out in generated source (``compile_condition``): {v} is the value, {c} the literal's name,
# {t} the name of its type; the operators not listed are called from ``KNOWN_TESTS``.
_SOURCE = {
    "eq": "(v == {c} and type(v) is {t})",
    "ne": "not (v == {c} and type(v) is {t})",
    "in": "(v in {c})",
    "not_in": "(v not in {c})",
    "gt": "(v > {c})",
    "gte": "(v >= {c})",
    "lt": "(v < {c})",
    "lte": "(v <= {c})",
}


def _plain(value: Any) -> bool:
    """Whether ``repr`` of a literal reads back as the same value (not so for a NaN or an infinity)."""
    if isinstance(value, tuple):
        return all(map(_plain, value))
    return type(value) in (str, int, bool) or value is None or type(value) is float and math.isfinite(value)


class _Source:
    """Python source for a condition tree: one function per "all"/"any" node, its leaves written out inline.

    Each function has the closures' former meaning exactly: parts in order, the first part with the deciding
    value (false for "all", true for "any") settles the node, else unknown if a part is unknown."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"_M": _MISSING}

    def name(self, prefix: str, value: Any) -> str:
        """A name for a value in the source: the value itself where its repr reads back as it (a constant),
        else a default argument of the functions (a local)."""
        if _plain(value):
            return repr(value)
        key = f"{prefix}{len(self.names)}"
        self.names[key] = value
        return key

    def junction(self, node: All | Any_) -> str:
        deciding = not isinstance(node, All)
        body = ["    get = facts.get", "    u = False"]
        for part in node.items:
            negated = False
            while isinstance(part, Not):
                part, negated = part.item, not negated
            settles = deciding != negated  # the part's own value that settles the node
            if isinstance(part, Leaf):
                body += self.leaf(part, settles, deciding)
            else:
                body += [f"    r = {self.junction(part)}(facts)",
                         "    if r is None: u = True",
                         f"    elif r is {settles}: return {deciding}"]
        name = f"_j{len(self.lines)}"
        self.lines += [f"def {name}(facts, {{args}}):", *body, f"    return None if u else {not deciding}", ""]
        return name

    def leaf(self, leaf: Leaf, settles: bool, deciding: bool) -> list[str]:
        fact = self.name("_f", leaf.fact)
        if leaf.op in ("present", "absent"):
            test = f"({fact} {'in' if leaf.op == 'present' else 'not in'} facts)"
            return [f"    if {test} is {settles}: return {deciding}"]
        if leaf.op not in KNOWN_TESTS:
            raise ValueError(f"unknown operator {leaf.op}")
        lit = self.name("_c", leaf.value)
        if leaf.op in _SOURCE:
            test = _SOURCE[leaf.op].format(c=lit, t=self.name("_t", type(leaf.value)))
        else:
            test = f"{self.name('_k', KNOWN_TESTS[leaf.op])}(v, {lit})"
        return [f"    v = get({fact}, _M)",
                "    if v is _M: u = True",
                f"    elif {test if settles else 'not ' + test}: return {deciding}"]


def compile_condition(node: Node) -> Check:
    """A condition tree as a function of the facts, with ``kleene``'s meaning (an absent fact is unknown):
    generated Python source, so that evaluating a leaf costs no call (a single leaf or "not" is an "any" of one
    part, which has its value)."""
    source = _Source()
    root = source.junction(node if isinstance(node, All | Any_) else Any_((node,)))
    args = ", ".join(f"{k}={k}" for k in source.names)
    # only the def lines take the arguments (a literal's own text is never touched)
    text = "\n".join(line.replace("{args}", args) if line.startswith("def ") else line for line in source.lines)
    exec(compile(text, "<condition>", "exec"), source.names)  # noqa: S102 -- source made here from the tree
    check: Check = source.names[root]
    return check
