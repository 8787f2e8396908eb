"""The form asks what goes abroad as the organism, material or equipment in words, never as Annex I codes: one
checkbox per item, each shown with the codes the tool maps it to; the answer is kept in words and shown with its
codes on 'check your answers' and the result."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect

from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth

from ...browser import screenshot_path
from .conftest import Server
from .test_accessibility import AXE, OVERFLOW, RUN
from .test_browser import choose, fill_start, sign_in
from .test_private_result import as_user

NO_MATERIAL = {f"{f}:answer": "no" for f in ("human.embryo", "human.gametes", "human.somatic_cells", "human.subjects",
                                             "animal.involved", "plant.involved", "medicine.medicinal_product")}


def start(client: TestClient, token: str) -> Any:
    client.post("/apply", data={"csrf": token})
    client.post("/apply/about", data={"csrf": token, "title": "Toxin to a partner", "activity:answer": "collaboration",
                                      "purpose:answer": "biomedical_research", "technique:answer": "none"})
    return client.post("/apply/involves", data={"csrf": token, **NO_MATERIAL, "gmo.use:answer": "none",
                                                "transplant.source:answer": "none",
                                                "partners:answer": "no", "abroad:answer": "yes"})


# Where things go is a scope question: the items are asked once something is known to go abroad.
SCOPE = {"export.destination_countries": {"answer": "list", "codes": "US"},
         "export.intangible_transfer": {"answer": "no"}}


def walk_to(client: TestClient, token: str, r: Any, fact: str, asked: list[str]) -> str:
    """Answer the scope questions (``SCOPE``) and 'I don't know' to every other question before ``fact``; the
    question pages seen on the way."""
    while r.status_code == 303 and r.headers["location"].startswith(("/apply/q/", "/apply/next")):
        page = client.get(r.headers["location"], follow_redirects=True)
        here = str(page.url).rsplit("/", 1)[-1]
        asked.append(here)
        if here == fact:
            return page.text
        r = client.post(f"/apply/q/{here}", data={"csrf": token, **SCOPE.get(here, {"answer": "unknown"})})
    raise AssertionError(f"{fact} was not asked; asked: {asked}")


def test_items_are_asked_in_words_with_their_codes_and_never_as_codes(site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    token = as_user(client, auth.create_key(db, "applicant", "Lab").key)
    asked: list[str] = []
    page = walk_to(client, token, start(client, token), "export.items", asked)
    assert "export.dual_use_items" not in asked
    assert 'type="checkbox" name="item" value="toxin"' in page
    assert "A toxin on the list, or a subunit of one (1C351.d)" in page
    assert "a fermenter or bioreactor of 20 litres or more" in page and "2B352.b" in page
    assert "e.g. botulinum toxin, ricin" in page  # examples under the words
    # nothing ticked and no 'I don't know': the error says what to do
    r = client.post("/apply/q/export.items", data={"csrf": token})
    assert r.status_code == 400
    assert "Select at least one kind, or &#39;I don&#39;t know&#39;" in r.text
    r = client.post("/apply/q/export.items", data={"csrf": token, "item": ["toxin", "other_unlisted"]})
    assert r.status_code == 303
    r = client.post("/apply/rest-unknown", data={"csrf": token})
    check = client.get("/apply/check").text
    assert "A toxin on the list, or a subunit of one (1C351.d)" in check and "Something other than the above" in check
    r = client.post("/apply/result", data={"csrf": token})
    result = client.get(r.headers["location"]).text
    assert "(1C351.d)" in result
    # the codes question is not asked twice on the result: the items were answered in words
    assert "Which items from Annex I" not in result


def test_the_items_question_is_dutch_and_shows_an_answer_again(site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    token = as_user(client, auth.create_key(db, "applicant", "Lab").key)
    client.cookies.set("biotoets_lang", "nl")
    page = walk_to(client, token, start(client, token), "export.items", [])
    assert "Een toxine van de lijst, of een subeenheid ervan (1C351.d)" in page
    r = client.post("/apply/q/export.items", data={"csrf": token})
    assert "Kies ten minste één soort, of &#39;Weet ik niet&#39;" in r.text
    client.post("/apply/q/export.items", data={"csrf": token, "item": "plant_pathogen"})
    again = client.get("/apply/q/export.items?return=check").text
    assert 'value="plant_pathogen" id="f-export-items-plant_pathogen" checked' in again
    # 'I don't know' keeps the fact unknown
    client.post("/apply/q/export.items", data={"csrf": token, "answer": "unknown"})
    assert "Weet ik niet" in client.get("/apply/check").text


def test_in_a_browser_the_items_are_ticked_by_their_words_and_the_page_passes_axe_at_phone_width(
        browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL", bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, server, server.applicant_key, then="/apply", lang="nl")
        fill_start(page, "Toxine naar een partner", {"activity": "collaboration",
                                                     "technique": "none"},
                   {"human.embryo": "no", "human.gametes": "no", "human.somatic_cells": "no", "human.subjects": "no",
                    "animal.involved": "no", "plant.involved": "no", "gmo.use": "none",
                    "medicine.medicinal_product": "no", "transplant.source": "none"},
                   {"partners": "no", "abroad": "yes"})
        asked = []
        while "/apply/q/export.items" not in page.url:
            assert "/apply/q/" in page.url, page.url
            asked.append(page.url)
            if "/apply/q/export.destination_countries" in page.url:  # where it goes: a scope question
                choose(page, "answer", "list")
                page.fill("input[name='codes']", "US")
            elif "/apply/q/export.intangible_transfer" in page.url:
                choose(page, "answer", "no")
            else:
                choose(page, "answer", "unknown")
            page.click("form[action^='/apply/q/'] button[type=submit]")
        assert not [u for u in asked if "dual_use_items" in u]
        expect(page.locator("h1")).to_have_text("Wat gaat er naar de partner of bestemming? Kies alles wat van "
                                                "toepassing is.")
        page.get_by_label("Een toxine van de lijst, of een subeenheid ervan (1C351.d)").check()
        page.get_by_label(re.compile(r"^Apparatuur voor biologisch materiaal")).check()
        page.add_script_tag(path=str(AXE))
        found = [v for v in page.evaluate(RUN) if v["impact"] in ("serious", "critical")]
        assert not found, found
        assert page.evaluate(OVERFLOW) == []
        page.screenshot(path=str(screenshot_path("web-items-in-words-390")), full_page=True)
        page.click("form[action^='/apply/q/'] button[type=submit]")
        page.click("form[action='/apply/rest-unknown'] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/apply/check$"))
        expect(page.locator("main")).to_contain_text("Een toxine van de lijst, of een subeenheid ervan (1C351.d)")
        expect(page.locator("main")).to_contain_text("2B352.b")
    finally:
        context.close()
