"""Binding law decides, advice informs: non-binding guidance is listed apart and never moves the verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from biotoets.api.documents.render import verdict_text
from biotoets.engine.evaluate import Engine
from biotoets.engine.model import RuleBase

ON = date(2026, 12, 1)
QUIET = {
    "activity": "collaboration", "technique": "none",
    "human": {"embryo": False, "gametes": False, "subjects": False},
    "animal": {"involved": False, "human_organ_growth": False}, "transplant": {"recipient": "none"},
    "plant": {"involved": False}, "gmo": {"use": "none"}, "medicine": {"medicinal_product": False},
    "export": {"dual_use_items": [], "intangible_transfer": False, "destination_countries": []},
}
VISITOR = {**QUIET, "partners": [],
           "knowledge": {"sensitive_technology": True, "visiting_researchers_of_concern": True,
                         "fundamental_rights_concern": False, "screening_done": False}}


def test_knowledge_security_guidance_is_advice_and_leaves_the_verdict_allowed(engine: Engine) -> None:
    v = engine.evaluate(VISITOR, ON)
    assert v["verdict"] == "allowed" and v["complete"] is True
    assert v["conditions"] == []
    (advice,) = v["advice"]
    assert advice["rule"] == "knowledge.security-screening"
    assert advice["label"]["en"] == "recommended, not legally required"
    assert advice["sources"] and not any(c["binding"] for c in advice["sources"])
    assert "knowledge.security-screening" not in {g["rule"] for g in v["grounds"]}


def test_advice_is_not_repeated_once_followed(engine: Engine) -> None:
    done = {**VISITOR, "knowledge": {**VISITOR["knowledge"], "screening_done": True}}
    assert engine.evaluate(done, ON)["advice"] == []


def test_the_cli_text_shows_advice_apart_in_both_languages(engine: Engine) -> None:
    v = engine.evaluate(VISITOR, ON)
    assert "Advice (recommended, not legally required" in verdict_text(v, "en")
    assert "Advies (aanbevolen, niet wettelijk verplicht" in verdict_text(v, "nl")


def test_no_advice_rule_can_raise_a_verdict(base: RuleBase) -> None:
    """Turn every advice rule into a prohibition: the shipped verdicts must not depend on them, and they never do,
    because advice rules are not verdict rules. The converse proves the list is separate: as prohibitions they would."""
    from biotoets.engine.verdict import _Day

    day = _Day(base, ON)
    assert {r.id for r in day.advice} >= {"knowledge.security-screening", "sanctions.country-regime"}
    assert not {r.id for r in day.advice} & {r.id for r in day.verdict_rules}
    as_bans = RuleBase({rid: replace(r, effect="prohibited") if r.effect == "advice" else r
                        for rid, r in base.rules.items()},
                       base.sources, base.questions, base.lists, base.facts, base.domains, base.digest + "x",
                       base.files)
    banned = Engine(as_bans)
    try:
        assert banned.evaluate(VISITOR, ON)["verdict"] == "prohibited"
    finally:
        banned.close()
