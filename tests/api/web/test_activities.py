"""The activity question takes every activity that applies: ticked in the form, listed on check-your-answers, the
result and the receipt, in English and Dutch; a browser ticks two."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.web import form as webform
from biotoets.engine.model import RuleBase

from .conftest import Server
from .test_browser import answer_questions, shot, sign_in
from .test_dutch_pages import assert_dutch
from .test_private_result import as_user, flat

INVOLVES = {**{f"{f}:answer": "no" for f in ("human.gametes", "human.somatic_cells", "human.subjects",
                                            "animal.involved", "plant.involved", "medicine.medicinal_product")},
            "human.embryo:answer": "yes", "gmo.use:answer": "none", "transplant.source:answer": "none",
            "partners:answer": "no", "abroad:answer": "no"}


def test_the_activity_question_is_ticked_in_english_and_dutch(site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    token = as_user(client, auth.create_key(db, "applicant", "Lab").key)
    client.post("/apply", data={"csrf": token})
    about = client.get("/apply/about").text
    assert about.count('type="checkbox" name="activity:item"') == len(webform.widget("activity", "en").options)
    assert "Tick every one that applies." in about and "A proposal is often several things at once" in about
    # Nothing ticked: an error that says what to do.
    r = client.post("/apply/about", data={"csrf": token, "technique:answer": "none"})
    assert r.status_code == 400 and "Tick at least one, or choose &#39;I don&#39;t know&#39;" in r.text
    client.cookies.set("biotoets_lang", "nl")
    about = client.get("/apply/about").text
    assert "Vink alles aan wat van toepassing is." in about and "meer dan één ding tegelijk" in about
    r = client.post("/apply/about", data={"csrf": token, "technique:answer": "none"})
    assert r.status_code == 400 and "Vink ten minste één aan, of kies &#39;Weet ik niet&#39;" in r.text
    client.cookies.set("biotoets_lang", "en")
    # Two ticked: the draft holds both, in the question's order; the page shows them ticked again.
    r = client.post("/apply/about", data={"csrf": token, "activity:item": ["medical_treatment", "basic_research"],
                                          "technique:answer": "none"})
    assert r.status_code == 303
    again = client.get("/apply/about").text
    assert re.search(r'value="basic_research" id="f-activity" checked', again)
    assert re.search(r'value="medical_treatment" id="f-activity-medical_treatment" checked', again)
    client.post("/apply/involves", data={"csrf": token, **INVOLVES})
    client.post("/apply/rest-unknown", data={"csrf": token})
    answers = flat(client.get("/apply/check").text)
    assert "Basic research, Medical treatment" in answers
    check = client.post("/apply/result", data={"csrf": token}).headers["location"]
    result = flat(client.get(check).text)
    assert "Each activity on its own" in result
    assert '<li>Medical treatment: <span class="tag allowed">' in result  # treatment alone brings no ground
    assert re.search(r'<li>Basic research: <span class="tag conditional">.*?Conditional</span> — Research with human '
                     r"embryos: only under the conditions of the Embryo Act</li>", result)
    client.cookies.set("biotoets_lang", "nl")
    dutch = client.get(check).text
    assert "Elke activiteit apart" in dutch and "Fundamenteel onderzoek: <span" in dutch
    assert_dutch(f"{check} (activities)", dutch)
    client.cookies.set("biotoets_lang", "en")
    receipt = flat(client.get(f"{check}/receipt").text)
    assert "Basic research, Medical treatment" in receipt
    # The research part is under the Embryo Act's conditions, though treatment alone would not be.
    assert "Research with human embryos: only under the conditions of the Embryo Act" in receipt
    # The permit office sees each activity on the review page too.
    assert client.post(f"{check}/submit", data={"csrf": token}).status_code == 303
    as_user(client, auth.create_key(db, "assessor", "Permit office").key)
    review = flat(client.get(check).text)
    assert "Each activity on its own" in review and '<li>Medical treatment: <span class="tag allowed">' in review


def test_a_question_opened_by_one_ticked_activity_stays_while_it_is_ticked(base: RuleBase) -> None:
    # The trial authorisation is asked for a clinical trial: kept while clinical_trial is one of the activities.
    draft = {"proposal": {"activity": ["clinical_trial", "market"], "medicine": {"trial_authorisation": "applied"}},
             "unknown": []}
    assert webform.drop_closed(draft, base.gates) == []
    assert draft["proposal"]["medicine"] == {"trial_authorisation": "applied"}
    draft["proposal"]["activity"] = ["market", "export"]
    assert webform.drop_closed(draft, base.gates) == ["medicine.trial_authorisation"]


def test_an_applicant_ticks_two_activities_and_reads_which_brings_what(page: Page, server: Server) -> None:
    sign_in(page, server, server.applicant_key, then="/apply")
    page.click("button.start")
    expect(page).to_have_url(re.compile(r"/apply/about$"))
    page.fill("#f-title", "IVF treatment that is also embryo research")
    page.check("input[name='activity:item'][value='medical_treatment']")
    page.check("input[name='activity:item'][value='basic_research']")
    page.check("input[name='technique:answer'][value='none']")
    shot(page, "activities-1-about")
    page.click("form[action='/apply/about'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/apply/involves$"))
    for name, value in INVOLVES.items():
        page.check(f"input[name='{name}'][value='{value}']")
    page.click("form[action='/apply/involves'] button[type=submit]")
    answer_questions(page, {"medicine.medicinal_product": "no", "transplant.source": "none",
                            "human.pregnancy_intended": "yes", "human.embryo_source": "spare_ivf",
                            "human.embryo_culture_days": "5"})
    expect(page.locator("#answer-f-activity")).to_contain_text("Basic research, Medical treatment")
    shot(page, "activities-2-check-answers")
    page.click("form[action='/apply/result'] button")
    expect(page).to_have_url(re.compile(r"/checks/[0-9a-f-]{36}$"))
    expect(page.locator("#verdict")).to_have_class(re.compile("conditional"))
    expect(page.locator("article.ground").first).to_contain_text("Embryowet")
    shot(page, "activities-3-result")
