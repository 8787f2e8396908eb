"""Rule-base analysis: what a rule author should fix before the rules are used.

Loading already checks schemas and references (a bad file never loads; ``lint_directory``
turns that refusal into a finding). The checks here look at the rule base as a whole:

* bookkeeping: unused sources, proposal facts no rule reads, questions without a fact,
  rules no case makes apply, texts left untranslated, validity periods that outrun
  their legal grounds, unverified grounds the notes keep quiet about, prohibiting or
  conditioning rules that rest on non-binding text without saying so;
* logic, decided exactly over the three-valued (Kleene) semantics of the engine:
  a rule whose condition can never hold, or that holds but is always defeated;
  a permission (``allowed``) and a restriction on the same provision that can both
  apply with no exception between them; an exception that can never defeat its rule.

The logical checks quantify over every proposal. Each fact's domain is finite once it
is cut at the literals the rules compare it with (enum values, integer thresholds,
the regions of the value lists a set is tested against), plus "unknown". When the
product of the domains a question touches is small, every assignment is enumerated
for every period in which the rule base is constant; otherwise the question goes to
the z3 SMT solver with the same semantics. Both are exact; each finding says which
method decided it, and ``LintReport.methods`` counts them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from . import conditions as cond
from .loader import FAR_FUTURE, Rule, RuleBase, RuleLoadError, Text, load_rule_base

ENUMERATION_LIMIT = 20_000  # assignments per period above which z3 decides
UNKNOWN = None
OTHER = "\x00other"  # stands for every set element no rule mentions


@dataclass(frozen=True)
class Finding:
    check: str  # short name of the check
    subject: str  # rule id, source id or fact name
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.message}"


@dataclass
class LintReport:
    findings: list[Finding]
    methods: dict[str, int] = field(default_factory=dict)  # "enumeration" | "z3" -> questions decided

    def summary(self) -> str:
        parts = [f"{n} by {m}" for m, n in sorted(self.methods.items())]
        return "logical checks: " + (", ".join(parts) if parts else "none run")


# -- bookkeeping checks ----------------------------------------------------------------------
def unused_sources(base: RuleBase) -> list[Finding]:
    cited = {c.source for r in base.rules.values() for c in r.citations}
    cited |= {c.citation.source for r in base.rules.values() for c in r.conditions}
    cited |= {lst.source for lst in base.lists.values()}
    return [Finding("unused-source", s, "no rule or list cites this source") for s in sorted(set(base.sources) - cited)]


def unread_facts(base: RuleBase) -> list[Finding]:
    read: set[str] = set()
    for r in base.rules.values():
        read |= r.facts
    companions = {f"{name}.count" for name in read} | {"partners.count"}
    return [
        Finding("unread-fact", name, "no rule reads this proposal fact")
        for name, fact in sorted(base.facts.items())
        if not fact.derived and name not in read and name not in companions
    ]


def unused_questions(base: RuleBase) -> list[Finding]:
    return [
        Finding("unused-question", name, "questions.yaml has a question for a fact that is not in the proposal schema")
        for name in sorted(base.questions) if name not in base.facts
    ]


def uncovered_rules(base: RuleBase, covered: Iterable[str]) -> list[Finding]:
    done = set(covered)
    return [Finding("uncovered-rule", rid, "no case in the case base makes this rule apply")
            for rid in sorted(set(base.rules) - done)]


def _texts(base: RuleBase) -> Iterable[tuple[str, str, Text]]:
    for name, t in base.domains.items():
        yield f"domain {name}", "title", t
    for r in base.rules.values():
        yield r.id, "title", r.title
        for label, t in (("explanation", r.explanation), ("open_norm", r.open_norm),
                         ("transitional", r.transitional)):
            if t is not None:
                yield r.id, label, t
        for i, c in enumerate(r.conditions):
            yield r.id, f"conditions[{i}].what", c.what
            yield r.id, f"conditions[{i}].authority", c.authority
    for s in base.sources.values():
        yield s.id, "title", s.title
        for key, a in s.articles.items():
            yield s.id, f"article {key!r}", a.summary
    for name, lst in base.lists.items():
        yield f"list {name}", "title", lst.title
    for name, q in base.questions.items():
        yield f"question {name}", "text", q


def untranslated(base: RuleBase) -> list[Finding]:
    """Every text needs a Dutch and an English version that are not the same words."""
    out = []
    for subject, label, t in _texts(base):
        if not t.nl.strip() or not t.en.strip():
            out.append(Finding("untranslated", subject, f"{label} lacks a Dutch or an English text"))
        elif t.nl.strip() == t.en.strip() and len(t.en.split()) > 2:
            out.append(Finding("untranslated", subject, f"{label} has the same text in Dutch and English"))
    return out


def _day(text: str) -> date:
    return date.fromisoformat(text)


def validity(base: RuleBase) -> list[Finding]:
    """Rules may be in force only while a binding ground they cite is; binding sources carry dates."""
    out = []
    for s in sorted(base.sources.values(), key=lambda s: s.id):
        if s.binding and s.status in ("in_force", "historic") and not s.valid_from:
            cited = any(c.source == s.id for r in base.rules.values() for c in r.citations)
            if cited:
                out.append(Finding("validity", s.id, "binding source cited as a ground has no valid_from"))
    for r in sorted(base.rules.values(), key=lambda r: r.id):
        grounds = [base.sources[c.source] for c in r.citations if base.sources[c.source].binding]
        if r.effect == "derive" or not grounds:
            continue
        periods = sorted((_day(s.valid_from), _day(s.valid_to or FAR_FUTURE)) for s in grounds if s.valid_from)
        start, end = _day(r.valid_from), _day(r.valid_to or FAR_FUTURE)
        reach = start
        for lo, hi in periods:
            if lo > reach:
                break
            if hi >= reach:
                reach = hi + timedelta(days=1) if hi < date.max else hi
        if reach <= end and not (reach == date.max):
            missing = reach.isoformat()
            out.append(Finding("validity", r.id, f"in force on {missing} while none of its binding grounds is"))
    return out


def grounds_honesty(base: RuleBase) -> list[Finding]:
    """Non-binding or unverified grounds must be admitted in the rule's notes."""
    out = []
    for r in sorted(base.rules.values(), key=lambda r: r.id):
        if r.effect == "derive":
            continue
        notes = r.notes.lower()
        if r.effect in ("prohibited", "conditional") and not any(base.sources[c.source].binding for c in r.citations):
            if "not binding" not in notes:
                out.append(Finding("non-binding-ground", r.id,
                                   "rests on non-binding text only; the notes must say it is not binding"))
        shaky = [c for c in r.citations
                 if not base.sources[c.source].articles[c.article].verified
                 or base.sources[c.source].verification == "unverified"]
        if r.effect != "allowed" and shaky and not any(w in notes for w in ("unverified", "not researched")):
            keys = ", ".join(f"{c.source} {c.article}" for c in shaky)
            out.append(Finding("unverified-ground", r.id, f"cites unverified text ({keys}); the notes must say so"))
    return out


# -- the logical checks ----------------------------------------------------------------------
Truth = bool | None
Env = dict[str, Any]


class _Model:
    """Finite fact domains and compiled three-valued conditions of one rule base."""

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self.derived = base.derived_facts()
        self.literals: dict[str, list[Any]] = {}
        self.set_lists: dict[str, set[tuple[str, ...]]] = {}
        for r in base.rules.values():
            for leaf in cond.leaves(r.when):
                if leaf.fact in self.derived or leaf.value is None:
                    continue
                fact = base.facts[leaf.fact]
                values = list(leaf.value) if isinstance(leaf.value, tuple) else [leaf.value]
                if fact.kind == "set":
                    self.set_lists.setdefault(leaf.fact, set()).add(tuple(sorted(values)))
                else:
                    self.literals.setdefault(leaf.fact, []).extend(values)
        self._domains: dict[str, list[Any]] = {}
        self.regions: dict[str, list[frozenset[str]]] = {}
        self._scope: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    # domains
    def domain(self, name: str) -> list[Any]:
        if name not in self._domains:
            self._domains[name] = [UNKNOWN] + self._values(name)
        return self._domains[name]

    def _values(self, name: str) -> list[Any]:
        fact = self.base.facts[name]
        if fact.kind == "bool":
            return [True, False]
        if fact.kind == "enum":
            return list(fact.values) or sorted({str(v) for v in self.literals.get(name, [])} | {OTHER})
        if fact.kind == "int":
            lo = fact.minimum if fact.minimum is not None else -(10 ** 9)
            hi = fact.maximum if fact.maximum is not None else 10 ** 9
            points = {lo, hi}
            for v in self.literals.get(name, []):
                points |= {v - 1, v, v + 1}
            return sorted(p for p in points if lo <= p <= hi)
        regions = self._regions(name)
        reps = [min(r) for r in regions]
        return [tuple(sorted(c)) for n in range(len(reps) + 1) for c in itertools.combinations(reps, n)]

    def _regions(self, name: str) -> list[frozenset[str]]:
        """Split the mentioned elements by which lists they belong to; one more region for the rest."""
        if name not in self.regions:
            lists = sorted(self.set_lists.get(name, set()))
            elements = sorted({x for lst in lists for x in lst})
            by_signature: dict[tuple[bool, ...], set[str]] = {}
            for x in elements:
                by_signature.setdefault(tuple(x in lst for lst in lists), set()).add(x)
            self.regions[name] = [frozenset(v) for _, v in sorted(by_signature.items())] + [frozenset({OTHER})]
        return self.regions[name]

    # scope: the base facts and the rules a question depends on
    def scope(self, rid: str) -> tuple[frozenset[str], frozenset[str]]:
        if rid not in self._scope:
            facts: set[str] = set()
            rules: set[str] = set()
            stack = [rid]
            while stack:
                cur = stack.pop()
                if cur in rules:
                    continue
                rules.add(cur)
                rule = self.base.rules[cur]
                stack.extend(rule.exceptions)
                for f in rule.facts:
                    if f in self.derived:
                        stack.extend(r.id for r in self.derived[f])
                    else:
                        facts.add(f)
            self._scope[rid] = (frozenset(facts), frozenset(rules))
        return self._scope[rid]

    def periods(self, rules: Iterable[str]) -> list[date]:
        """First days of the periods in which these rules' in-force status is constant."""
        days = {date(1900, 1, 1)}
        for rid in rules:
            r = self.base.rules[rid]
            days.add(_day(r.valid_from))
            if r.valid_to and r.valid_to != FAR_FUTURE:
                days.add(_day(r.valid_to) + timedelta(days=1))
        return sorted(days)


# -- enumeration -------------------------------------------------------------------------------
def _leaf_fn(leaf: cond.Leaf) -> Callable[[Env], Truth]:
    name, op, lit = leaf.fact, leaf.op, leaf.value
    if op == "present":
        return lambda env: env.get(name) is not UNKNOWN
    if op == "absent":
        return lambda env: env.get(name) is UNKNOWN

    known = cond.KNOWN_TESTS[op]

    def fn(env: Env) -> Truth:
        v = env.get(name)
        return UNKNOWN if v is UNKNOWN else known(v, lit)

    return fn


def _node_fn(node: cond.Node) -> Callable[[Env], Truth]:
    if isinstance(node, cond.Leaf):
        return _leaf_fn(node)
    if isinstance(node, cond.Not):
        inner = _node_fn(node.item)
        return lambda env: (lambda r: UNKNOWN if r is UNKNOWN else not r)(inner(env))
    parts = [_node_fn(x) for x in node.items]
    if isinstance(node, cond.All):
        def all_fn(env: Env) -> Truth:
            seen_unknown = False
            for p in parts:
                r = p(env)
                if r is False:
                    return False
                if r is UNKNOWN:
                    seen_unknown = True
            return UNKNOWN if seen_unknown else True
        return all_fn

    def any_fn(env: Env) -> Truth:
        seen_unknown = False
        for p in parts:
            r = p(env)
            if r is True:
                return True
            if r is UNKNOWN:
                seen_unknown = True
        return UNKNOWN if seen_unknown else False
    return any_fn


class _Enumerator:
    def __init__(self, model: _Model) -> None:
        self.model = model
        self.fns = {rid: _node_fn(r.when) for rid, r in model.base.rules.items()}

    def evaluator(self, on: date) -> Callable[[Env], Callable[[str], Truth]]:
        base = self.model.base
        in_force = {rid: r.in_force(on) for rid, r in base.rules.items()}

        def bind(assignment: Env) -> Callable[[str], Truth]:
            env: dict[str, Any] = dict(assignment)
            for name, rules in self._derived_order():
                results = [self.fns[r.id](env) for r in rules if in_force[r.id]]
                env[name] = True if True in results else (UNKNOWN if UNKNOWN in results else False)
            own = {}

            def holds(rid: str) -> Truth:
                if rid not in own:
                    own[rid] = self.fns[rid](env) if in_force[rid] else False
                return own[rid]
            return holds
        return bind

    def _derived_order(self) -> list[tuple[str, list[Rule]]]:
        if not hasattr(self, "_order"):
            order: list[str] = []
            seen: set[str] = set()

            def visit(name: str) -> None:
                if name in seen:
                    return
                seen.add(name)
                for r in self.model.derived[name]:
                    for f in r.facts:
                        if f in self.model.derived:
                            visit(f)
                order.append(name)
            for name in sorted(self.model.derived):
                visit(name)
            self._order = [(n, self.model.derived[n]) for n in order]
        return self._order

    def search(self, facts: Iterable[str], days: list[date],
               goal: Callable[[Callable[[str], Truth]], bool]) -> tuple[Env, date] | None:
        names = sorted(facts)
        domains = [self.model.domain(n) for n in names]
        for on in days:
            bind = self.evaluator(on)
            for values in itertools.product(*domains):
                assignment = {n: v for n, v in zip(names, values, strict=True) if v is not UNKNOWN}
                if goal(bind(assignment)):
                    return assignment, on
        return None


def _applies(base: RuleBase, holds: Callable[[str], Truth], rid: str) -> bool:
    """Definitely applies: the condition holds and no exception definitely applies."""
    return holds(rid) is True and not any(_applies(base, holds, e) for e in base.rules[rid].exceptions)


# -- z3 ----------------------------------------------------------------------------------------
class _Z3:
    """The same questions as SMT formulas: per fact a 'known' flag and a value."""

    def __init__(self, model: _Model) -> None:
        import z3

        self.z3 = z3
        self.model = model

    def _vars(self, names: Iterable[str]) -> dict[str, Any]:
        z3, out = self.z3, {}
        for n in names:
            fact = self.model.base.facts[n]
            known = z3.Bool(f"known:{n}")
            if fact.kind == "bool":
                value = z3.Bool(f"v:{n}")
                bounds = []
            elif fact.kind == "enum":
                value = z3.Int(f"v:{n}")
                values = self.model._values(n)
                bounds = [value >= 0, value < len(values)]
            elif fact.kind == "int":
                value = z3.Int(f"v:{n}")
                bounds = []
                if fact.minimum is not None:
                    bounds.append(value >= fact.minimum)
                if fact.maximum is not None:
                    bounds.append(value <= fact.maximum)
            else:
                value = [z3.Bool(f"v:{n}:{i}") for i in range(len(self.model._regions(n)))]
                bounds = []
            out[n] = (known, value, bounds)
        return out

    def _pred(self, leaf: cond.Leaf, value: Any) -> Any:
        z3 = self.z3
        fact = self.model.base.facts.get(leaf.fact)
        op, lit = leaf.op, leaf.value
        kind = "bool" if fact is None else fact.kind
        if kind == "set":
            regions = self.model._regions(leaf.fact)
            hit = z3.Or([b for b, reg in zip(value, regions, strict=True) if reg & set(lit)] or [z3.BoolVal(False)])
            return hit if op == "contains_any" else z3.Not(hit)

        def eq(x: Any) -> Any:
            if kind == "enum":
                values = self.model._values(leaf.fact)
                return value == values.index(x) if x in values else z3.BoolVal(False)
            return value == x

        if op == "eq":
            return eq(lit)
        if op == "ne":
            return z3.Not(eq(lit))
        if op == "in":
            return z3.Or([eq(x) for x in lit])
        if op == "not_in":
            return z3.Not(z3.Or([eq(x) for x in lit]))
        return {"gt": value > lit, "gte": value >= lit, "lt": value < lit, "lte": value <= lit}[op]

    def forms(self, node: cond.Node, env: Mapping[str, Any]) -> tuple[Any, Any]:
        """(definitely true, possibly true) of an NNF tree."""
        z3 = self.z3
        if isinstance(node, cond.Leaf):
            known, value, _ = env[node.fact]
            if node.op == "present":
                return known, known
            if node.op == "absent":
                return z3.Not(known), z3.Not(known)
            pred = self._pred(node, value)
            return z3.And(known, pred), z3.Or(z3.Not(known), pred)
        parts = [self.forms(x, env) for x in node.items]
        join = z3.And if isinstance(node, cond.All) else z3.Or
        return join([t for t, _ in parts]), join([p for _, p in parts])

    def search(self, facts: Iterable[str], days: list[date],
               goal: Callable[[Callable[[str], Any]], Any]) -> tuple[Env, date] | None:
        z3 = self.z3
        base, derived = self.model.base, self.model.derived
        names = sorted(facts)
        for on in days:
            env: dict[str, Any] = dict(self._vars(names))
            memo: dict[str, Any] = {}

            def derived_var(name: str, on: date = on, env: dict[str, Any] = env) -> None:
                if name in env:
                    return
                ts, ps = [], []
                for r in derived[name]:
                    if not r.in_force(on):
                        continue
                    for f in r.facts:
                        if f in derived:
                            derived_var(f)
                    t, p = self.forms(cond.nnf(r.when), env)
                    ts.append(t)
                    ps.append(p)
                d_t = z3.Or(ts) if ts else z3.BoolVal(False)
                d_p = z3.Or(ps) if ps else z3.BoolVal(False)
                env[name] = (z3.Or(d_t, z3.Not(d_p)), d_t, [])

            def holds(rid: str, on: date = on, env: dict[str, Any] = env, memo: dict[str, Any] = memo) -> Any:
                if rid not in memo:
                    rule = base.rules[rid]
                    if not rule.in_force(on):
                        memo[rid] = z3.BoolVal(False)
                    else:
                        for f in rule.facts:
                            if f in derived:
                                derived_var(f)
                        memo[rid] = self.forms(cond.nnf(rule.when), env)[0]
                return memo[rid]

            solver = z3.Solver()
            for n in names:
                solver.add(*env[n][2])
            solver.add(goal(holds))
            if solver.check() == z3.sat:
                m = solver.model()
                return self._witness(m, names, env), on
        return None

    def _witness(self, m: Any, names: list[str], env: Mapping[str, Any]) -> Env:
        z3, out = self.z3, {}
        for n in names:
            known, value, _ = env[n]
            if not z3.is_true(m.eval(known, model_completion=True)):
                continue
            fact = self.model.base.facts[n]
            if fact.kind == "bool":
                out[n] = z3.is_true(m.eval(value, model_completion=True))
            elif fact.kind == "enum":
                out[n] = self.model._values(n)[m.eval(value, model_completion=True).as_long()]
            elif fact.kind == "int":
                out[n] = m.eval(value, model_completion=True).as_long()
            else:
                regions = self.model._regions(n)
                out[n] = tuple(sorted(min(reg) for b, reg in zip(value, regions, strict=True)
                                      if z3.is_true(m.eval(b, model_completion=True))))
        return out


def _z3_applies(z3: Any, base: RuleBase, holds: Callable[[str], Any], rid: str) -> Any:
    exc = [_z3_applies(z3, base, holds, e) for e in base.rules[rid].exceptions]
    return z3.And([holds(rid)] + [z3.Not(x) for x in exc])


# -- the checks themselves -------------------------------------------------------------------
class Analyser:
    """Answers 'is there a proposal and a date such that ...' questions, by enumeration or z3."""

    def __init__(self, base: RuleBase, enumeration_limit: int = ENUMERATION_LIMIT) -> None:
        self.base = base
        self.model = _Model(base)
        self.enum = _Enumerator(self.model)
        self.limit = enumeration_limit
        self.methods: dict[str, int] = {}
        self._z3: _Z3 | None = None

    def size(self, facts: Iterable[str]) -> int:
        n = 1
        for f in facts:
            n *= len(self.model.domain(f))
        return n

    def exists(self, rules: Iterable[str], goal_enum: Callable[[Callable[[str], Truth]], bool],
               goal_z3: Callable[[Any, Callable[[str], Any]], Any]) -> tuple[tuple[Env, date] | None, str]:
        facts: set[str] = set()
        scope_rules: set[str] = set()
        for rid in rules:
            f, r = self.model.scope(rid)
            facts |= f
            scope_rules |= r
        days = self.model.periods(scope_rules)
        if self.size(facts) <= self.limit:
            method = "enumeration"
            found = self.enum.search(facts, days, goal_enum)
        else:
            method = "z3"
            if self._z3 is None:
                self._z3 = _Z3(self.model)
            z3 = self._z3.z3
            found = self._z3.search(facts, days, lambda holds: goal_z3(z3, holds))
        self.methods[method] = self.methods.get(method, 0) + 1
        return found, method

    def can_hold(self, rid: str) -> tuple[tuple[Env, date] | None, str]:
        return self.exists([rid], lambda h: h(rid) is True, lambda z3, h: h(rid))

    def can_apply(self, rid: str) -> tuple[tuple[Env, date] | None, str]:
        base = self.base
        return self.exists([rid], lambda h: _applies(base, h, rid),
                           lambda z3, h: _z3_applies(z3, base, h, rid))

    def both_apply(self, a: str, b: str) -> tuple[tuple[Env, date] | None, str]:
        base = self.base
        return self.exists([a, b], lambda h: _applies(base, h, a) and _applies(base, h, b),
                           lambda z3, h: z3.And(_z3_applies(z3, base, h, a), _z3_applies(z3, base, h, b)))

    def can_defeat(self, rid: str, ex: str) -> tuple[tuple[Env, date] | None, str]:
        base = self.base
        return self.exists([rid, ex], lambda h: h(rid) is True and _applies(base, h, ex),
                           lambda z3, h: z3.And(h(rid), _z3_applies(z3, base, h, ex)))


def _show(found: tuple[Env, date]) -> str:
    env, on = found
    shown = ", ".join(f"{k}={_value(v)}" for k, v in sorted(env.items())) or "no facts given"
    return f"{shown} (as of {on.isoformat()})"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, tuple):
        return "[" + ", ".join("…" if x == OTHER else x for x in v) + "]"
    return str(v)


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
    restrictions = [r for r in rules if r.effect in ("conditional", "prohibited")]
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
                    f"e.g. when {_show(found)} [{method}]"))
    return out


def lint_report(base: RuleBase, covered_rules: Iterable[str] | None = None,
                analyser: Analyser | None = None) -> LintReport:
    an = analyser or Analyser(base)
    findings = (unused_sources(base) + unread_facts(base) + unused_questions(base) + untranslated(base)
                + validity(base) + grounds_honesty(base) + logical(base, an))
    if covered_rules is not None:
        findings += uncovered_rules(base, covered_rules)
    return LintReport(findings, dict(an.methods))


def lint(base: RuleBase, covered_rules: Iterable[str] | None = None) -> list[Finding]:
    return lint_report(base, covered_rules).findings


def lint_directory(directory: Path, covered_rules: Iterable[str] | None = None) -> LintReport:
    """Lint a rule directory; a directory that does not load is one 'schema' or 'reference' finding."""
    try:
        base = load_rule_base(directory)
    except RuleLoadError as exc:
        schema = exc.path and any(s in exc.reason for s in (
            "is not valid", "is a required property", "does not match", "is not of type", "Additional properties",
            "is not one of", "is too short"))
        kind = exc.check or ("schema" if schema else "reference")  # gates.py names its own defects
        return LintReport([Finding(kind, exc.rule or exc.file, str(exc))])
    return lint_report(base, covered_rules)
