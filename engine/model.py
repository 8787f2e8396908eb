"""The domain model of a rule base: texts, sources and articles, rules, the rule base itself, scenarios.

Plain data, built and cross-checked by ``loader.py`` and never changed after, read by everything
else. The verdict vocabulary lives here too, once: the effects a verdict can have, in order of
severity, and their words.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, TypeVar

from . import conditions as cond
from .conditions import Truth
from .facts import Fact

Effect = Literal["allowed", "conditional", "prohibited"]
# The effects a verdict can have, least severe first: the most severe effect of the rules that apply wins.
EFFECTS: tuple[Effect, ...] = ("allowed", "conditional", "prohibited")
SEVERITY: dict[str, int] = {effect: rank for rank, effect in enumerate(EFFECTS)}


def strictest(effects: Iterable[str]) -> str:
    """The most severe of some effects ("allowed" when there are none)."""
    return max(effects, key=SEVERITY.__getitem__, default="allowed")


# The effects that restrict: a rule with one of them must rest on binding law.
RESTRICTING: tuple[Effect, ...] = ("conditional", "prohibited")
ADVICE = "advice"  # non-binding guidance: listed apart in a verdict, never part of it
FAR_FUTURE = "9999-12-31"


class RuleLoadError(Exception):
    """The rule base cannot be loaded. Says where and why."""

    def __init__(self, file: str, reason: str, rule: str | None = None, path: str = "",
                 check: str | None = None) -> None:
        self.file, self.rule, self.path, self.reason = file, rule, path, reason
        self.check = check  # the lint's name for the defect, where loading knows it (gates.GateError)
        where = file
        if rule:
            where += f": rule {rule}"
        if path:
            where += f": at {path}"
        super().__init__(f"{where}: {reason}")


class GateError(Exception):
    """questions.yaml declares a gate or implication that cannot be used; ``check`` names the defect kind."""

    def __init__(self, check: str, reason: str, rule: str | None = None, path: str = "") -> None:
        super().__init__(reason)
        self.check, self.reason, self.rule, self.path = check, reason, rule, path


@dataclass(frozen=True)
class Text:
    nl: str
    en: str

    def get(self, lang: str) -> str:
        return self.nl if lang == "nl" else self.en

    def as_dict(self) -> dict[str, str]:
        return {"nl": self.nl, "en": self.en}


@dataclass(frozen=True)
class Article:
    key: str
    summary: Text
    url: str | None
    quote: str | None
    verified: bool
    binding_effect: str | None = None  # prohibits | prohibits_unless | requires | defines | penalises | informs


@dataclass(frozen=True)
class Source:
    id: str
    title: Text
    citation: str
    identifier: str | None
    url: str | None
    kind: str
    binding: bool
    status: str
    valid_from: str | None
    valid_to: str | None
    verification: str | None
    articles: Mapping[str, Article]
    notes: str


@dataclass(frozen=True)
class Citation:
    source: str
    article: str
    quote: str | None = None


@dataclass(frozen=True)
class ScopeBasis:
    """A rule may read activity or purpose only where a cited article names the value it tests."""

    fact: str
    values: tuple[str, ...]
    source: str
    article: str


@dataclass(frozen=True)
class ConditionToFulfil:
    what: Text
    authority: Text
    citation: Citation


@dataclass(frozen=True)
class Rule:
    id: str
    domain: str
    file: str
    title: Text
    effect: str  # one of EFFECTS, or ADVICE (non-binding guidance) or derive (a classification rule)
    derives: str | None
    when: cond.Node
    when_raw: Mapping[str, Any]
    citations: tuple[Citation, ...]
    conditions: tuple[ConditionToFulfil, ...]
    exceptions: tuple[str, ...]
    open_norm: Text | None
    explanation: Text | None
    valid_from: str
    valid_to: str | None
    transitional: Text | None
    severity_monotonic_in: tuple[str, ...]
    notes: str
    scope_basis: tuple[ScopeBasis, ...] = ()

    @property
    def facts(self) -> set[str]:
        return cond.facts_read(self.when)

    def in_force(self, on: date) -> bool:
        day = on.isoformat()
        return self.valid_from <= day <= (self.valid_to or FAR_FUTURE)


@dataclass(frozen=True)
class NamedList:
    name: str
    title: Text
    source: str
    values: tuple[str, ...]
    open_norm: bool


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
    # each gate compiled when first asked (conditions.compile_condition: kleene's meaning, no tree walk)
    _checks: dict[str, cond.Check | None] = field(init=False, repr=False, compare=False, default_factory=dict)
    _implied: list[tuple[cond.Check, Implication]] = field(init=False, repr=False, compare=False,
                                                           default_factory=list)

    def implication_checks(self) -> list[tuple[cond.Check, Implication]]:
        """Each implication with its condition compiled (once, when first asked)."""
        if not self._implied and self.implications:
            self._implied.extend((cond.compile_condition(i.when), i) for i in self.implications)
        return self._implied

    def gate(self, fact: str, known: Mapping[str, Any]) -> Truth:
        """Whether the fact's question may be asked: True (ask), False (closed), None (ask its gate first)."""
        try:
            check = self._checks[fact]
        except KeyError:
            g = self.questions.get(fact)
            check = self._checks[fact] = None if g is None or g.ask_when is None else cond.compile_condition(
                g.ask_when)
        return True if check is None else check(known)

    def kind(self, fact: str) -> str:
        g = self.questions.get(fact)
        return g.kind if g else "design"

    def is_scope(self, fact: str) -> bool:
        g = self.questions.get(fact)
        return bool(g and g.scope)


@dataclass
class RuleBase:
    """Everything the engine needs, validated and cross-checked."""

    rules: dict[str, Rule]
    sources: dict[str, Source]
    questions: dict[str, Text]
    lists: dict[str, NamedList]
    facts: dict[str, Fact]
    domains: dict[str, Text]
    digest: str
    files: dict[str, bytes] = field(repr=False)
    gates: Gates = field(default_factory=lambda: Gates({}, ()), repr=False)  # the questions' gates (gates.py)

    def derived_facts(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = {}
        for r in self.rules.values():
            if r.derives:
                out.setdefault(r.derives, []).append(r)
        return out

    def derived_order(self) -> tuple[str, ...]:
        """The derived facts, each after every derived fact its rules read (loading refuses cycles).

        The one order in which the evaluators and the lint compute derived facts.
        """
        derived = self.derived_facts()
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for rule in derived[name]:
                for f in sorted(rule.facts):
                    if f in derived:
                        visit(f)
            order.append(name)

        for name in sorted(derived):
            visit(name)
        return tuple(order)


@dataclass(frozen=True)
class Scenario:
    """A policy scenario a rule base was built under: a proposed change of the law, never current law."""

    id: str
    title: Text
    status: str
    description: Text
    source: str | None


# Each effect in words, for the summary of a verdict and for "what would change it".
VERDICT_WORDS: dict[str, Text] = {
    "allowed": Text("toegestaan", "allowed"),
    "conditional": Text("toegestaan onder voorwaarden", "conditional"),
    "prohibited": Text("verboden", "prohibited"),
}

T = TypeVar("T")


def per_rule_base(build: Callable[[RuleBase], T]) -> Callable[[RuleBase], T]:
    """``build(base)``, computed once per rule base and forgotten when the rule base is.

    A rule base never changes once built, so whatever is derived from it alone can be kept.
    Keyed by identity, and checked against a weak reference, because ids are reused.
    ``build`` must not keep ``base`` alive (a weak reference at most), or it is never forgotten.
    """
    store: dict[int, tuple[weakref.ref[RuleBase], T]] = {}

    def get(base: RuleBase) -> T:
        hit = store.get(id(base))
        if hit is not None and hit[0]() is base:
            return hit[1]
        value = build(base)
        store[id(base)] = (weakref.ref(base), value)
        weakref.finalize(base, store.pop, id(base), None)
        return value

    return get
