"""What is still worth asking, in which order, and how much the verdict is worth on the facts given.

* The frontier: a question is offered only when its gate definitely holds (``gates.py``) and a rule
  that may still apply -- one that could raise the verdict, one that could add conditions (another
  permit) to a conditional verdict within what the proposal is known to involve, or an exception that
  could lower it -- reads it. A fact whose gate is unknown is not asked; the unknown facts of its gate
  are, instead.
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
from dataclasses import dataclass, field
from typing import Any

from .conditions import facts_read
from .facts import answered_by
from .implications import apply_implications
from .model import SEVERITY, Gates, Rule, RuleBase, Text, per_rule_base, strictest
from .reach import reach

TIERS = ("A", "B", "C", "D")
_derived = per_rule_base(lambda base: base.derived_facts())
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
    scope_of = _scope_memo(base, gates, known)
    unknown_inputs = _memo_inputs(unknown_inputs)
    could_become, refusals = ceiling(base, definite, possible, verdict, unknown_inputs)
    refusing = {r for rs in refusals.values() for r in rs}
    # fact -> [rules it may settle], and whether one of them can raise the verdict to a prohibition
    wanted: dict[str, list[str]] = {}
    effect: dict[str, str] = {}
    for r in possible:
        # a rule that can raise the verdict; or, on a conditional verdict, one that can add conditions (another
        # permit to obtain) within what the proposal is known to involve -- it asks no new scope question
        adds = r.effect == verdict == "conditional"
        if SEVERITY[r.effect] <= SEVERITY[verdict] and not adds:
            continue
        waits = _waits_on(gates, unknown_inputs(r), scope_of)
        if adds and any(gates.is_scope(f) for f in waits):
            continue
        for f in waits:
            wanted.setdefault(f, []).append(r.id)
            if f not in effect or SEVERITY[r.effect] > SEVERITY[effect[f]]:
                effect[f] = r.effect
    for r in definite:
        if not shaky[r.id] or SEVERITY[r.effect] < SEVERITY[verdict]:
            continue
        for ex in shaky[r.id]:
            for f in _waits_on(gates, unknown_inputs(base.rules[ex]), scope_of):
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
    questions = sorted(offered.values(), key=question_order)
    open_scope = [q["fact"] for q in questions if q["tier"] == "A"]
    if open_scope:  # what the proposal involves comes first: its follow-ups are asked once it is known
        questions = [q for q in questions if q["tier"] == "A"]
    listed, not_assessed = _collapse(base, possible, {r.id for r in definite}, refusing, unknown_inputs, scope_of,
                                     known)
    reason = None
    if open_scope:
        reason = scope_reason(open_scope)
    return Relevance(questions, could_become, refusals, listed, not_assessed, not open_scope, reason, open_scope)


def ceiling(base: RuleBase, definite: list[Rule], possible: list[Rule], verdict: str,
            unknown_inputs: Callable[[Rule], set[str]]) -> tuple[str, dict[str, list[str]]]:
    """The most severe verdict the open facts can still lead to, and the refusals left out of it (see
    ``_refusals``): a prohibition that only says a permit already required was refused is said in the
    condition, not as a way the verdict can become more severe."""
    refusals = _refusals(base, base.gates, definite, possible, unknown_inputs)
    refusing = {r for rs in refusals.values() for r in rs}
    could_become = strictest([verdict] + [r.effect for r in possible if r.id not in refusing])
    return could_become, refusals


def scope_reason(open_scope: list[str]) -> Text:
    """Why an outcome is not determined: the questions on what the proposal involves still open (counted)."""
    n = len(open_scope)
    return Text(f"Nog niet genoeg informatie: {'1 vraag' if n == 1 else f'{n} vragen'} over wat het voorstel "
                f"inhoudt {'staat' if n == 1 else 'staan'} nog open.",
                f"Not enough information yet: {'1 question' if n == 1 else f'{n} questions'} about what the "
                f"proposal involves {'is' if n == 1 else 'are'} still open.")


def question_order(q: Mapping[str, Any]) -> tuple[int, int, str]:
    """The order questions are asked in: by tier, then the one that settles the most rules, then by fact."""
    return (TIERS.index(q["tier"]), -len(q["rules"]), q["fact"])


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


def _waits_on(gates: Gates, unknown: set[str], scope_of: Callable[[str], set[str]]) -> set[str]:
    """What a rule's open facts come down to now: its unanswered scope questions while there are any (the
    other facts are follow-ups that wait for the scope to be known); then its design and classification
    facts; the status of an application only once nothing else is open (a permit is asked about once it
    is needed)."""
    scope: set[str] = set()
    for f in unknown:
        scope |= scope_of(f)
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


def _tier(base: RuleBase, gates: Gates, fact: str, rules: list[str]) -> str:
    if gates.is_scope(fact):
        return "A"
    if gates.kind(fact) == "status":
        return "D"
    return "B" if any(base.rules[r].effect == "prohibited" for r in rules) else "C"


def _refusals(base: RuleBase, gates: Gates, definite: list[Rule], possible: list[Rule],
              unknown_inputs: Callable[[Rule], set[str]]) -> dict[str, list[str]]:
    """Possible prohibitions that wait only on the status of a permit that a conditional verdict already needs.

    A prohibition ``R`` is such a refusal of condition ``C`` when ``C`` applies, every fact ``R`` still
    waits on is a status, and each of those statuses is read by an exception of ``C`` (the permit that
    lets ``C`` go is the permit whose refusal ``R`` is about).
    """
    out: dict[str, list[str]] = {}
    conditional = [c for c in definite if c.effect == "conditional" and c.exceptions]
    if not conditional:
        return out
    may_wait_on_status = reach(base).status_readers
    for r in possible:
        if r.effect != "prohibited" or r.id not in may_wait_on_status:
            continue
        waits = unknown_inputs(r)
        if not waits or any(gates.kind(f) != "status" for f in waits):
            continue
        for c in conditional:
            read = {f for e in c.exceptions for f in facts_read(base.rules[e].when)}
            if waits <= read:
                out.setdefault(c.id, []).append(r.id)
    return out


def not_assessed_text(until: Iterable[str], domains: Iterable[str], count: int) -> Text:
    """What a group of rules waiting on scope questions says (made from the group, per verdict)."""
    names, where = ", ".join(until), ", ".join(domains)
    nl, en = ("regel", "rule") if count == 1 else ("regels", "rules")
    return Text(f"Niet beoordeeld totdat u antwoordt op: {names} ({where}: {count} {nl})",
                f"Not assessed until you answer: {names} ({where}: {count} {en})")




def _collapse(base: RuleBase, possible: list[Rule], definite: set[str], refusing: set[str],
              unknown_inputs: Callable[[Rule], set[str]], scope_of: Callable[[str], set[str]],
              known: Mapping[str, Any]) -> tuple[list[Rule], list[dict[str, Any]]]:
    """Split the rules that may apply into those listed one by one and those waiting on a scope question."""
    listed: list[Rule] = []
    groups: dict[tuple[str, ...], list[Rule]] = {}
    live = {r.id for r in possible} | set(definite)
    static = reach(base)
    # the scope questions still open: a rule none of whose reachable scope facts is open waits on none
    open_scope = {f for f in static.scope_facts if f not in known}
    for r in possible:
        if r.id in refusing:
            continue
        if r.effect == "allowed" and static.excepted_by[r.id].isdisjoint(live):
            continue  # a permission that lets nothing go that may apply: nothing to say
        if static.scope_reach[r.id].isdisjoint(open_scope):
            listed.append(r)
            continue
        blockers: set[str] = set()
        for f in unknown_inputs(r):
            blockers |= scope_of(f)
        if blockers:
            groups.setdefault(tuple(sorted(blockers)), []).append(r)
        else:
            listed.append(r)
    not_assessed = []
    for facts, rules in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        domains = sorted({r.domain for r in rules})
        not_assessed.append({"until": list(facts), "domains": domains, "rules": [r.id for r in rules],
                             "text": not_assessed_text(facts, domains, len(rules)).as_dict()})
    return listed, not_assessed


def _memo_inputs(unknown_inputs: Callable[[Rule], set[str]]) -> Callable[[Rule], set[str]]:
    """A rule's open inputs, computed once per evaluation (the frontier, ranges and noise filter all ask)."""
    memo: dict[str, set[str]] = {}

    def inputs_of(rule: Rule) -> set[str]:
        got = memo.get(rule.id)
        if got is None:
            got = memo[rule.id] = unknown_inputs(rule)
        return got
    return inputs_of


def _scope_memo(base: RuleBase, gates: Gates, known: Mapping[str, Any]) -> Callable[[str], set[str]]:
    """``_scope_blockers`` of a fact, computed once per evaluation (callers do not change the sets)."""
    memo: dict[str, set[str]] = {}

    def scope_of(fact: str) -> set[str]:
        got = memo.get(fact)
        if got is None:
            got = memo[fact] = _scope_blockers(base, gates, fact, known, set())
        return got
    return scope_of


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


def undetermined_summary(open_scope: list[str], verdict: str, could_become: str, floor: str) -> Text:
    """The summary while scope questions are open: not a verdict, but what the facts given say and the range."""
    span = sorted({floor, verdict, could_become}, key=SEVERITY.__getitem__)
    nl = " tot ".join(WORDS[x].nl for x in (span[0], span[-1])) if len(span) > 1 else WORDS[span[0]].nl
    en = " to ".join(WORDS[x].en for x in (span[0], span[-1])) if len(span) > 1 else WORDS[span[0]].en
    n = len(open_scope)
    return Text(
        f"Nog niet genoeg informatie. Op grond van de gegeven feiten: {WORDS[verdict].nl}; mogelijk: {nl}. "
        f"Beantwoord eerst {'de vraag' if n == 1 else f'de {n} vragen'} over wat het voorstel inhoudt "
        "(bij de open vragen).",
        f"Not enough information yet. On the facts given: {WORDS[verdict].en}; possible: {en}. "
        f"First answer {'the question' if n == 1 else f'the {n} questions'} about what the proposal involves "
        "(under the open questions).",
    )
