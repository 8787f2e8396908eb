"""The rule base as law: bilingual throughout, every restriction grounded in a cited article, dated, readable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from biotoets.api.cli import main
from biotoets.api.documents.render import rule_text
from biotoets.engine import conditions as cond
from biotoets.engine.evaluate import Engine
from biotoets.engine.lint import untranslated
from biotoets.engine.model import FAR_FUTURE, RuleBase

# A proposal that touches nothing; cases below change one part of it.
QUIET = {
    "activity": "basic_research", "purpose": "fundamental_research", "technique": "none",
    "human": {"embryo": False, "gametes": False, "subjects": False},
    "animal": {"involved": False, "human_organ_growth": False}, "transplant": {"recipient": "none"},
    "plant": {"involved": False}, "gmo": {"use": "none"}, "medicine": {"medicinal_product": False},
    "knowledge": {"sensitive_technology": False},
    "export": {"dual_use_items": [], "intangible_transfer": False}, "partners": [],
}
PIG_KIDNEY = {**QUIET, "activity": "medical_treatment", "purpose": "medical_treatment",
              "transplant": {"source": "animal", "living_material": True, "recipient": "human"}}


# -- bilingual -------------------------------------------------------------------------------
def test_no_text_lacks_a_translation(base: RuleBase) -> None:
    assert untranslated(base) == []


def test_every_rule_has_dutch_and_english_title_and_explanation_texts(base: RuleBase) -> None:
    for r in base.rules.values():
        texts = [r.title] + [t for t in (r.explanation, r.open_norm, r.transitional) if t]
        texts += [c.what for c in r.conditions] + [c.authority for c in r.conditions]
        for t in texts:
            assert t.nl.strip() and t.en.strip() and t.nl != t.en, r.id


def test_every_fact_a_rule_reads_has_a_question_in_both_languages(base: RuleBase) -> None:
    derived = base.derived_facts()
    for r in base.rules.values():
        for name in r.facts - set(derived):
            q = base.questions[name]
            assert q.nl.strip().endswith("?") or "?" in q.nl, name
            assert q.en.strip() and q.nl != q.en, name


def test_condition_words_exist_in_both_languages() -> None:
    for op, phrase in cond.PHRASES["en"].items():
        assert cond.PHRASES["nl"][op] and cond.PHRASES["nl"][op] != phrase or op == "eq"
    assert set(cond.PHRASES["nl"]) == set(cond.PHRASES["en"]) == set(cond.COMPLEMENT)


def test_verdict_speaks_the_language_asked_for(engine: Engine) -> None:
    nl = engine.evaluate(PIG_KIDNEY, date(2026, 11, 28), lang="nl")
    assert nl["summary"].startswith("Op grond van de gegeven feiten")
    (ground,) = [g for g in nl["grounds"] if g["rule"] == "xeno.ban"]
    assert ground["title"]["nl"] == "Verbod op xenotransplantatie bij mensen"


def test_rules_show_renders_dutch_condition_words(base: RuleBase) -> None:
    text = rule_text(base, base.rules["germline.reproductive-ban"], "nl")
    assert "alle volgende:" in text and "human.pregnancy_intended is ja" in text
    assert "Gelezen feiten:" in text and "Wordt met het (gewijzigde) embryo" in text
    english = rule_text(base, base.rules["germline.reproductive-ban"], "en")
    assert "all of:" in english and "human.pregnancy_intended is true" in english


# -- grounds ---------------------------------------------------------------------------------
def test_every_restriction_cites_a_binding_article_or_says_it_is_guidance(base: RuleBase) -> None:
    for r in base.rules.values():
        if r.effect not in ("prohibited", "conditional"):
            continue
        binding = [c for c in r.citations if base.sources[c.source].binding]
        assert binding or "NOT BINDING" in r.notes, r.id


def test_every_citation_resolves_to_a_source_article(base: RuleBase) -> None:
    for r in base.rules.values():
        for c in list(r.citations) + [x.citation for x in r.conditions]:
            assert c.article in base.sources[c.source].articles, (r.id, c)


def test_pending_law_is_never_a_binding_ground(base: RuleBase) -> None:
    for s in base.sources.values():
        if s.status in ("pending", "adopted_not_applicable"):
            assert not s.binding and s.valid_from is None, s.id


def test_oviedo_is_cited_but_not_binding_in_the_netherlands(base: RuleBase) -> None:
    assert base.sources["coe-oviedo-ets164"].binding is False
    assert any(c.source == "coe-oviedo-ets164" for c in base.rules["germline.reproductive-ban"].citations)


@pytest.mark.parametrize("rid", [
    "gmo.release-permit", "gmo.risk-small", "gmo.risk-above-negligible", "animals.biotechnology-licence",
    "knowledge.catch-all-military-embargo", "sanctions.russia-dual-use", "xeno.organ-growth-in-animal",
])
def test_rules_resting_on_a_judgement_carry_an_open_norm(base: RuleBase, rid: str) -> None:
    assert base.rules[rid].open_norm is not None


def test_an_open_norm_reaches_the_verdict_for_the_assessor(engine: Engine) -> None:
    cattle = {**QUIET, "activity": "production", "purpose": "agriculture_food", "technique": "crispr",
              "animal": {"involved": True, "vertebrate": True, "biotech_licence": "applied",
                         "human_organ_growth": False},
              "gmo": {"use": "release", "risk": "negligible", "permit": "applied"}}
    v = engine.evaluate(cattle, date(2026, 11, 28))
    norms = {n["rule"]: n for n in v["open_norms"]}
    assert norms["animals.biotechnology-licence"]["status"] == "applies"
    assert "ethical objections" in norms["animals.biotechnology-licence"]["norm"]["en"]


# -- time ------------------------------------------------------------------------------------
def test_every_source_cited_as_a_ground_carries_its_validity(base: RuleBase) -> None:
    for r in base.rules.values():
        for c in r.citations:
            s = base.sources[c.source]
            if s.binding:
                assert s.valid_from, (r.id, s.id)


def test_no_rule_fires_outside_its_validity(engine: Engine, base: RuleBase) -> None:
    """The day before a rule starts and the day after it ends, it is not among the grounds."""
    proposals = [PIG_KIDNEY,
                 {**QUIET, "activity": "production", "purpose": "agriculture_food", "technique": "crispr",
                  "animal": {"involved": True, "vertebrate": True, "biotech_licence": "not_applied",
                             "human_organ_growth": False}},
                 {**QUIET, "activity": "export",
                  "export": {"dual_use_items": ["1C351"], "destination_countries": ["US"],
                             "intangible_transfer": False, "licence": "applied"}}]
    for p in proposals:
        for r in base.rules.values():
            edges = [date.fromisoformat(r.valid_from) - timedelta(days=1)]
            if r.valid_to and r.valid_to != FAR_FUTURE:
                edges.append(date.fromisoformat(r.valid_to) + timedelta(days=1))
            for day in edges:
                if day.year < 1901:
                    continue
                v = engine.evaluate(p, day)
                assert r.id not in {g["rule"] for g in v["grounds"]}, (r.id, day)
                assert v["ruleset"]["as_of"] == day.isoformat()


def test_the_regime_hands_over_on_the_day(engine: Engine) -> None:
    export = {**QUIET, "activity": "export", "export": {"dual_use_items": ["1C353"], "destination_countries": ["US"],
                                                        "intangible_transfer": False, "licence": "applied"}}
    before = {g["rule"] for g in engine.evaluate(export, date(2021, 9, 8))["grounds"]}
    after = {g["rule"] for g in engine.evaluate(export, date(2021, 9, 9))["grounds"]}
    assert "knowledge.dual-use-export-licence-428-2009" in before and "knowledge.dual-use-export-licence" not in before
    assert "knowledge.dual-use-export-licence" in after and "knowledge.dual-use-export-licence-428-2009" not in after


def test_transitional_provisions_are_stated_where_the_law_has_them(base: RuleBase) -> None:
    for rid in ("germline.clinical-trial-ban", "germline.embryos-created-for-research",
                "medicines.clinical-trial-authorisation"):
        assert base.rules[rid].transitional is not None, rid


def test_cli_as_of_evaluates_the_law_of_that_date(tmp_path, capsys) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("activity: medical_treatment\ntransplant: {source: animal, living_material: true, recipient: human}\n")
    assert main(["check", str(f), "--as-of", "2001-06-01", "--json"]) == 0
    assert '"as_of": "2001-06-01"' in capsys.readouterr().out
    assert main(["check", str(f), "--as-of", "2003-06-01", "--lang", "nl"]) == 0
    out = capsys.readouterr().out
    assert "VERBODEN" in out and "peildatum 2003-06-01" in out


# -- case base -------------------------------------------------------------------------------
def test_casebase_coverage_lines(capsys) -> None:
    assert main(["casebase", "run", "--coverage", "--quiet"]) == 0
    out = capsys.readouterr().out
    rule_line = [line for line in out.splitlines() if line.startswith("rule coverage: ")]
    assert rule_line and rule_line[0].endswith("(100%)")
    question_line = [line for line in out.splitlines() if line.startswith("question coverage: ")]
    # A question is asked only when it can still change the verdict or add a condition. The partners' countries
    # are asked as one question with their count (the list answers both): every other question is asked.
    assert question_line
    covered, total = map(int, question_line[0].split()[2].split("/"))
    uncovered = [line for line in out.splitlines() if line.strip().startswith("uncovered questions:")]
    assert covered == total - 1 and uncovered == ["  uncovered questions: partners.countries"], question_line[0]


def test_questions_never_asked_are_only_those_of_informational_facts(base) -> None:
    from biotoets.api.analysis.casebase import askable_questions

    askable = askable_questions(base)
    for name in {f for r in base.rules.values() for f in r.facts if f in base.questions} - askable:
        readers = [r for r in base.rules.values() if name in r.facts]
        assert all(r.effect in ("allowed", "advice", "derive") for r in readers), name
        exceptions = {e for r in base.rules.values() if r.effect in ("prohibited", "conditional") for e in r.exceptions}
        assert not any(r.id in exceptions for r in readers), name
