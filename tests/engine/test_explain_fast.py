"""The explainer with precomputed boundary values gives exactly what the plain one gives (explain_spec.py)."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biotoets.api.analysis.casebase import load_cases
from biotoets.engine.activities import per_activity
from biotoets.engine.boundaries import Boundaries
from biotoets.engine.facts import flatten
from biotoets.engine.proposal import Proposal
from biotoets.engine.verdict import applies, build_verdict

from ..strategies import complete_proposals, proposals
from .explain_spec import Explainer as SpecExplainer

MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
dates = st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31))


def _both(engine, proposal, on):
    ev = engine.evaluate_facts(flatten(Proposal.model_validate(proposal)), on)
    verdict = build_verdict(engine.base, ev, lang="en", engine_version="test", scenario=None)["verdict"]
    spec = SpecExplainer(engine.base).changes(ev.facts, ev.statuses, on, verdict, applies)
    return engine.explainer.changes(ev.facts, ev.statuses, on, verdict, applies), spec


@MANY
@given(proposals(), dates)
def test_the_fast_explainer_gives_what_the_plain_one_gives(engine, proposal, on):
    fast, spec = _both(engine, proposal, on)
    assert fast == spec


@MANY
@given(complete_proposals(), dates)
def test_the_fast_explainer_gives_what_the_plain_one_gives_on_complete_proposals(engine, proposal, on):
    fast, spec = _both(engine, proposal, on)
    assert fast == spec


def test_explanations_share_no_values_between_verdicts(engine):
    """A value tried is kept per fact; what an explanation hands out is its own (a list is copied)."""
    for case, facts in [(c, f) for c in load_cases() if c.scenario is None
                        for f in per_activity(flatten(Proposal.model_validate(c.proposal)))]:
        on = case.as_of or date(2025, 6, 1)
        ev = engine.evaluate_facts(facts, on)
        verdict = build_verdict(engine.base, ev, lang="en", engine_version="test", scenario=None)["verdict"]
        first = engine.explainer.changes(ev.facts, ev.statuses, on, verdict, applies)
        for change in first:
            if isinstance(change["to"], list):
                change["to"].append("changed by the caller")
        assert engine.explainer.changes(ev.facts, ev.statuses, on, verdict, applies) == \
            SpecExplainer(engine.base).changes(ev.facts, ev.statuses, on, verdict, applies)


def test_values_with_the_same_boundary_signature_are_alike_to_every_rule(base):
    """The signature is what the rules can see of a value: an integer on either side of each literal."""
    bounds = Boundaries(base)
    ints = [name for name, spec in base.facts.items() if spec.kind == "int" and bounds.tests[name][0]]
    assert ints, "the rule base compares at least one whole number with a literal"
    for name in ints:
        lits = sorted({lit for _, lit in bounds.tests[name][0] if isinstance(lit, int)})
        top = lits[-1]
        assert bounds.signature(name, top + 5) == bounds.signature(name, top + 6)
        assert bounds.signature(name, top) != bounds.signature(name, top + 1) or \
            bounds.signature(name, top) != bounds.signature(name, top - 1)
        assert bounds.moved(name, bounds.signature(name, top + 5), bounds.signature(name, top + 6)) == frozenset()
