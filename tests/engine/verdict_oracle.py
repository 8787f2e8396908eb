"""Today's verdict builder (engine/verdict.build_verdict before issue 17's slim builder), kept verbatim as the
test oracle: every verdict the engine makes -- slim, then expanded -- must equal what this gives."""

from __future__ import annotations

from typing import Any

from biotoets.engine import relevance
from biotoets.engine.explain import Explainer
from biotoets.engine.model import VERDICT_WORDS, RuleBase, Scenario, Text
from biotoets.engine.model import strictest as _max_effect  # (the builder's own name for it then)
from biotoets.engine.verdict import (
    DISCLAIMER,
    Evaluation,
    _static,
    advice_json,
    applies,
    citation_json,
    ground_json,
    may_be_defeated,
    unknown_inputs,
)


def oracle_verdict(base: RuleBase, ev: Evaluation, *, lang: str, engine_version: str,
                  scenario: Scenario | None, explainer: Explainer | None = None) -> dict[str, Any]:
    known = dict(ev.facts)
    known.update({k: v for k, v in ev.derived.items() if v is not None})
    status = applies(base, ev.statuses)
    day = _static(base).day(base, ev.as_of)
    in_force = day.in_force
    # Rules already in verdict order (most severe first, then id), so nothing is sorted per proposal.
    definite = [r for r in day.by_order if status[r.id] is True]
    possible = [r for r in day.by_order if status[r.id] is None]
    verdict = _max_effect([r.effect for r in definite])
    shaky = {r.id: may_be_defeated(base, status, r.id) for r in definite}
    floor = _max_effect([r.effect for r in definite if not shaky[r.id]])
    rel = relevance.assess(base, known, definite, possible, verdict, shaky, floor,
                           lambda r: unknown_inputs(base, r, known, ev.derived))
    could_become = rel.could_become

    grounds = [ground_json(base, r, known, "applies") for r in definite]
    grounds += [ground_json(base, r, known, "applies") for r in day.classifiers if ev.statuses[r.id] is True]
    possible_grounds = [ground_json(base, r, known, "may_apply") for r in rel.listed]
    defeated = [
        {"rule": r.id, "title": r.title.as_dict(),
         "by": [e for e in r.exceptions if status[e] is True]}
        for r in day.by_order
        if ev.statuses[r.id] is True and status[r.id] is False
    ]
    conditions = [
        {"rule": r.id, "what": c.what.as_dict(), "authority": c.authority.as_dict(),
         "citation": citation_json(base, c.citation)}
        for r in definite if r.effect == "conditional" for c in r.conditions
    ]
    relevance.say_refusals(conditions, rel.refusals)
    questions = rel.questions
    open_norms = [
        {"rule": r.id, "status": "applies" if status[r.id] is True else "may_apply",
         "norm": r.open_norm.as_dict()}
        for r in definite + rel.listed if r.open_norm
    ]
    advice = [advice_json(base, r, known) for r in day.advice if status[r.id] is True]
    domains = list(day.domains)
    if not definite:
        # An allowed verdict says what was checked.
        grounds.insert(0, {
            "rule": "_checked", "status": "checked",
            "title": Text(
                f"Geen van de {len(in_force)} geldende regels verbiedt dit voorstel of stelt er voorwaarden aan "
                f"op grond van de gegeven feiten (getoetst: {', '.join(domains)})",
                f"None of the {len(in_force)} rules in force prohibits or conditions this proposal on the facts "
                f"given (checked: {', '.join(domains)})",
            ).as_dict(),
            "domain": "all", "effect": "allowed", "facts": {}, "citations": [],
        })
    changes = explainer.changes(ev.facts, ev.statuses, ev.as_of, verdict, applies) if explainer else []
    open_domains = {r.domain for r in definite + rel.listed} | {r.domain for r in day.classifiers
                                                               if ev.statuses[r.id] is True}
    changes = [c for c in changes if relevance.keep_change(base, c, ev.facts, open_domains, verdict)]
    words = VERDICT_WORDS[verdict]
    summary = Text(
        f"Op grond van de gegeven feiten: {words.nl}."
        + ("" if verdict == could_become else f" Onvolledig: kan {VERDICT_WORDS[could_become].nl} worden.")
        + ("" if verdict == floor else f" Met de ontbrekende gegevens kan het ook {VERDICT_WORDS[floor].nl} worden."),
        f"On the facts given: {words.en}."
        + ("" if verdict == could_become else f" Incomplete: could become {VERDICT_WORDS[could_become].en}.")
        + ("" if verdict == floor else f" With the missing facts it could also become {VERDICT_WORDS[floor].en}."),
    )
    if not rel.determined:
        summary = relevance.undetermined_summary(rel.open_scope, verdict, could_become, floor)
    return {
        "verdict": verdict,
        "complete": floor == verdict == could_become,
        "determined": rel.determined,
        "undetermined": None if rel.determined or rel.reason is None else {
            "reason": rel.reason.as_dict(), "scope_questions": rel.open_scope},
        "next_question": questions[0]["fact"] if questions else None,
        "not_assessed": rel.not_assessed,
        "could_become": could_become,
        "could_fall_to": floor,
        "summary": summary.get(lang),
        "grounds": grounds,
        "possible_grounds": possible_grounds,
        "defeated": defeated,
        "conditions": conditions,
        "questions": questions,
        "open_norms": open_norms,
        "advice": advice,
        "changes": changes,
        "derived": {k: ev.derived[k] for k in sorted(ev.derived)},
        "checked": {"domains": domains, "rules": len(in_force)},
        "trace": ev.trace,
        "ruleset": {
            "hash": base.digest,
            "as_of": ev.as_of.isoformat(),
            "scenario": None if scenario is None else {
                "id": scenario.id, "title": scenario.title.as_dict(), "status": scenario.status,
                "source": scenario.source, "is_current_law": False,
            },
            "engine_version": engine_version,
            "rules_in_force": len(in_force),
        },
        "lang": lang,
        "disclaimer": DISCLAIMER.as_dict(),
    }
