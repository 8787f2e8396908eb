"""The static reach of each rule (engine/reach.py) bounds what relevance finds for it on any proposal."""

from __future__ import annotations

from datetime import date

from biotoets.api.analysis.generate import generate_proposals
from biotoets.engine.evaluate import Engine
from biotoets.engine.reach import reach


def test_the_scope_questions_a_rule_waits_on_are_always_within_its_reach(engine: Engine) -> None:
    static = reach(engine.base)
    waiting = 0
    for doc in generate_proposals(300, seed=41, unknown=0.4):
        v = engine.evaluate(doc, date(2026, 6, 1), explain=False)
        for group in v["not_assessed"]:
            for rid in group["rules"]:
                waiting += 1
                assert set(group["until"]) <= static.scope_reach[rid], (rid, group["until"])
    assert waiting > 100  # the population leaves scope questions open often enough to mean something


def test_exceptions_and_status_readers(engine: Engine) -> None:
    static = reach(engine.base)
    for rid, rule in engine.base.rules.items():
        for ex in rule.exceptions:
            assert rid in static.excepted_by[ex]
    # a permission that says a licence was granted reads a status; so does the rule it is an exception of
    statuses = {f for f, g in engine.base.gates.questions.items() if g.kind == "status"}
    for rid, rule in engine.base.rules.items():
        if set(rule.facts) & statuses:
            assert rid in static.status_readers
            assert static.excepted_by[rid] <= static.status_readers
