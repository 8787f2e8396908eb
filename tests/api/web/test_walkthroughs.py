"""End-to-end walkthroughs of the applicant's form in Chromium (issues 14 and 15).

Three real proposals -- CRISPR on spare IVF embryos, an AAV gene-therapy trial, a gain-of-function collaboration
with a university in China -- are walked from the start page to the private result and the separate submit step,
in English and in Dutch. Each walk asserts that no irrelevant question is asked, that "Back" goes to the page
before and the last question says it is the last, that the result is a private draft the assessors cannot see
until the applicant submits it, and counts the screens and questions (test-artifacts/walkthroughs.md), which must
stay within each walk's budget (the figures with the scope questions a proposal settles on the "what does the
work involve" page -- a medicinal product, a transplant -- as no pages of their own, and with the questions that add
a condition to a conditional verdict asked, as main asks them since b5b7edd). Changing
"human embryos" to No removes the embryo follow-ups from the stored draft; an all-"I don't know" walk ends in "Not
enough information yet". Every page is saved as a screenshot and checked by axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from biotoets.api.store import db as dbm
from biotoets.api.store.sessions import load_session
from biotoets.api.web import form as webform

from .conftest import Server
from .walk import Proposal, Walk, api, queue_ids, save_figures

NO = "no"
NOTHING = {"human.embryo": NO, "human.gametes": NO, "human.somatic_cells": NO, "human.subjects": NO,
           "animal.involved": NO, "plant.involved": NO, "gmo.use": "none", "medicine.medicinal_product": NO,
           "transplant.source": "none"}
EMBRYO_FOLLOW_UPS = ("human.pregnancy_intended", "human.embryo_source", "human.embryo_culture_days",
                     "human.protocol_approved")

EMBRYO = Proposal(
    "embryo", "CRISPR on donated spare IVF embryos, research only",
    {"activity": "basic_research", "technique": "crispr"},
    {**NOTHING, "human.embryo": "yes"}, {"partners": NO, "abroad": NO},
    {"human.pregnancy_intended": NO, "human.embryo_source": "spare_ivf", "human.embryo_culture_days": "7",
     "human.protocol_approved": NO, "human.supply_to_others": NO, "human.fee_above_costs": NO,
     "human.sex_selection": NO},
    irrelevant=("animal.", "transplant.", "export.", "partners.", "knowledge.", "medicine.", "plant.", "gmo."),
    budget=(9, 17))
GENE_THERAPY = Proposal(
    "gene-therapy", "AAV gene-therapy trial in patients with an inherited retinal disease",
    {"activity": "clinical_trial", "technique": "viral_vector_gene_transfer"},
    {**NOTHING, "human.subjects": "yes", "gmo.use": "release", "medicine.medicinal_product": "yes"},
    {"partners": NO, "abroad": NO},
    {"medicine.gene_therapy": "yes", "medicine.atmp": "yes", "gmo.risk": "negligible", "gmo.permit": "applied",
     "gmo.viral_vector": "yes",
     "medicine.germline_risk": NO, "medicine.trial_authorisation": "applied", "human.ethics_approval": NO,
     "medicine.marketing_authorisation": "not_applied", "medicine.orphan_condition": "yes"},
    # "Is anything transplanted?" is answered on the screening page ("nothing"): no transplant question follows
    irrelevant=("animal.", "transplant.", "export.", "partners.", "knowledge.", "plant.", "human.embryo",
                "human.pregnancy", "human.gametes", "medicine.medicinal_product"), budget=(12, 20))
GAIN_OF_FUNCTION = Proposal(
    "gain-of-function", "Gain-of-function study of an avian influenza virus with a university in China",
    {"activity": "collaboration", "technique": "synthetic_biology"},
    {**NOTHING, "gmo.use": "contained"}, {"partners": "yes", "abroad": "yes"},
    {"partners.countries": "list:CN", "export.destination_countries": "list:CN",
     "export.intangible_transfer": "yes",
     "export.technical_assistance": "yes", "export.physical_items": "yes", "partners.listed_entity": NO,
     "partners.military_end_use": NO, "gmo.containment_level": "3", "gmo.permit": "applied",
     "gmo.microorganism": "yes", "knowledge.sensitive_technology": "yes", "knowledge.screening_done": NO},
    # "a medicinal product?" is answered No on the screening page: nothing on medicines follows
    irrelevant=("human.", "animal.", "transplant.", "plant.", "medicine."), budget=(16, 24))
PROPOSALS = {p.name: p for p in (EMBRYO, GENE_THERAPY, GAIN_OF_FUNCTION)}


@pytest.fixture
def walker(browser: Browser, server: Server) -> Iterator[Page]:
    """A fresh context whose pages take the injected axe-core (the pages' CSP allows no inline script)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("name", list(PROPOSALS))
def test_a_proposal_walked_end_to_end_asks_only_relevant_questions_and_stays_private_until_submitted(
        walker: Page, server: Server, name: str, lang: str) -> None:
    walk = Walk(walker, server, PROPOSALS[name], lang)
    walk.start()
    asked = walk.questions()
    assert asked, "the walk asked no question at all"
    stored = walk.result()

    # The private result comes first: no assessor sees the draft, through the API or the queue page.
    assert api(server, "GET", f"/v1/checks/{walk.check_id}", server.assessor_key).status_code == 404
    listed = queue_ids(server)
    assert walk.check_id not in listed
    assert "draft" not in listed.values(), "the assessors' list holds a draft"
    walk.submit()
    listed = queue_ids(server)
    assert listed.get(walk.check_id) == "submitted"
    assert "draft" not in listed.values()
    assert api(server, "GET", f"/v1/checks/{walk.check_id}", server.assessor_key).status_code == 200
    assert stored["proposal"]["title"] == walk.proposal.title

    assert not walk.problems, walk.problems
    save_figures(walk)
    walk.within_budget()


def test_the_assessors_queue_page_lists_a_check_only_once_it_is_submitted(walker: Page, browser: Browser,
                                                                          server: Server) -> None:
    walk = Walk(walker, server, EMBRYO, "en")
    walk.start()
    walk.page.click("form[action='/apply/rest-unknown'] button")  # "I don't know the rest"
    walk.result()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        desk = context.new_page()
        desk.goto(f"{server.base}/login?next=/queue%3Fstatus%3Dall")
        desk.fill("#key", server.assessor_key)
        desk.click("button[type=submit].button")
        expect(desk).to_have_url(re.compile(r"/queue\?status=all$"))
        expect(desk.locator(f"#queue a[href='/checks/{walk.check_id}']")).to_have_count(0)
        walk.submit()
        desk.reload()
        expect(desk.locator(f"#queue a[href='/checks/{walk.check_id}']")).to_have_count(1)
    finally:
        context.close()


def stored_draft(server: Server, page: Page) -> dict[str, object]:
    """The form's draft as the store keeps it for this browser's session."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "biotoets_session")
    db = dbm.Database(server.env["DATABASE_URL"])
    try:
        user = load_session(db, token)
    finally:
        db.dispose()
    assert user is not None and user.draft is not None
    return user.draft


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_changing_human_embryos_to_no_removes_the_follow_ups_from_the_stored_proposal(
        walker: Page, server: Server, lang: str) -> None:
    walk = Walk(walker, server, EMBRYO, lang)
    walk.start()
    asked = walk.questions()
    answered = [f for f in EMBRYO_FOLLOW_UPS if f in asked]
    assert answered, asked
    before = webform.known(stored_draft(server, walker))
    assert before["human.embryo"] is True and all(f in before for f in answered)

    # Change "human embryos" to No from check-your-answers.
    walker.click("#answer-f-human-embryo a")
    expect(walker).to_have_url(re.compile(r"/apply/involves\?return=check$"))
    walker.check("input[name='human.embryo:answer'][value='no']")
    walk.record("involves-changed")
    walker.click("form[action='/apply/involves'] button[type=submit]")
    expect(walker).to_have_url(re.compile(r"/apply/check$"))

    # The stored draft no longer holds the follow-ups, and the page says why.
    draft = stored_draft(server, walker)
    after = webform.known(draft)
    assert after["human.embryo"] is False
    assert not [f for f in EMBRYO_FOLLOW_UPS if f in after or f in draft["unknown"]], draft
    dropped = walker.locator("#dropped")
    expect(dropped).to_contain_text(webform.texts().t("check_dropped_text", lang))
    for fact in answered:
        expect(dropped).to_contain_text(webform.fact_label(fact, lang))
        expect(walker.locator(f"#answer-{webform.field_id(fact)}")).to_have_count(0)
    walk.record("check-answers-dropped")

    # The check stored from these answers holds them neither (read back through the API).
    stored = walk.result()
    proposal = stored["proposal"]
    assert proposal["human"]["embryo"] is False
    for fact in EMBRYO_FOLLOW_UPS:
        assert fact.split(".")[1] not in proposal["human"], (fact, proposal)
    assert not walk.problems, walk.problems


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_walk_answered_i_dont_know_everywhere_ends_in_not_enough_information(walker: Page, server: Server,
                                                                                lang: str) -> None:
    unknown = {fact: webform.UNKNOWN for fact in NOTHING}
    everything = Proposal("all-unknown", "Not sure yet", {f: webform.UNKNOWN for f in EMBRYO.about}, unknown,
                          {"partners": webform.UNKNOWN, "abroad": webform.UNKNOWN}, {}, irrelevant=(),
                          budget=(5, 13))
    walk = Walk(walker, server, everything, lang)
    walk.start()
    walk.questions()
    stored = walk.result()
    assert stored["verdict"]["determined"] is False
    verdict = walker.locator("#verdict")
    expect(verdict).to_contain_text(webform.texts().t("not_enough_information", lang))
    expect(verdict).not_to_have_class(re.compile(r"\b(allowed|conditional|prohibited)\b"))
    assert not walk.problems, walk.problems
    save_figures(walk)
    walk.within_budget()
