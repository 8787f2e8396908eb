"""What is still worth asking, in which order, and how much the verdict is worth on the facts given.

* The frontier: a question is offered only when its gate definitely holds (``gates.py``) and a rule
  that may still apply -- one that could raise the verdict, or an exception that could lower it --
  reads it. A fact whose gate is unknown is not asked; the unknown facts of its gate are, instead.
* Tiers: (A) scope, what the proposal involves; (B) facts that can decide a prohibition; (C) facts
  that decide conditions; (D) the status of applications and approvals. Within a tier, the question
  that settles the most still-possible rules comes first.
* Ranges: a prohibition that only says "the permit was refused", where that permit is already a
  condition of the verdict, is not a way the verdict can become more severe; it is said once, in
  the condition ("if refused, the activity may not go ahead").
* Determinedness: while a scope question is on the frontier the outcome is not determined.
* Noise: rules that wait on an unanswered scope question are not listed one by one but collapsed
  per scope question ("not assessed until you answer: ... (11 rules)").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from .conditions import facts_read
from .facts import answered_by
from .implications import apply_implications
from .model import SEVERITY, Gates, Rule, RuleBase, Text, per_rule_base

TIERS = ("A", "B", "C", "D")
REFUSED = Text("Als dit wordt geweigerd, mag de activiteit niet doorgaan.",
               "If refused, the activity may not go ahead.")


@dataclass
class Relevance:
    questions: list[dict[str, Any]]
    could_become: str
    refusals: dict[str, list[str]]  # conditional rule -> prohibitions that only say its permit was refused
    listed: list[Rule]  # possible rules worth listing one by one
    not_assessed: list[dict[str, Any]]
    determined: bool
    reason: Text | None = None
    open_scope: list[str] = field(default_factory=list)


def assess(base: RuleBase, known: Mapping[str, Any], definite: list[Rule], possible: list[Rule],
           verdict: str, shaky: Mapping[str, list[str]], floor: str,
           unknown_inputs: Callable[[Rule], set[str]]) -> Relevance:
    """The frontier, ranges and noise filter for one evaluation (see the module docstring)."""
    gates = base.gates
    inputs = _once_per_rule(unknown_inputs)
    blockers = _blockers(base, gates, known)
    refusals = _refusals(base, gates, definite, possible, inputs)
    refusing = {r for rs in refusals.values() for r in rs}
    could_become = max([verdict] + [r.effect for r in possible if r.id not in refusing], key=SEVERITY.__getitem__)
    # fact -> [rules it may settle], and whether one of them can raise the verdict to a prohibition
    wanted: dict[str, list[str]] = {}
    effect: dict[str, str] = {}
    for r in possible:
        if SEVERITY[r.effect] <= SEVERITY[verdict]:
            continue
        for f in _waits_on(gates, inputs(r), blockers):
            wanted.setdefault(f, []).append(r.id)
            if f not in effect or SEVERITY[r.effect] > SEVERITY[effect[f]]:
                effect[f] = r.effect
    for r in definite:
        if not shaky[r.id] or SEVERITY[r.effect] < SEVERITY[verdict]:
            continue
        for ex in shaky[r.id]:
            for f in _waits_on(gates, inputs(base.rules[ex]), blockers):
                wanted.setdefault(f, []).append(ex)
                effect.setdefault(f, floor)
    offered: dict[str, dict[str, Any]] = {}
    for f in sorted(wanted):
        for asked in _askable(base, gates, f, known, set()):
            q = offered.get(asked)
            if q is None:
                q = offered[asked] = {
                    "fact": asked, "question": base.questions[asked].as_dict(), "could_lead_to": effect[f],
                    "rules": [], "tier": "", "depends_on": list(gates.questions[asked].depends_on)
                    if asked in gates.questions else [],
                }
            q["rules"].extend(x for x in wanted[f] if x not in q["rules"])
            if SEVERITY[effect[f]] > SEVERITY[q["could_lead_to"]]:
                q["could_lead_to"] = effect[f]
    for q in offered.values():
        q["tier"] = _tier(base, gates, q["fact"], q["rules"])
    _merge_answered_together(base, offered)
    questions = sorted(offered.values(), key=lambda q: (TIERS.index(q["tier"]), -len(q["rules"]), q["fact"]))
    open_scope = [q["fact"] for q in questions if q["tier"] == "A"]
    if open_scope:  # what the proposal involves comes first: its follow-ups are asked once it is known
        questions = [q for q in questions if q["tier"] == "A"]
    listed, not_assessed = _collapse(base, possible, {r.id for r in definite}, refusing, inputs, blockers)
    reason = None
    if open_scope:
        reason = Text("Nog niet genoeg informatie: eerst beantwoorden: " + ", ".join(open_scope) + ".",
                      "Not enough information yet: first answer: " + ", ".join(open_scope) + ".")
    return Relevance(questions, could_become, refusals, listed, not_assessed, not open_scope, reason, open_scope)


def _merge_answered_together(base: RuleBase, offered: dict[str, dict[str, Any]]) -> None:
    """A list and its count are one question (the list answers both): keep the earlier-tier one."""
    for fact in list(offered):
        other = answered_by(fact, base.facts)
        if other == fact or fact not in offered or other not in offered:
            continue
        a, b = offered[fact], offered[other]
        keep, drop = (a, b) if TIERS.index(a["tier"]) < TIERS.index(b["tier"]) else (b, a)
        keep["rules"].extend(x for x in drop["rules"] if x not in keep["rules"])
        if SEVERITY[drop["could_lead_to"]] > SEVERITY[keep["could_lead_to"]]:
            keep["could_lead_to"] = drop["could_lead_to"]
        del offered[drop["fact"]]


def _waits_on(gates: Gates, unknown: AbstractSet[str], blockers: Callable[[str], frozenset[str]]) -> AbstractSet[str]:
    """What a rule's open facts come down to now: its unanswered scope questions while there are any (the
    other facts are follow-ups that wait for the scope to be known); then its design and classification
    facts; the status of an application only once nothing else is open (a permit is asked about once it
    is needed)."""
    scope: set[str] = set()
    for f in unknown:
        scope |= blockers(f)
    if scope:
        return scope
    return {f for f in unknown if gates.kind(f) != "status"} or unknown


def _askable(base: RuleBase, gates: Gates, fact: str, known: Mapping[str, Any], seen: set[str]) -> list[str]:
    """The fact itself if its gate is open; the unknown facts of its gate if that is undecided; else nothing."""
    if fact in seen:
        return []
    seen.add(fact)
    g = gates.gate(fact, known)
    if g is True:
        return [fact]
    if g is False:
        return []
    out: list[str] = []
    for d in _unknown_base(base, gates.questions[fact].depends_on, known):
        out += [x for x in _askable(base, gates, d, known, seen) if x not in out]
    return out


def _unknown_base(base: RuleBase, names: Iterable[str], known: Mapping[str, Any]) -> list[str]:
    """The unknown proposal facts behind some facts, through unknown derived facts."""
    derived = _derived(base)
    out: list[str] = []
    stack = list(names)
    seen: set[str] = set()
    while stack:
        f = stack.pop(0)
        if f in seen or f in known:
            continue
        seen.add(f)
        if f in derived:
            stack += [x for r in derived[f] for x in sorted(r.facts)]
        elif f in base.questions:
            out.append(f)
    return out


# Which rules derive each derived fact (read on every assessment; RuleBase.derived_facts builds it anew).
_derived = per_rule_base(RuleBase.derived_facts)


def _tier(base: RuleBase, gates: Gates, fact: str, rules: list[str]) -> str:
    if gates.is_scope(fact):
        return "A"
    if gates.kind(fact) == "status":
        return "D"
    return "B" if any(base.rules[r].effect == "prohibited" for r in rules) else "C"


def _refusals(base: RuleBase, gates: Gates, definite: list[Rule], possible: list[Rule],
              unknown_inputs: Callable[[Rule], AbstractSet[str]]) -> dict[str, list[str]]:
    """Possible prohibitions that wait only on the status of a permit that a conditional verdict already needs.

    A prohibition ``R`` is such a refusal of condition ``C`` when ``C`` applies, every fact ``R`` still
    waits on is a status, and each of those statuses is read by an exception of ``C`` (the permit that
    lets ``C`` go is the permit whose refusal ``R`` is about).
    """
    out: dict[str, list[str]] = {}
    conditional = [c for c in definite if c.effect == "conditional" and c.exceptions]
    for r in possible:
        if r.effect != "prohibited":
            continue
        waits = unknown_inputs(r)
        if not waits or any(gates.kind(f) != "status" for f in waits):
            continue
        for c in conditional:
            read = {f for e in c.exceptions for f in facts_read(base.rules[e].when)}
            if waits <= read:
                out.setdefault(c.id, []).append(r.id)
    return out


def _collapse(base: RuleBase, possible: list[Rule], definite: set[str], refusing: set[str],
              unknown_inputs: Callable[[Rule], AbstractSet[str]], blockers: Callable[[str], frozenset[str]],
              ) -> tuple[list[Rule], list[dict[str, Any]]]:
    """Split the rules that may apply into those listed one by one and those waiting on a scope question."""
    listed: list[Rule] = []
    groups: dict[tuple[str, ...], list[Rule]] = {}
    live = {r.id for r in possible} | set(definite)
    for r in possible:
        if r.id in refusing:
            continue
        if r.effect == "allowed" and not any(r.id in base.rules[p].exceptions for p in live):
            continue  # a permission that lets nothing go that may apply: nothing to say
        waits: set[str] = set()
        for f in unknown_inputs(r):
            waits |= blockers(f)
        if waits:
            groups.setdefault(tuple(sorted(waits)), []).append(r)
        else:
            listed.append(r)
    not_assessed = []
    for facts, rules in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        domains = sorted({r.domain for r in rules})
        names = ", ".join(facts)
        not_assessed.append({
            "until": list(facts), "domains": domains, "rules": [r.id for r in rules],
            "text": Text(f"Niet beoordeeld totdat u antwoordt op: {names} ({', '.join(domains)}: "
                         f"{len(rules)} {'regel' if len(rules) == 1 else 'regels'})",
                         f"Not assessed until you answer: {names} ({', '.join(domains)}: "
                         f"{len(rules)} {'rule' if len(rules) == 1 else 'rules'})").as_dict(),
        })
    return listed, not_assessed


def _once_per_rule(unknown_inputs: Callable[[Rule], set[str]]) -> Callable[[Rule], frozenset[str]]:
    """``unknown_inputs`` of a rule, worked out once per assessment (the steps above ask it of a rule up to four
    times)."""
    memo: dict[str, frozenset[str]] = {}

    def get(rule: Rule) -> frozenset[str]:
        found = memo.get(rule.id)
        if found is None:
            found = memo[rule.id] = frozenset(unknown_inputs(rule))
        return found

    return get


def _blockers(base: RuleBase, gates: Gates, known: Mapping[str, Any]) -> Callable[[str], frozenset[str]]:
    """``_scope_blockers`` of a fact, worked out once per assessment: many rules wait on the same facts."""
    memo: dict[str, frozenset[str]] = {}

    def get(fact: str) -> frozenset[str]:
        found = memo.get(fact)
        if found is None:
            found = memo[fact] = frozenset(_scope_blockers(base, gates, fact, known, set()))
        return found

    return get


def _scope_blockers(base: RuleBase, gates: Gates, fact: str, known: Mapping[str, Any], seen: set[str]) -> set[str]:
    """The unanswered scope questions a fact waits on: itself, or those behind its undecided gate."""
    if fact in seen:
        return set()
    seen.add(fact)
    if gates.is_scope(fact):
        return {fact}
    if gates.gate(fact, known) is not None:
        return set()
    out: set[str] = set()
    for d in _unknown_base(base, gates.questions[fact].depends_on, known):
        out |= _scope_blockers(base, gates, d, known, seen)
    return out


def keep_change(base: RuleBase, change: Mapping[str, Any], facts: Mapping[str, Any], open_domains: set[str],
                verdict: str) -> bool:
    """Whether a "what would change it" entry is one the applicant could make.

    Only design and status facts are varied (a classification label is not a choice); the changed fact's
    gate must stay open and no declared implication may contradict the changed proposal (no listed partner
    when there are no partners); a change that raises the verdict must do so through rules of a domain
    the proposal is already in (no technique from another domain).
    """
    gates = base.gates
    fact = change["fact"]
    if gates.kind(fact) not in ("design", "status"):
        return False
    changed = {**facts, fact: change["to"]}
    if gates.gate(fact, changed) is False:
        return False
    implied, _ = apply_implications(gates, {k: v for k, v in changed.items() if k != fact})
    if fact in implied and implied[fact] != change["to"]:
        return False
    if SEVERITY[change["verdict"]] > SEVERITY[verdict]:
        return all(base.rules[r].domain in open_domains for r in change["rules"])
    return True



def say_refusals(conditions: list[dict[str, Any]], refusals: Mapping[str, list[str]]) -> None:
    """Say once, in the first condition of each rule, that refusing its permit stops the activity."""
    done: set[str] = set()
    for c in conditions:
        rid = c["rule"]
        if rid in refusals and rid not in done:
            done.add(rid)
            c["if_refused"] = {"rules": list(refusals[rid]), "text": REFUSED.as_dict()}


WORDS = {"allowed": Text("toegestaan", "allowed"), "conditional": Text("voorwaardelijk toegestaan", "conditional"),
         "prohibited": Text("verboden", "prohibited")}


def undetermined_summary(rel: Relevance, verdict: str, could_become: str, floor: str) -> Text:
    """The summary while scope questions are open: not a verdict, but what the facts given say and the range."""
    span = sorted({floor, verdict, could_become}, key=SEVERITY.__getitem__)
    nl = " tot ".join(WORDS[x].nl for x in (span[0], span[-1])) if len(span) > 1 else WORDS[span[0]].nl
    en = " to ".join(WORDS[x].en for x in (span[0], span[-1])) if len(span) > 1 else WORDS[span[0]].en
    scope = ", ".join(rel.open_scope)
    return Text(
        f"Nog niet genoeg informatie. Op grond van de gegeven feiten: {WORDS[verdict].nl}; mogelijk: {nl}. "
        f"Beantwoord eerst: {scope}.",
        f"Not enough information yet. On the facts given: {WORDS[verdict].en}; possible: {en}. "
        f"First answer: {scope}.",
    )
