"""The verdict builder's precomputed parts give exactly the plain construction, as fresh objects."""

from __future__ import annotations

from datetime import date
from typing import Any

from biotoets.api.analysis.generate import generate_proposals
from biotoets.engine import verdict as vd
from biotoets.engine.evaluate import Engine
from biotoets.engine.facts import flatten
from biotoets.engine.loader import load_rule_base
from biotoets.engine.model import Rule, RuleBase
from biotoets.engine.proposal import Proposal


def _ground_json(base: RuleBase, rule: Rule, known: dict[str, Any], status: str) -> dict[str, Any]:
    """The plain form of ``ground_json``, kept as its specification."""
    out: dict[str, Any] = {
        "rule": rule.id,
        "status": status,
        "title": rule.title.as_dict(),
        "domain": rule.domain,
        "effect": rule.effect,
        "facts": vd._fact_values(rule, known, vd._static(base).sorted_facts.get(rule.id)),
        "citations": [vd.citation_json(base, c) for c in rule.citations],
    }
    if rule.derives:
        out["derives"] = rule.derives
    if rule.explanation:
        out["explanation"] = rule.explanation.as_dict()
    if rule.open_norm:
        out["open_norm"] = rule.open_norm.as_dict()
    if rule.exceptions:
        out["exceptions"] = list(rule.exceptions)
    return out


def test_ground_json_equals_its_plain_specification() -> None:
    base = load_rule_base()
    for doc in generate_proposals(30, seed=8, unknown=0.5):
        known = flatten(Proposal.model_validate(doc))
        for rule in base.rules.values():
            for status in ("applies", "may_apply"):
                assert vd.ground_json(base, rule, known, status) == _ground_json(base, rule, known, status)


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
