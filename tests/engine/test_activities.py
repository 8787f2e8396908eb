"""A proposal that is several activities at once: the law for each applies, and the verdict combines them."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from biotoets.api.documents import slim
from biotoets.engine import combine, reference
from biotoets.engine.activities import per_activity
from biotoets.engine.evaluate import Engine
from biotoets.engine.facts import flatten
from biotoets.engine.host import EngineError
from biotoets.engine.model import SEVERITY, RuleBase
from biotoets.engine.proposal import Activity, Proposal
from biotoets.engine.relevance import question_order

from ..strategies import proposals

ON = date(2026, 11, 28)
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
FULL = Draft202012Validator(json.loads((SCHEMAS / "verdict.schema.json").read_text(encoding="utf-8")))
SLIM = Draft202012Validator(json.loads((SCHEMAS / "verdict-slim.schema.json").read_text(encoding="utf-8")))
# IVF treatment aimed at a pregnancy, no technique applied (outside the Embryo Act's research rules), which is
# also research with the embryos (inside them: Embryowet arts. 3, 16-17).
EMBRYO = {"human": {"embryo": True, "gametes": False, "embryo_source": "spare_ivf", "pregnancy_intended": True,
                    "embryo_culture_days": 5}, "technique": "none"}
several = st.lists(st.sampled_from([a.value for a in Activity]), min_size=2, max_size=3, unique=True)


def strictest(effects: list[str]) -> str:
    return max(effects, key=SEVERITY.__getitem__)


def rules(items: list[dict[str, Any]]) -> list[str]:
    return [g["rule"] for g in items]


# -- the proposal --------------------------------------------------------------------------------------------
def test_one_activity_or_a_list_of_them() -> None:
    assert Proposal.model_validate({"activity": "market"}).activity == "market"
    assert Proposal.model_validate({"activity": ["production", "market"]}).activity == ["production", "market"]


@pytest.mark.parametrize(("value", "message"), [
    ([], "is an empty list: name at least one activity, or leave it out (unknown)"),
    (["market", "production", "market"], "names an activity more than once: market"),
    (["market", "cooking"], "item 1 ('cooking') must be one of 'basic_research', "),
    ("cooking", "Input should be 'basic_research', "),
])
def test_a_bad_list_of_activities_is_a_clear_error_on_the_field(value: Any, message: str) -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        Proposal.model_validate({"activity": value})
    [error] = raised.value.errors()
    assert error["loc"] == ("activity",)
    assert error["msg"].startswith(message)


# -- the single path stays as it was -----------------------------------------------------------------------
def test_one_activity_never_goes_through_the_combination(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = engine.evaluate({**EMBRYO, "activity": "basic_research"}, ON)
    monkeypatch.setattr(combine, "verdicts", lambda parts: pytest.fail("combined one activity"))
    assert engine.evaluate({**EMBRYO, "activity": ["basic_research"]}, ON) == plain
    assert "activities" not in plain


def test_the_reference_evaluator_checks_each_activity(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    real = reference.rule_statuses

    def counted(base: RuleBase, facts: Any, on: date) -> Any:
        seen.append(facts.get("activity"))
        return real(base, facts, on)

    monkeypatch.setattr(reference, "rule_statuses", counted)
    engine.evaluate({**EMBRYO, "activity": ["basic_research", "medical_treatment", "export"]}, ON)
    assert seen == ["basic_research", "medical_treatment", "export"]


# -- levels, union, labels ------------------------------------------------------------------------------------
def test_embryo_research_that_is_also_treatment_meets_the_research_conditions(engine: Engine) -> None:
    treatment = engine.evaluate({**EMBRYO, "activity": "medical_treatment"}, ON)
    research = engine.evaluate({**EMBRYO, "activity": "basic_research"}, ON)
    both = engine.evaluate({**EMBRYO, "activity": ["medical_treatment", "basic_research"]}, ON)
    assert treatment["verdict"] == "allowed" and research["verdict"] == "conditional"
    assert both["verdict"] == "conditional"
    assert "germline.embryo-research" in rules(both["grounds"])
    assert "_checked" not in rules(both["grounds"])  # "nothing applies" is not true of the whole
    assert {c["rule"] for c in both["conditions"]} == {c["rule"] for c in research["conditions"]}
    by = {a["activity"]: a for a in both["activities"]}
    assert [a["activity"] for a in both["activities"]] == ["medical_treatment", "basic_research"]
    assert by["medical_treatment"]["verdict"] == "allowed" and "grounds" not in by["medical_treatment"]
    assert "germline.embryo-research" in by["basic_research"]["grounds"]
    assert both["summary"].startswith("Checked for each activity (medical_treatment, basic_research)")
    embryo_ground = next(g for g in both["grounds"] if g["rule"] == "germline.embryo-research")
    assert embryo_ground["facts"]["activity"] == ["medical_treatment", "basic_research"]
    FULL.validate(both)


def test_a_rule_under_two_activities_is_one_ground_not_labelled(engine: Engine) -> None:
    both = engine.evaluate({**EMBRYO, "activity": ["basic_research", "preclinical_research"]}, ON)
    assert rules(both["grounds"]).count("germline.embryo-research") == 1
    assert all("germline.embryo-research" not in a.get("grounds", []) for a in both["activities"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proposals(), several, st.sampled_from(["nl", "en"]))
def test_the_whole_is_the_strictest_part_and_the_union_of_its_lists(engine: Engine, base: RuleBase,
                                                                   proposal: dict[str, Any], each: list[str],
                                                                   lang: str) -> None:
    whole = engine.evaluate({**proposal, "activity": each}, ON, lang=lang)
    parts = [engine.evaluate({**proposal, "activity": a}, ON, lang=lang) for a in each]
    for key in ("verdict", "could_become", "could_fall_to"):
        assert whole[key] == strictest([p[key] for p in parts])
    applying = {r for p in parts for r in rules(p["grounds"]) if r != "_checked"}
    assert set(rules(whole["grounds"])) - {"_checked"} == applying
    assert len(rules(whole["grounds"])) == len(set(rules(whole["grounds"])))
    assert set(rules(whole["possible_grounds"])) == {r for p in parts for r in rules(p["possible_grounds"])} - applying
    assert {(c["rule"], c["what"]["en"]) for c in whole["conditions"]} == {
        (c["rule"], c["what"]["en"]) for p in parts for c in p["conditions"]}
    assert set(rules(whole["advice"])) == {r for p in parts for r in rules(p["advice"])}
    asked = [q["fact"] for q in whole["questions"]]
    assert len(asked) == len(set(asked)) and whole["questions"] == sorted(whole["questions"], key=question_order)
    assert set(asked) <= {q["fact"] for p in parts for q in p["questions"]}
    if whole["determined"]:
        assert set(asked) == {q["fact"] for p in parts for q in p["questions"]}
    assert whole["next_question"] == (asked[0] if asked else None)
    # Which activity each ground came from, where they differ.
    for a, p in zip(each, parts, strict=True):
        mine = next(x for x in whole["activities"] if x["activity"] == a)
        assert (mine["verdict"], mine["determined"]) == (p["verdict"], p["determined"])
        shared = set.intersection(*(set(rules(q["grounds"])) for q in parts))
        assert set(mine.get("grounds", [])) == set(rules(p["grounds"])) - shared - {"_checked"}
    # Every form of the verdict holds it.
    FULL.validate(whole)
    thin = orjson.loads(orjson.dumps(slim.slim(whole, base)))
    SLIM.validate(thin)
    assert slim.expand(thin, base) == orjson.loads(orjson.dumps(whole))


def test_an_undetermined_part_counts_only_where_it_could_be_stricter(engine: Engine) -> None:
    research = engine.evaluate({**EMBRYO, "activity": "basic_research"}, ON)
    assert research["verdict"] == "conditional"
    determined = copy.deepcopy(research)
    determined.update(determined=True, undetermined=None, could_become="conditional", could_fall_to="conditional")
    open_part = engine.evaluate({"activity": "export"}, ON)
    assert not open_part["determined"] and open_part["could_become"] == "prohibited"
    whole = combine.verdicts([("basic_research", determined), ("export", open_part)])
    assert not whole["determined"]
    assert whole["undetermined"]["scope_questions"] == open_part["undetermined"]["scope_questions"]
    assert all(q["tier"] == "A" for q in whole["questions"])
    assert whole["summary"].startswith("Checked for each activity (basic_research, export); the strictest "
                                       "outcome counts. Not enough information yet.")
    # The same open part next to a prohibition: nothing it answers can make the whole stricter.
    banned = copy.deepcopy(determined)
    banned.update(verdict="prohibited", could_become="prohibited", could_fall_to="prohibited")
    whole = combine.verdicts([("clinical_trial", banned), ("export", open_part)])
    assert whole["determined"] and whole["undetermined"] is None and whole["verdict"] == "prohibited"
    # Nothing determined at all stays undetermined.
    whole = combine.verdicts([("market", open_part), ("export", open_part)])
    assert not whole["determined"]


def test_questions_asked_under_two_activities_are_asked_once_in_relevance_order(engine: Engine) -> None:
    each = ["clinical_trial", "market"]
    whole = engine.evaluate({"activity": each, "medicine": {"medicinal_product": True}}, ON)
    parts = [engine.evaluate({"activity": a, "medicine": {"medicinal_product": True}}, ON) for a in each]
    asked = [q["fact"] for q in whole["questions"]]
    assert asked == sorted(set(asked), key=lambda f: question_order(next(q for q in whole["questions"]
                                                                          if q["fact"] == f)))
    assert len(asked) == len(set(asked))
    shared = set.intersection(*({q["fact"] for q in p["questions"]} for p in parts))
    for entry in whole["activities"]:
        assert not shared & set(entry.get("questions", []))


def test_what_would_change_it_is_the_union_labelled_where_it_differs(engine: Engine) -> None:
    each = ["medical_treatment", "basic_research"]
    whole = engine.evaluate({**EMBRYO, "activity": each}, ON)
    parts = [engine.evaluate({**EMBRYO, "activity": a}, ON) for a in each]
    key = [(c["fact"], repr(c["to"]), c["verdict"]) for c in whole["changes"]]
    assert len(key) == len(set(key))
    assert set(key) == {(c["fact"], repr(c["to"]), c["verdict"]) for p in parts for c in p["changes"]}
    for entry, p in zip(whole["activities"], parts, strict=True):
        others = [q for q in parts if q is not p]
        only = {c["fact"] for c in p["changes"]} - {c["fact"] for q in others for c in q["changes"]}
        assert only <= set(entry.get("changes", []))


def test_facts_that_name_several_activities_are_not_evaluated_as_one(engine: Engine) -> None:
    facts = flatten(Proposal.model_validate({**EMBRYO, "activity": ["medical_treatment", "basic_research"]}))
    assert facts["activity"] == ["medical_treatment", "basic_research"] and "activity.count" not in facts
    with pytest.raises(EngineError, match=r"the facts name several activities: evaluate each on its own"):
        engine.evaluate_facts(facts, ON)
    each = per_activity(facts)
    assert [f["activity"] for f in each] == ["medical_treatment", "basic_research"]
    assert [engine.evaluate_facts(f, ON).facts["activity"] for f in each] == ["medical_treatment", "basic_research"]
    assert per_activity({"activity": "market"}) == [{"activity": "market"}]
