"""The engine host: one thread, fail closed, dated law."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from biotoets.engine import reference
from biotoets.engine.evaluate import Engine, EngineDisagreement
from biotoets.engine.host import DurableHost, EngineError, EngineThreadError

from ..conftest import TODAY

GERMLINE = {"activity": "basic_research", "technique": "crispr",
            "human": {"embryo": True, "pregnancy_intended": True}}


def test_engine_refuses_a_second_thread(engine):
    errors = []

    def other():
        try:
            engine.evaluate(GERMLINE, TODAY)
        except EngineThreadError as exc:
            errors.append(exc)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert len(errors) == 1
    assert "second thread" in str(errors[0])
    assert engine.evaluate(GERMLINE, TODAY)["verdict"] == "prohibited"  # the owner still works


def test_concurrent_callers_never_enter_durable_rules_together(engine, monkeypatch):
    """Two threads hammering one engine: every foreign call is refused before durable_rules is touched."""
    import durable_rules_engine as dre

    inside = []
    real = dre.assert_fact

    def spy(handle, fact):
        inside.append(threading.get_ident())
        return real(handle, fact)

    monkeypatch.setattr(dre, "assert_fact", spy)
    if engine.host.results_only:  # the results-only call of the patched build asserts too
        real_fired = dre.assert_fact_fired

        def spy_fired(*args):
            inside.append(threading.get_ident())
            return real_fired(*args)

        monkeypatch.setattr(dre, "assert_fact_fired", spy_fired)
    refused = []

    def worker():
        for _ in range(50):
            try:
                engine.fire({}, TODAY)
            except EngineThreadError:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(50):
        engine.fire({}, TODAY)
    for t in threads:
        t.join()
    assert len(refused) == 200
    assert set(inside) == {threading.get_ident()}


def test_disagreement_fails_closed(engine, monkeypatch):
    real = reference.rule_statuses

    def wrong(base, facts, on):
        statuses, derived = real(base, facts, on)
        statuses["germline.reproductive-ban"] = False
        return statuses, derived

    monkeypatch.setattr(reference, "rule_statuses", wrong)
    with pytest.raises(EngineDisagreement) as info:
        engine.evaluate(GERMLINE, TODAY)
    assert "germline.reproductive-ban" in str(info.value)
    assert "no verdict" in str(info.value)


def test_law_of_a_past_date(engine):
    before = engine.evaluate(GERMLINE, date(2000, 1, 1))
    after = engine.evaluate(GERMLINE, TODAY)
    assert before["verdict"] == "allowed" and after["verdict"] == "prohibited"
    assert before["ruleset"]["as_of"] == "2000-01-01"
    assert before["ruleset"]["rules_in_force"] < after["ruleset"]["rules_in_force"]


def test_verdict_names_its_rule_base_and_disclaims(engine, base):
    v = engine.evaluate(GERMLINE, TODAY, lang="nl")
    assert v["ruleset"]["hash"] == base.digest
    assert v["ruleset"]["scenario"] is None
    assert v["lang"] == "nl" and v["summary"].startswith("Op grond van")
    assert "geen juridisch advies" in v["disclaimer"]["nl"]
    assert "not legal advice" in v["disclaimer"]["en"]


def test_grounds_carry_facts_and_article_citations(engine):
    v = engine.evaluate(GERMLINE, TODAY)
    ban = next(g for g in v["grounds"] if g["rule"] == "germline.reproductive-ban")
    assert ban["facts"]["human.pregnancy_intended"] is True
    arts = {(c["source"], c["article"]) for c in ban["citations"]}
    assert ("nl-embryowet", "art. 24 onder g") in arts
    cite = next(c for c in ban["citations"] if c["article"] == "art. 24 onder g")
    assert cite["identifier"] == "BWBR0013797" and cite["url"].startswith("https://wetten.overheid.nl/")


def test_why_not_names_the_fact_that_would_lower_it(engine):
    v = engine.evaluate(GERMLINE, TODAY)
    lower = [c for c in v["changes"] if c["fact"] == "human.pregnancy_intended"]
    assert lower and lower[0]["to"] is False and lower[0]["verdict"] == "conditional"
    assert "germline.embryo-research" in lower[0]["rules"]


# Every scope question answered "no" (what the proposal does not involve), so that follow-ups are asked.
SCOPE_NO = {"human": {"embryo": False, "gametes": False, "subjects": False}, "animal": {"involved": False},
            "transplant": {"source": "none"}, "plant": {"involved": False}, "gmo": {"use": "none"},
            "medicine": {"medicinal_product": False}, "partners": [],
            "export": {"intangible_transfer": False, "destination_countries": []}}


def test_unknown_pregnancy_is_not_allowed_and_done(engine):
    v = engine.evaluate({"activity": "basic_research", "technique": "crispr", "human": {"embryo": True}}, TODAY)
    assert v["complete"] is False and v["could_become"] == "prohibited"
    assert v["determined"] is False  # what else it involves is asked first (gametes, animals, ...)
    v = engine.evaluate({**SCOPE_NO, "activity": "basic_research", "technique": "crispr",
                         "human": {"embryo": True, "gametes": False, "subjects": False}}, TODAY)
    assert v["complete"] is False and v["could_become"] == "prohibited" and v["determined"] is True
    assert "human.pregnancy_intended" in {q["fact"] for q in v["questions"]}


def test_nee_tenzij_licence_unknown_is_conditional_and_may_fall(engine):
    p = {**SCOPE_NO, "activity": "production", "purpose": "agriculture_food", "technique": "crispr",
         "animal": {"involved": True, "early_stage_only": False},
         "gmo": {"use": "contained", "permit": "granted", "containment_level": 1}}
    v = engine.evaluate(p, TODAY)
    assert v["verdict"] == "conditional" and v["could_fall_to"] == "allowed"
    q = next(q for q in v["questions"] if q["fact"] == "animal.biotech_licence")
    assert q["question"]["nl"] and q["question"]["en"]


def test_host_reports_c_errors_as_engine_errors():
    host = DurableHost()
    with pytest.raises(EngineError):
        host.register("bad", '{"r": {"all": [{"p": {"$in": {"x": 1}}}]}}', "{}")


def test_unregister_frees_rulesets(base):
    e = Engine(base, name="tmp")
    names = list(e.host.names())
    assert names
    e.close()
    assert not list(e.host.names())
