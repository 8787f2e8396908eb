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
from .verdict import Evaluation, Standing, unknown_inputs


def outcome(base: RuleBase, ev: Evaluation) -> dict[str, Any]:
    """``verdict``, ``could_become``, ``could_fall_to``, ``complete``, the rules that apply (in the verdict's
    order of grounds) and the conditions as ``[rule, English text]`` pairs."""
    st = Standing(base, ev)
    own: dict[str, set[str]] = {}  # each rule's own open facts, shared by every rule that reaches it
    could_become, _ = relevance.ceiling(base, st.definite, st.possible, st.verdict,
                                        lambda r: unknown_inputs(base, r, st.known, ev.derived, None, own))
    return {
        "verdict": st.verdict,
        "could_become": could_become,
        "could_fall_to": st.floor,
        "complete": st.floor == st.verdict == could_become,
        "applies": [r.id for r in st.definite] + [r.id for r in st.classifiers()],
        "conditions": [[r.id, c.what.en] for r in st.definite if r.effect == "conditional" for c in r.conditions],
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
