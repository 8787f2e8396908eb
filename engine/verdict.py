"""Build the verdict: grounds with citations, conditions, questions and the range it could move in.

Semantics (three-valued, per rule): a rule *applies* when its condition holds
and none of its exceptions applies (Kleene: ``cond and not any(exceptions)``).

* ``verdict``: the most severe effect among rules that apply on the facts given;
* ``could_become``: the most severe effect among rules that may apply -- no
  answer to the open questions can make the verdict more severe than this;
* ``could_fall_to``: the verdict if every exception that may apply turns out to
  apply -- no answer can make it less severe than this (it equals ``verdict``
  unless a defeating exception is unknown);
* ``complete``: all three are equal;
* ``questions``: the unknown facts that could move the verdict up or down,
  each with its question and the verdict it could lead to.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from . import conditions as cond
from . import relevance
from .conditions import Truth
from .facts import answered_by
from .model import ADVICE, SEVERITY, VERDICT_WORDS, Rule, RuleBase, Scenario, Text, per_rule_base, strictest

if TYPE_CHECKING:
    from .explain import Explainer

DISCLAIMER = Text(
    "Beslissingsondersteuning, geen juridisch advies en geen besluit van een bevoegd gezag. "
    "Controleer de geciteerde bronnen en vraag het bevoegd gezag om een besluit.",
    "Decision support, not legal advice and not a decision of a competent authority. "
    "Check the cited sources and ask the competent authority for a decision.",
)
ADVICE_LABEL = Text("aanbevolen, niet wettelijk verplicht", "recommended, not legally required")


class Evaluation:
    """The raw outcome of one evaluation, before it is turned into a verdict."""

    __slots__ = ("facts", "statuses", "derived", "trace", "as_of")

    def __init__(self, facts: dict[str, Any], statuses: dict[str, Truth], derived: dict[str, Truth],
                 trace: list[dict[str, str]], as_of: date) -> None:
        self.facts, self.statuses, self.derived, self.trace, self.as_of = facts, statuses, derived, trace, as_of


class _Static:
    """What a verdict needs from a rule base that never changes between evaluations.

    Computed once per rule base (``_static``) so that building a verdict does not
    re-derive it for every proposal: each rule's facts, the derived-fact map, an
    order in which exceptions come before the rules they defeat, the rules in
    force per date, and citation JSON (copied out fresh for every verdict).
    """

    def __init__(self, base: RuleBase) -> None:
        self.rule_ids = tuple(base.rules)
        self.facts = {rid: frozenset(r.facts) for rid, r in base.rules.items()}
        self.sorted_facts = {rid: tuple(sorted(f)) for rid, f in self.facts.items()}
        self.derived_rules = base.derived_facts()
        self.exceptions = {rid: r.exceptions for rid, r in base.rules.items()}
        order: list[str] = []
        seen: set[str] = set()

        def visit(rid: str) -> None:
            if rid not in seen:
                seen.add(rid)
                for e in self.exceptions[rid]:
                    visit(e)
                order.append(rid)

        for rid in self.rule_ids:
            visit(rid)
        self.exception_order = tuple((rid, self.exceptions[rid]) for rid in order)
        self.defeasible = tuple((rid, exceptions) for rid, exceptions in self.exception_order if exceptions)
        self.citations: dict[Any, dict[str, Any]] = {}
        self.grounds: dict[str, tuple[Any, ...]] = {}
        self._days: dict[date, _Day] = {}

    def day(self, base: RuleBase, on: date) -> _Day:
        got = self._days.get(on)
        if got is None:
            if len(self._days) > 64:
                self._days.clear()
            got = self._days[on] = _Day(base, on)
        return got

    def in_force(self, base: RuleBase, on: date) -> list[Rule]:
        return self.day(base, on).in_force


def _order(r: Rule) -> tuple[int, str]:
    """Most severe first, then by id: the order of grounds, conditions and questions."""
    return (-SEVERITY.get(r.effect, -1), r.id)


class _Day:
    """The rules in force on one date, in the orders a verdict lists them."""

    def __init__(self, base: RuleBase, on: date) -> None:
        self.in_force = [r for r in base.rules.values() if r.in_force(on)]
        # Advice (non-binding guidance) never takes part in the verdict: it is listed apart.
        self.verdict_rules = [r for r in self.in_force if r.effect in SEVERITY]
        self.by_order = sorted(self.verdict_rules, key=_order)
        self.advice = sorted((r for r in self.in_force if r.effect == ADVICE), key=lambda r: r.id)
        self.classifiers = sorted((r for r in self.in_force if r.effect == "derive"), key=lambda r: r.id)
        self.domains = sorted({r.domain for r in self.in_force})


_static = per_rule_base(_Static)


def applies(base: RuleBase, statuses: dict[str, Truth]) -> dict[str, Truth]:
    """Whether each rule applies, in default logic over three-valued conditions.

    A rule applies when its condition holds and none of its exceptions is
    *established*: an exception defeats a rule only once it definitely applies
    ("nee, tenzij": the licence must be shown). An exception that may apply
    leaves the rule standing and is reported as a way the verdict could fall.
    """
    memo = dict(statuses)
    # Every rule's exceptions come before it in this order, so one pass settles all (a rule without exceptions
    # keeps its own status).
    for rid, exceptions in _static(base).defeasible:
        if memo[rid] is not False and any(memo[e] is True for e in exceptions):
            memo[rid] = False
    return memo


def may_be_defeated(base: RuleBase, status: dict[str, Truth], rid: str) -> list[str]:
    """Exceptions of a rule that may apply (their facts are unknown)."""
    return [e for e in base.rules[rid].exceptions if status[e] is None]


def citation_json(base: RuleBase, c: Any) -> dict[str, Any]:
    cache = _static(base).citations
    t = cache.get(c)
    if t is None:
        t = cache[c] = _citation_json(base, c)
    # A fresh copy every time: callers may change their verdict without touching others.
    return {**t, "source_title": dict(t["source_title"]), "article_summary": dict(t["article_summary"])}


def _citation_json(base: RuleBase, c: Any) -> dict[str, Any]:
    src = base.sources[c.source]
    art = src.articles[c.article]
    return {
        "source": src.id,
        "source_title": src.title.as_dict(),
        "citation": src.citation,
        "article": c.article,
        "article_summary": art.summary.as_dict(),
        "identifier": src.identifier,
        "url": art.url or src.url,
        "quote": c.quote or art.quote,
        "binding": src.binding,
        "verified": art.verified and src.verification in ("primary", "official"),
    }


def _fact_values(rule: Rule, known: dict[str, Any], names: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {f: known.get(f, "unknown") for f in (sorted(rule.facts) if names is None else names)}


def ground_json(base: RuleBase, rule: Rule, known: dict[str, Any], status: str) -> dict[str, Any]:
    st = _static(base)
    parts = st.grounds.get(rule.id)
    if parts is None or parts[0] is not rule:
        parts = st.grounds[rule.id] = _ground_parts(base, rule)
    (_, title, domain, effect, names, citations, derives, explanation, open_norm, exceptions) = parts
    out: dict[str, Any] = {
        "rule": rule.id,
        "status": status,
        "title": {"nl": title[0], "en": title[1]},
        "domain": domain,
        "effect": effect,
        "facts": {f: known.get(f, "unknown") for f in names},
        # Fresh dicts every time: callers may change their verdict without touching others.
        "citations": [{**t, "source_title": dict(t["source_title"]), "article_summary": dict(t["article_summary"])}
                      for t in citations],
    }
    if derives:
        out["derives"] = derives
    if explanation:
        out["explanation"] = {"nl": explanation[0], "en": explanation[1]}
    if open_norm:
        out["open_norm"] = {"nl": open_norm[0], "en": open_norm[1]}
    if exceptions:
        out["exceptions"] = list(exceptions)
    return out


def _ground_parts(base: RuleBase, rule: Rule) -> tuple[Any, ...]:
    """The parts of a rule's ground that do not depend on the proposal (``ground_json``; its plain
    specification is in tests/engine/test_verdict_static.py)."""
    cache = _static(base).citations
    citations = []
    for c in rule.citations:
        if c not in cache:
            cache[c] = _citation_json(base, c)
        citations.append(cache[c])
    return (
        rule, (rule.title.nl, rule.title.en), rule.domain, rule.effect, tuple(sorted(rule.facts)),
        tuple(citations), rule.derives,
        (rule.explanation.nl, rule.explanation.en) if rule.explanation else None,
        (rule.open_norm.nl, rule.open_norm.en) if rule.open_norm else None,
        tuple(rule.exceptions),
    )


def advice_json(base: RuleBase, rule: Rule, known: dict[str, Any]) -> dict[str, Any]:
    """Non-binding guidance that applies: what is recommended and on whose word; it never raises the verdict."""
    return {"rule": rule.id, "title": rule.title.as_dict(), "label": ADVICE_LABEL.as_dict(),
            "facts": _fact_values(rule, known, _static(base).sorted_facts.get(rule.id)),
            "sources": [citation_json(base, c) for c in rule.citations],
            **({"explanation": rule.explanation.as_dict()} if rule.explanation else {})}


def unknown_inputs(base: RuleBase, rule: Rule, known: dict[str, Any], derived: dict[str, Truth],
                   seen: set[str] | None = None, own: dict[str, set[str]] | None = None) -> set[str]:
    """The unknown proposal facts that can still decide a rule, through unknown derived facts and exceptions
    (a part of the condition already settled by the facts given asks nothing more). ``own``: each rule's own
    part, kept across calls on the same facts."""
    seen = seen if seen is not None else set()
    if rule.id in seen:
        return set()
    seen.add(rule.id)
    if own is None:
        own = {}
    mine = own.get(rule.id)
    if mine is None:
        mine = own[rule.id] = cond.open_facts(rule.when, known)
    out: set[str] = set()
    derived_rules = _static(base).derived_rules
    for f in mine:
        if f in derived_rules:
            if derived.get(f) is None:
                for r in derived_rules[f]:
                    out |= unknown_inputs(base, r, known, derived, seen, own)
        elif f not in known:
            out.add(answered_by(f, base.facts))
    for ex in rule.exceptions:
        out |= unknown_inputs(base, base.rules[ex], known, derived, seen, own)
    return out


class Standing:
    """Where one evaluation stands, before anything is asked or written: the rules that apply and may apply,
    the verdict they give and the floor it could fall to (the outcome of bulk runs, ``outcome.py``, and the
    start of every ``Decision``)."""

    __slots__ = ("ev", "known", "status", "day", "definite", "possible", "verdict", "shaky", "floor")

    def __init__(self, base: RuleBase, ev: Evaluation) -> None:
        self.ev = ev
        known = self.known = dict(ev.facts)
        known.update({k: v for k, v in ev.derived.items() if v is not None})
        status = self.status = applies(base, ev.statuses)
        day = self.day = _static(base).day(base, ev.as_of)
        # Rules already in verdict order (most severe first, then id), so nothing is sorted per proposal.
        definite = self.definite = [r for r in day.by_order if status[r.id] is True]
        self.possible = [r for r in day.by_order if status[r.id] is None]
        self.verdict = strictest(r.effect for r in definite)
        shaky = self.shaky = {r.id: may_be_defeated(base, status, r.id) for r in definite}
        self.floor = strictest(r.effect for r in definite if not shaky[r.id])

    def classifiers(self) -> list[Rule]:
        return [r for r in self.day.classifiers if self.ev.statuses[r.id] is True]


class Decision(Standing):
    """What one evaluation decided, before it is written out as a verdict (full: ``build_verdict``; slim:
    ``slim.build_slim``): where it stands, the range, the questions, the texts made for this verdict."""

    __slots__ = ("could_become", "rel", "changes", "summary")

    def __init__(self, base: RuleBase, ev: Evaluation, explainer: Explainer | None) -> None:
        super().__init__(base, ev)
        known, definite, verdict, floor = self.known, self.definite, self.verdict, self.floor
        own: dict[str, set[str]] = {}  # each rule's own open facts, shared by every rule that reaches it
        rel = self.rel = relevance.assess(base, known, definite, self.possible, verdict, self.shaky, floor,
                                          lambda r: unknown_inputs(base, r, known, ev.derived, None, own))
        could_become = self.could_become = rel.could_become
        changes = explainer.changes(ev.facts, ev.statuses, ev.as_of, verdict, applies) if explainer else []
        if changes:
            open_domains = {r.domain for r in definite + rel.listed} | {r.domain for r in self.classifiers()}
            changes = [c for c in changes if relevance.keep_change(base, c, ev.facts, open_domains, verdict)]
        self.changes = changes
        self.summary = summary_text(verdict, could_become, floor, rel.open_scope)

    def defeated(self) -> list[Rule]:
        """Rules whose condition holds but that an exception defeats."""
        statuses, status = self.ev.statuses, self.status
        return [r for r in self.day.by_order if statuses[r.id] is True and status[r.id] is False]


def summary_text(verdict: str, could_become: str, floor: str, open_scope: list[str]) -> Text:
    """The verdict's one-line summary (made for this verdict from its range and its open scope questions)."""
    if open_scope:
        return relevance.undetermined_summary(open_scope, verdict, could_become, floor)
    words = VERDICT_WORDS[verdict]
    return Text(
        f"Op grond van de gegeven feiten: {words.nl}."
        + ("" if verdict == could_become else f" Onvolledig: kan {VERDICT_WORDS[could_become].nl} worden.")
        + ("" if verdict == floor else f" Met de ontbrekende gegevens kan het ook {VERDICT_WORDS[floor].nl} worden."),
        f"On the facts given: {words.en}."
        + ("" if verdict == could_become else f" Incomplete: could become {VERDICT_WORDS[could_become].en}.")
        + ("" if verdict == floor else f" With the missing facts it could also become {VERDICT_WORDS[floor].en}."),
    )


def checked_ground(rules_in_force: int, domains: list[str]) -> dict[str, Any]:
    """The ground an allowed verdict gets: what was checked (it depends only on the law of the date)."""
    return {
        "rule": "_checked", "status": "checked",
        "title": Text(
            f"Geen van de {rules_in_force} geldende regels verbiedt dit voorstel of stelt er voorwaarden aan "
            f"op grond van de gegeven feiten (getoetst: {', '.join(domains)})",
            f"None of the {rules_in_force} rules in force prohibits or conditions this proposal on the facts "
            f"given (checked: {', '.join(domains)})",
        ).as_dict(),
        "domain": "all", "effect": "allowed", "facts": {}, "citations": [],
    }


def ruleset_json(base: RuleBase, ev: Evaluation, scenario: Scenario | None, engine_version: str) -> dict[str, Any]:
    return {
        "hash": base.digest,
        "as_of": ev.as_of.isoformat(),
        "scenario": None if scenario is None else {
            "id": scenario.id, "title": scenario.title.as_dict(), "status": scenario.status,
            "source": scenario.source, "is_current_law": False,
        },
        "engine_version": engine_version,
        "rules_in_force": len(_static(base).day(base, ev.as_of).in_force),
    }


def checked(base: RuleBase, on: date) -> dict[str, Any]:
    """What a verdict of this date checked: the domains and the number of rules in force."""
    day = _static(base).day(base, on)
    return {"domains": list(day.domains), "rules": len(day.in_force)}


def build_verdict(base: RuleBase, ev: Evaluation, *, lang: str, engine_version: str,
                  scenario: Scenario | None, explainer: Explainer | None = None) -> dict[str, Any]:
    """The verdict in the full form (schemas/verdict.schema.json): every text in both languages."""
    d = Decision(base, ev, explainer)
    known, status, day, definite, rel = d.known, d.status, d.day, d.definite, d.rel
    grounds = [ground_json(base, r, known, "applies") for r in definite]
    grounds += [ground_json(base, r, known, "applies") for r in d.classifiers()]
    conditions = [
        {"rule": r.id, "what": c.what.as_dict(), "authority": c.authority.as_dict(),
         "citation": citation_json(base, c.citation)}
        for r in definite if r.effect == "conditional" for c in r.conditions
    ]
    relevance.say_refusals(conditions, rel.refusals)
    questions = rel.questions
    if not definite:  # an allowed verdict says what was checked
        grounds.insert(0, checked_ground(len(day.in_force), day.domains))
    return {
        "verdict": d.verdict,
        "complete": d.floor == d.verdict == d.could_become,
        "determined": rel.determined,
        "undetermined": undetermined(rel.open_scope),
        "next_question": questions[0]["fact"] if questions else None,
        "not_assessed": rel.not_assessed,
        "could_become": d.could_become,
        "could_fall_to": d.floor,
        "summary": d.summary.get(lang),
        "grounds": grounds,
        "possible_grounds": [ground_json(base, r, known, "may_apply") for r in rel.listed],
        "defeated": [{"rule": r.id, "title": r.title.as_dict(), "by": [e for e in r.exceptions if status[e] is True]}
                     for r in d.defeated()],
        "conditions": conditions,
        "questions": questions,
        "open_norms": [{"rule": r.id, "status": "applies" if status[r.id] is True else "may_apply",
                        "norm": r.open_norm.as_dict()} for r in definite + rel.listed if r.open_norm],
        "advice": [advice_json(base, r, known) for r in day.advice if status[r.id] is True],
        "changes": d.changes,
        "derived": {k: d.ev.derived[k] for k in sorted(d.ev.derived)},
        "checked": checked(base, d.ev.as_of),
        "trace": d.ev.trace,
        "ruleset": ruleset_json(base, d.ev, scenario, engine_version),
        "lang": lang,
        "disclaimer": DISCLAIMER.as_dict(),
    }


def undetermined(open_scope: list[str]) -> dict[str, Any] | None:
    """Why the outcome is not determined (made from the open scope questions), or None when it is."""
    if not open_scope:
        return None
    return {"reason": relevance.scope_reason(list(open_scope)).as_dict(), "scope_questions": list(open_scope)}
