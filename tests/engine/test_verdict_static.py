"""The verdict builder's precomputed parts give exactly the plain construction, as fresh objects."""

from __future__ import annotations

from datetime import date

from biotoets.api.analysis.generate import generate_proposals
from biotoets.engine import verdict as vd
from biotoets.engine.evaluate import Engine
from biotoets.engine.facts import flatten
from biotoets.engine.loader import load_rule_base
from biotoets.engine.proposal import Proposal


def test_ground_json_equals_its_plain_specification() -> None:
    base = load_rule_base()
    for doc in generate_proposals(30, seed=8, unknown=0.5):
        known = flatten(Proposal.model_validate(doc))
        for rule in base.rules.values():
            for status in ("applies", "may_apply"):
                assert vd.ground_json(base, rule, known, status) == vd._ground_json(base, rule, known, status)


def test_verdicts_share_no_mutable_parts() -> None:
    engine = Engine(load_rule_base())
    try:
        doc = generate_proposals(1, seed=3, complete=True)[0]
        first = engine.evaluate(doc, date(2025, 1, 1))
        second = engine.evaluate(doc, date(2025, 1, 1))
        assert first == second
        for g in first["grounds"] + first["possible_grounds"]:
            g["title"]["en"] = "changed"
            for c in g["citations"]:
                c["source_title"]["en"] = "changed"
                c["article_summary"]["nl"] = "changed"
        first["checked"]["domains"].append("changed")
        assert engine.evaluate(doc, date(2025, 1, 1)) == second
    finally:
        engine.close()
