"""Relevance: scope gates proven sound, questions in tiers, honest ranges and honest incompleteness."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from biotoets.api.analysis import casebase as cb
from biotoets.api.cli import main
from biotoets.api.documents.inputs import parse_document
from biotoets.engine.activities import per_activity
from biotoets.engine.facts import flatten
from biotoets.engine.implications import apply_implications, consistent
from biotoets.engine.lint import lint_directory
from biotoets.engine.loader import RuleLoadError, load_rule_base
from biotoets.engine.proposal import Proposal

from ..strategies import proposals

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "gates"
ON = date(2026, 1, 1)
README = ROOT / "examples" / "germline-editing.yaml"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNSCOPED = {  # the README example as it was, before its scope questions were answered
    "activity": "basic_research", "purpose": "biomedical_research", "technique": "crispr",
    "human": {"embryo": True, "embryo_source": "spare_ivf", "embryo_culture_days": 7},
}
GATEWAYS_NO = {  # the README example: its scope questions answered "no"
    "activity": "basic_research", "purpose": "biomedical_research", "technique": "crispr",
    "human": {"embryo": True, "gametes": False, "embryo_source": "spare_ivf", "embryo_culture_days": 7},
    "animal": {"involved": False}, "gmo": {"use": "none"}, "transplant": {"recipient": "none"},
    "partners": [], "export": {"dual_use_items": [], "intangible_transfer": False},
}
FIELD_TRIAL = {  # a gene-edited plant in a field trial: every scope question answered
    "activity": "field_trial", "purpose": "agriculture_food", "technique": "crispr",
    "human": {"embryo": False, "gametes": False, "subjects": False}, "animal": {"involved": False},
    "plant": {"involved": True}, "gmo": {"use": "release", "risk": "negligible"}, "transplant": {"source": "none"},
    "medicine": {"medicinal_product": False}, "partners": [],
    "export": {"intangible_transfer": False, "destination_countries": []},
}
DEFECTS = {
    "unsound-gate": "unsound-gate",
    "unsound-exception-gate": "unsound-gate",
    "gate-reference": "gate-reference",
    "gate-cycle": "gate-cycle",
    "bad-implication": "bad-implication",
}


def known_facts(engine, proposal) -> dict:
    facts, _ = apply_implications(engine.base.gates, flatten(Proposal.model_validate(proposal)))
    return facts


# -- gates as data, proven sound ---------------------------------------------------------------
def test_every_follow_up_question_has_a_gate_kind_and_the_scope_questions_are_marked(base) -> None:
    gates = base.gates.questions
    assert set(gates) == set(base.questions)
    assert {g.kind for g in gates.values()} == {"design", "classification", "status"}
    scope = {f for f, g in gates.items() if g.scope}
    assert {"human.embryo", "human.gametes", "human.subjects", "animal.involved", "gmo.use", "transplant.source",
            "plant.involved", "medicine.medicinal_product", "partners.count", "export.intangible_transfer"} <= scope
    assert gates["animal.vertebrate"].depends_on == ("animal.involved",)
    assert gates["gmo.permit"].depends_on == ("gmo.use",)
    assert gates["transplant.recipient"].depends_on == ("transplant.source",)
    assert gates["partners.listed_entity"].depends_on == ("partners.count",)
    # The trial authorisation is asked of every clinical trial: the gene-therapy germ-line rule reads it too.
    assert gates["medicine.trial_authorisation"].depends_on == ("activity",)
    # every status question waits on something
    assert all(g.ask_when is not None for g in gates.values() if g.kind == "status")


def test_the_clean_gate_fixture_loads() -> None:
    assert load_rule_base(FIXTURES / "clean").gates.questions["gmo.permit"].ask_when is not None


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_gate_defect_stops_loading_and_is_a_lint_finding(name: str) -> None:
    with pytest.raises(RuleLoadError) as err:
        load_rule_base(FIXTURES / name)
    assert err.value.check == DEFECTS[name]
    assert err.value.file == "questions.yaml"
    assert DEFECTS[name] in {f.check for f in lint_directory(FIXTURES / name).findings}


def test_every_gate_fixture_is_expected() -> None:
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == set(DEFECTS) | {"clean"}


def test_an_unsound_gate_names_the_fact_the_rule_and_a_counter_example() -> None:
    with pytest.raises(RuleLoadError) as err:
        load_rule_base(FIXTURES / "unsound-gate")
    e = err.value
    assert e.rule == "fx.listed-export" and e.path == "/questions/export.dual_use_items/ask_when"
    assert "the gate of 'export.dual_use_items' is not sound" in e.reason
    assert "e.g. when gmo.use=none" in e.reason and "it is false" in e.reason


def test_an_allowed_exception_is_checked_where_the_rule_it_defeats_may_hold() -> None:
    with pytest.raises(RuleLoadError) as err:
        load_rule_base(FIXTURES / "unsound-exception-gate")
    assert err.value.rule == "fx.licence-granted" and "gmo.use=contained" in err.value.reason


def test_the_other_gate_errors_say_what_is_wrong() -> None:
    messages = {}
    for name in ("gate-reference", "gate-cycle", "bad-implication"):
        with pytest.raises(RuleLoadError) as err:
            load_rule_base(FIXTURES / name)
        messages[name] = err.value.reason
    assert messages["gate-reference"] == "unknown fact 'no.such_fact' in a gate or implication"
    assert messages["gate-cycle"] == "gates form a cycle: gmo.permit -> export.dual_use_items -> gmo.permit"
    assert "sets 'gmo.permit' to 'sometimes', which is not a possible value" in messages["bad-implication"]


def test_cli_lint_refuses_a_rule_base_with_an_unsound_gate(capsys) -> None:
    assert main(["--rules", str(FIXTURES / "unsound-gate"), "rules", "lint", "--no-cases"]) == 3
    assert "the gate of 'export.dual_use_items' is not sound" in capsys.readouterr().err


# -- implications ------------------------------------------------------------------------------
def test_no_transplant_settles_recipient_material_and_contact_and_the_trace_shows_it(engine) -> None:
    v = engine.evaluate({"transplant": {"source": "none"}}, ON)
    implied = {t["fired"]: t["rule"] for t in v["trace"] if t["form"] == "implied"}
    assert implied == {"transplant.recipient=none": "no-transplant", "transplant.living_material=False":
                       "no-transplant", "transplant.contact_with_animal_material=False": "no-transplant"}
    assert not {q["fact"] for q in v["questions"]} & {"transplant.recipient", "transplant.living_material",
                                                       "transplant.contact_with_animal_material"}


def test_no_subjects_and_no_animals_rule_out_xenotransplantation(engine) -> None:
    v = engine.evaluate({"human": {"subjects": False}, "animal": {"involved": False}}, ON)
    assert "xeno.ban" not in {g["rule"] for g in v["possible_grounds"]}
    assert not any(n["rules"] == ["xeno.ban"] or "xeno.ban" in n["rules"] for n in v["not_assessed"])
    assert "transplant.source" not in {q["fact"] for q in v["questions"]}


def test_a_given_answer_is_never_overwritten_by_an_implication(engine) -> None:
    facts, applied = apply_implications(engine.base.gates, {"transplant.source": "none",
                                                            "transplant.recipient": "human"})
    assert facts["transplant.recipient"] == "human"
    assert {a["fact"] for a in applied} == {"transplant.living_material", "transplant.contact_with_animal_material"}


# -- the frontier, in tiers --------------------------------------------------------------------
def test_the_readme_example_without_its_scope_answers_asks_scope_first_and_is_not_determined(engine) -> None:
    v = engine.evaluate(UNSCOPED, ON)
    tiers = [q["tier"] for q in v["questions"]]
    assert tiers == sorted(tiers)
    assert v["determined"] is False and v["undetermined"]["scope_questions"] == [
        q["fact"] for q in v["questions"] if q["tier"] == "A"]
    assert v["next_question"] == v["questions"][0]["fact"]
    assert v["verdict"] == "conditional"  # still said, on the facts given
    facts = {q["fact"] for q in v["questions"]}
    assert not facts & {"transplant.recipient", "transplant.living_material", "animal.vertebrate", "gmo.permit"}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_an_undetermined_verdict_counts_the_open_scope_questions_in_words_not_fact_names(engine, lang) -> None:
    v = engine.evaluate({"title": "nothing said yet"}, ON, lang=lang)
    n = len(v["undetermined"]["scope_questions"])
    assert n > 1
    reason = v["undetermined"]["reason"][lang]
    assert f"{n} {'questions' if lang == 'en' else 'vragen'}" in reason
    assert f"{n} {'questions' if lang == 'en' else 'vragen'}" in v["summary"]
    for text in (reason, v["summary"]):
        assert not any(f in text for f in v["undetermined"]["scope_questions"]), text
    one = engine.evaluate({k: v for k, v in GATEWAYS_NO.items() if k != "animal"}, ON, lang=lang)
    assert one["undetermined"]["scope_questions"] == ["animal.involved"]
    assert ("1 question about" if lang == "en" else "1 vraag over") in one["undetermined"]["reason"][lang]
    assert ("First answer the question about" if lang == "en" else "Beantwoord eerst de vraag over") in one["summary"]


def test_the_readme_example_asks_at_most_three_questions(engine) -> None:
    assert parse_document(README.read_bytes(), "example") == {"title": parse_document(
        README.read_bytes(), "example")["title"], **GATEWAYS_NO}
    v = engine.evaluate(GATEWAYS_NO, ON)
    assert v["determined"] is True and v["undetermined"] is None
    assert [q["fact"] for q in v["questions"]] == ["human.pregnancy_intended", "human.protocol_approved"]
    assert [q["tier"] for q in v["questions"]] == ["B", "D"]
    assert v["questions"][0]["depends_on"] == ["human.embryo", "human.gametes"]
    assert {n["rule"].split(".")[0] for n in v["open_norms"]} <= {"germline"}
    assert all(c["fact"] not in ("activity", "purpose") for c in v["changes"])


def test_a_fact_whose_gate_is_unknown_is_not_asked_its_gate_is(engine) -> None:
    v = engine.evaluate({"activity": "basic_research", "technique": "none", "human": {"embryo": False,
                         "gametes": False, "subjects": False}}, ON)
    facts = [q["fact"] for q in v["questions"]]
    assert "animal.involved" in facts and "animal.vertebrate" not in facts
    assert "gmo.use" in facts and "gmo.permit" not in facts


def test_within_a_tier_the_question_that_settles_most_rules_comes_first(engine) -> None:
    v = engine.evaluate({}, ON)
    for a, b in zip(v["questions"], v["questions"][1:], strict=False):
        if a["tier"] == b["tier"]:
            assert len(a["rules"]) >= len(b["rules"])


def test_no_case_asks_a_question_whose_gate_is_closed(engine) -> None:
    engines = {}
    for case in cb.load_cases():
        if case.scenario:
            from biotoets.engine.evaluate import Engine
            from biotoets.engine.scenarios import load_scenario
            if case.scenario not in engines:
                sbase, info = load_scenario(case.scenario)
                engines[case.scenario] = Engine(sbase, name=f"rel-{case.scenario}", scenario=info)
            eng = engines[case.scenario]
        else:
            eng = engine
        v = eng.evaluate(cb.to_proposal(case.proposal), case.as_of or ON, explain=False)
        # (several activities: each question is open for at least one of them)
        views = [known_facts(eng, each) for each in per_activity(case.proposal)]
        for known in views:
            known.update({k: x for k, x in v["derived"].items() if x is not None})
        for q in v["questions"]:
            assert any(eng.base.gates.gate(q["fact"], known) is True for known in views), (case.id, q["fact"])
        assert [q["tier"] for q in v["questions"]] == sorted(q["tier"] for q in v["questions"]), case.id


# -- ranges ------------------------------------------------------------------------------------
def test_a_refused_permit_that_is_already_a_condition_is_said_in_the_condition_not_as_a_range(engine) -> None:
    v = engine.evaluate(FIELD_TRIAL, ON)
    assert v["verdict"] == "conditional"
    assert v["could_become"] == "conditional"
    refused = [c for c in v["conditions"] if c.get("if_refused")]
    assert len(refused) == 1 and refused[0]["rule"] == "gmo.release-permit"
    assert refused[0]["if_refused"]["rules"] == ["gmo.permit-refused"]
    assert refused[0]["if_refused"]["text"]["en"] == "If refused, the activity may not go ahead."
    assert "gmo.permit-refused" not in {g["rule"] for g in v["possible_grounds"]}
    assert [q["fact"] for q in v["questions"] if q["tier"] == "D"] == ["gmo.permit"]


# -- honest incompleteness ---------------------------------------------------------------------
@pytest.mark.parametrize("proposal", [{}, {"human": {}, "animal": {}, "gmo": {}, "transplant": {}, "medicine": {}}])
def test_an_empty_or_all_unknown_proposal_is_not_enough_information(engine, proposal, capsys, tmp_path) -> None:
    v = engine.evaluate(proposal, ON)
    assert v["determined"] is False
    assert v["summary"].startswith("Not enough information yet")
    f = tmp_path / "p.json"
    f.write_text(__import__("json").dumps(proposal))
    main(["check", str(f)])
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Not enough information yet")
    assert "ALLOWED  " not in out.splitlines()[0]
    main(["check", str(f), "--lang", "nl"])
    assert capsys.readouterr().out.startswith("Nog niet genoeg informatie")


def test_rules_waiting_on_a_scope_question_are_collapsed_not_listed(engine) -> None:
    v = engine.evaluate(UNSCOPED, ON)
    listed = {g["rule"] for g in v["possible_grounds"]}
    assert {"germline.reproductive-ban", "germline.embryo-research-approved"} <= listed
    assert {r.split(".")[0] for r in listed} == {"germline"}  # nothing waiting on an open scope question
    animals = [n for n in v["not_assessed"] if n["until"] == ["animal.involved"]]
    assert animals and animals[0]["text"]["en"].startswith("Not assessed until you answer: animal.involved (")
    assert v["open_norms"] == []


# -- no noise in "what would change it" --------------------------------------------------------
def test_changes_vary_only_design_and_status_facts_and_never_contradict(engine) -> None:
    base = engine.base
    v = engine.evaluate(dict(GATEWAYS_NO, partners=[{"country": "DE", "listed_entity": False}]), ON)
    assert v["changes"], "the example can still be changed"
    for c in v["changes"]:
        assert base.gates.kind(c["fact"]) in ("design", "status"), c
    v = engine.evaluate(GATEWAYS_NO, ON)
    assert not any(c["fact"].startswith("partners.") for c in v["changes"])  # no partners: no listed partner


# -- properties --------------------------------------------------------------------------------
@FAST
@given(proposals(), st.data())
def test_skipping_a_gated_out_question_never_changes_the_verdict(engine, proposal, data) -> None:
    """Wherever a question's gate is closed, any answer to it gives the same verdict and range."""
    before = engine.evaluate(proposal, ON, explain=False)
    known = known_facts(engine, proposal)
    known.update({k: x for k, x in before["derived"].items() if x is not None})
    closed = sorted(f for f in engine.base.gates.questions if f not in known and "." in f
                    and engine.base.gates.gate(f, known) is False and not f.endswith(".count")
                    and not f.startswith("partners."))
    assume(closed)
    fact = data.draw(st.sampled_from(closed))
    spec = engine.base.facts[fact]
    value = data.draw(st.sampled_from(list(spec.values)) if spec.kind == "enum" else st.booleans()
                      if spec.kind == "bool" else st.integers(spec.minimum or 0, min(spec.maximum or 30, 30))
                      if spec.kind == "int"
                      else st.just(["RU"] if fact.endswith("countries") else ["1C351"]))
    answered = copy.deepcopy(proposal)
    section, _, name = fact.partition(".")
    answered.setdefault(section, {})
    answered[section] = dict(answered[section] or {}, **{name: value})
    assume(consistent(engine.base.gates, known_facts(engine, answered)))
    after = engine.evaluate(answered, ON, explain=False)
    for key in ("verdict", "could_become", "could_fall_to"):
        assert before[key] == after[key], (fact, value, key)


def test_a_gate_too_large_to_prove_stops_loading_with_the_gate_and_the_rule(rules_copy) -> None:
    import yaml
    doc = yaml.safe_load((rules_copy / "xeno.yaml").read_text(encoding="utf-8"))
    facts = ["transplant.living_material", "human.embryo", "human.gametes", "human.somatic_cells", "human.subjects",
             "animal.involved", "plant.involved", "gmo.microorganism", "gmo.viral_vector", "medicine.medicinal_product",
             "knowledge.sensitive_technology", "export.intangible_transfer", "animal.human_cells_introduced",
             "animal.vertebrate"]
    doc["rules"].append({"id": "xeno.wide", "title": {"nl": "breed", "en": "wide"}, "effect": "allowed",
                         "when": {"any": [{"fact": f, "eq": True} for f in facts]}, "valid_from": "2000-01-01"})
    (rules_copy / "xeno.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(RuleLoadError) as info:
        load_rule_base(rules_copy)
    assert info.value.check == "gate-proof-budget"
    assert info.value.rule == "xeno.wide" and info.value.path.startswith("/questions/")
    assert "cannot be proven sound" in str(info.value)
