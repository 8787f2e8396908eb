"""The outcome of one evaluation without the verdict around it: for bulk runs.

An impact analysis over 100,000 generated proposals compares, per proposal, the verdict, the range it could
move in and the rules and conditions that apply -- never the grounds' texts, citations, questions or
explanations, which are most of the cost of a full verdict. ``outcome`` computes exactly those parts, with the
same semantics as ``verdict.build_verdict`` (a test holds the two equal on the case base and generated
proposals), from the same three-valued statuses: the evaluation it is given has passed the reference check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import relevance
from .model import RuleBase
from .verdict import Evaluation, _max_effect, _static, applies, may_be_defeated, unknown_inputs


def outcome(base: RuleBase, ev: Evaluation) -> dict[str, Any]:
    """``verdict``, ``could_become``, ``could_fall_to``, ``complete``, the rules that apply (in the verdict's
    order of grounds) and the conditions as ``[rule, English text]`` pairs."""
    known = dict(ev.facts)
    known.update({k: v for k, v in ev.derived.items() if v is not None})
    status = applies(base, ev.statuses)
    day = _static(base).day(base, ev.as_of)
    definite = [r for r in day.by_order if status[r.id] is True]
    possible = [r for r in day.by_order if status[r.id] is None]
    verdict = _max_effect([r.effect for r in definite])
    floor = _max_effect([r.effect for r in definite if not may_be_defeated(base, status, r.id)])
    inputs_of = relevance.memo_inputs(lambda r: unknown_inputs(base, r, known, ev.derived))
    could_become, _ = relevance.ceiling(base, definite, possible, verdict, inputs_of)
    return {
        "verdict": verdict,
        "could_become": could_become,
        "could_fall_to": floor,
        "complete": floor == verdict == could_become,
        "applies": [r.id for r in definite] + [r.id for r in day.classifiers if ev.statuses[r.id] is True],
        "conditions": [[r.id, c.what.en] for r in definite if r.effect == "conditional" for c in r.conditions],
    }


def of_verdict(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The same parts read off a full verdict (a combined one too: several activities)."""
    return {
        "verdict": verdict["verdict"],
        "could_become": verdict["could_become"],
        "could_fall_to": verdict["could_fall_to"],
        "complete": verdict["complete"],
        "applies": [g["rule"] for g in verdict["grounds"] if g["status"] == "applies"],
        "conditions": [[c["rule"], c["what"]["en"]] for c in verdict["conditions"]],
    }
