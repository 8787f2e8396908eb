"""Build the slim verdict directly (schemas/verdict-slim.schema.json): the form stored and answered by default.

The slim form keeps what depends on the proposal -- which rules apply, may apply or were set aside, the facts'
values, the open questions and where they lead, the trace -- and refers to everything static by id, from tables
made once per rule base (``_Parts``): rules, a rule's n-th condition, a question's fact. Its summary and
disclaimer are in the verdict's one language; the titles, condition and question texts in that language go
beside it in an answer (``verdict_texts``), never into the stored verdict; citations, explanations, open norms
and the other language are in the catalogue. Long lists of rules (the rules a question may settle, the rules
waiting on a scope question) and the trace refer to rules by their number (``compiler.rule_numbers``: the
number in their durable_rules names). What can be derived from the rest and the rule base is left out: what
was checked, the "nothing applies" ground's text, why the outcome is not determined, a question's
``depends_on``, the texts of refusals and of waiting rules. ``api/documents/slim.expand`` gives the full form
back -- exactly what ``verdict.build_verdict`` gives for the same evaluation (a differential test holds them
equal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .compiler import rule_numbers
from .model import RuleBase, Scenario, per_rule_base
from .verdict import DISCLAIMER, Decision, Evaluation, ruleset_json

if TYPE_CHECKING:
    from .explain import Explainer

SLIM = "slim"
CHECKED = "_checked"  # the ground of an allowed verdict (what was checked): the full form has its text


class _Parts:
    """What a slim verdict takes from its rule base, per language, made once per rule base."""

    def __init__(self, base: RuleBase) -> None:
        self.numbers = {rid: n for n, rid in enumerate(rule_numbers(base))}
        self.facts = {rid: frozenset(r.facts) for rid, r in base.rules.items()}
        self.derived = sorted(base.derived_facts())
        self.derived_set = frozenset(self.derived)
        self.conditions = {rid: len(r.conditions) for rid, r in base.rules.items()}
        self.titles = {lang: {rid: r.title.get(lang) for rid, r in base.rules.items()} for lang in ("nl", "en")}
        self.questions = {lang: {f: t.get(lang) for f, t in base.questions.items()} for lang in ("nl", "en")}
        self.condition_texts = {lang: {rid: [{"what": c.what.get(lang), "authority": c.authority.get(lang)}
                                             for c in r.conditions] for rid, r in base.rules.items() if r.conditions}
                                for lang in ("nl", "en")}
        self.disclaimer = {lang: DISCLAIMER.get(lang) for lang in ("nl", "en")}


_parts = per_rule_base(_Parts)


def build_slim(base: RuleBase, ev: Evaluation, *, lang: str, engine_version: str, scenario: Scenario | None,
               explainer: Explainer | None = None) -> dict[str, Any]:
    """The verdict of one evaluation in the slim form, never building the full form."""
    d = Decision(base, ev, explainer)
    p = _parts(base)
    numbers, known, status, rel = p.numbers, d.known, d.status, d.rel
    applying = d.definite + d.classifiers()
    grounds: list[Any] = [{"rule": r.id, "effect": r.effect} for r in applying]
    if not d.definite:
        grounds.insert(0, CHECKED)
    conditions: list[dict[str, Any]] = []
    for r in d.definite:
        if r.effect == "conditional":
            refused = rel.refusals.get(r.id)
            for n in range(p.conditions[r.id]):
                c: dict[str, Any] = {"rule": r.id, "n": n}
                if refused and n == 0:  # said once, in the rule's first condition
                    c["if_refused"] = {"rules": list(refused)}
                conditions.append(c)
    questions = [{"fact": q["fact"], "could_lead_to": q["could_lead_to"], "rules": [numbers[r] for r in q["rules"]],
                  "tier": q["tier"]} for q in rel.questions]
    advice = [r for r in d.day.advice if status[r.id] is True]
    looked_at: set[str] = set()  # the facts the grounds, the rules that may apply and the advice looked at
    for r in applying + rel.listed + advice:
        looked_at |= p.facts[r.id]
    derived = ev.derived
    derived_names = p.derived if derived.keys() == p.derived_set else sorted(derived)  # (always the former)
    return {
        "view": SLIM,
        "verdict": d.verdict,
        "complete": d.floor == d.verdict == d.could_become,
        "determined": rel.determined,
        "next_question": rel.questions[0]["fact"] if rel.questions else None,
        "not_assessed": [{"until": g["until"], "domains": _count_domains(base, g["rules"]),
                          "rules": [numbers[r] for r in g["rules"]]} for g in rel.not_assessed],
        "could_become": d.could_become,
        "could_fall_to": d.floor,
        "summary": d.summary.get(lang),
        "grounds": grounds,
        "possible_grounds": [r.id for r in rel.listed],
        "defeated": [{"rule": r.id, "by": [e for e in r.exceptions if status[e] is True]} for r in d.defeated()],
        "conditions": conditions,
        "questions": questions,
        "open_norms": [{"rule": r.id, "status": "applies" if status[r.id] is True else "may_apply"}
                       for r in d.definite + rel.listed if r.open_norm],
        "advice": [r.id for r in advice],
        "changes": d.changes,
        "derived": {k: derived[k] for k in derived_names},
        "trace": slim_trace(ev.trace),
        "ruleset": ruleset_json(base, ev, scenario, engine_version),
        "lang": lang,
        "disclaimer": p.disclaimer[lang],
        "values": {f: known[f] for f in sorted(looked_at) if f in known and known[f] != "unknown"},
    }


def _count_domains(base: RuleBase, rule_ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rid in rule_ids:
        domain = base.rules[rid].domain
        counts[domain] = counts.get(domain, 0) + 1
    return dict(sorted(counts.items()))


def slim_trace(trace: list[dict[str, str]]) -> list[list[Any]]:
    """The trace in runs by ruleset: ``[ruleset, "3t 3p 17p"]`` (the durable_rules names fired, in order; each
    names its rule's number and form), or for steps that are not firings (the declared implications applied
    first) ``[ruleset, [["fact=value", "implication"], ...]]``."""
    runs: list[list[Any]] = []
    names: list[str] = []
    for step in trace:
        ruleset, implied = step["ruleset"], step["form"] == "implied"
        if not runs or runs[-1][0] != ruleset or isinstance(runs[-1][1], list) != implied:
            if names:
                runs[-1][1] = " ".join(names)
            names = []
            runs.append([ruleset, [] if implied else ""])
        if implied:
            runs[-1][1].append([step["fired"], step["rule"]])
        else:
            names.append(step["fired"])
    if names:
        runs[-1][1] = " ".join(names)
    return runs


def verdict_texts(base: RuleBase, verdict: dict[str, Any]) -> dict[str, Any]:
    """The texts of what a slim verdict names, in its language, from its rule base (``base``): the title of
    every rule it names by id, the conditions of every rule in ``conditions`` (the n-th is the condition
    ``{"rule", "n"}``), the question of every fact in ``questions``. An answer carries them beside the verdict
    (``texts``); the stored verdict does not: they are the rule base's."""
    p = _parts(base)
    lang = verdict["lang"]
    named: dict[str, None] = {}
    for g in verdict["grounds"]:
        if g != CHECKED:
            named[g["rule"]] = None
    named.update(dict.fromkeys(verdict["possible_grounds"]))
    named.update(dict.fromkeys(d["rule"] for d in verdict["defeated"]))
    named.update(dict.fromkeys(a for a in verdict["advice"] if isinstance(a, str)))
    conditional = dict.fromkeys(c["rule"] for c in verdict["conditions"])
    titles, conditions, questions = p.titles[lang], p.condition_texts[lang], p.questions[lang]
    return {"rules": {rid: titles[rid] for rid in {**named, **conditional}},
            "conditions": {rid: [dict(c) for c in conditions[rid]] for rid in conditional},
            "questions": {q["fact"]: questions[q["fact"]] for q in verdict["questions"]}}
