"""The applicant's form ends on a private result: a draft only they see, submitted to the permit office as a
separate step; and the receipt, a record of one evaluation, downloaded as a PDF whose text is read back."""

from __future__ import annotations

import io
import re
from typing import Any

import orjson
import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.web import form as webform
from biotoets.api.web.citations import cite

from ..helpers import GERMLINE
from .test_pages import sign_in


def csrf(page: Any) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def as_user(client: TestClient, key: str) -> str:
    client.cookies.clear()
    landing = sign_in(client, key)
    return csrf(client.get(landing if landing != "/" else client.get("/").headers["location"]))


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_form_ends_on_a_private_draft_and_submitting_it_is_a_separate_step(
        site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    applicant = auth.create_key(db, "applicant", "Lab").key
    assessor = auth.create_key(db, "assessor", "Permit office").key
    token = as_user(client, applicant)
    client.post("/apply", data={"csrf": token})
    client.post("/apply/about", data={"csrf": token, "title": "Private first", "activity:answer": "basic_research",
                                      "purpose:answer": "biomedical_research", "technique:answer": "crispr"})
    # a question that needs a legal distinction explains it
    assert "It is not a genetically modified organism (GMO) under the GMO rules" in client.get("/apply/involves").text
    assert client.post("/apply/rest-unknown", data={"csrf": token}).headers["location"] == "/apply/check"
    check_page = client.get("/apply/check").text
    assert "See the result" in check_page
    # "Back" goes to the page before: no question was answered, so the page about the material involved
    assert '<a class="back" href="/apply/involves">' in check_page
    assert '<a class="back" href="/apply/check">' in client.get("/apply/about?return=check").text
    r = client.post("/apply/result", data={"csrf": token})
    check = r.headers["location"].removeprefix("/checks/")
    page = client.get(f"/checks/{check}")
    assert "Only you can see this result" in page.text and "Submit to the permit office" in page.text
    assert "Draft (not submitted)" in client.get("/checks").text
    # the same answers again: the same draft, no new revision
    assert client.post("/apply/result", data={"csrf": token}).headers["location"] == f"/checks/{check}"
    assert re.search(r"BT-\d{6}/1<", client.get(f"/checks/{check}").text)

    # nobody else sees it: not the assessor's page, queue or list
    as_user(client, assessor)
    assert client.get(f"/checks/{check}").status_code == 404
    assert check not in client.get("/queue?status=all").text

    # changed answers from a new session ("resume" from My checks): the draft's next revision
    token = as_user(client, applicant)
    assert client.post(f"/checks/{check}/edit", data={"csrf": token}).headers["location"] == "/apply/check"
    assert "Private first" in client.get("/apply/check").text  # the stored answers came back
    client.post("/apply/about", data={"csrf": token, "title": "Private first", "activity:answer": "basic_research",
                                      "purpose:answer": "biomedical_research", "technique:answer": "none",
                                      "return": "check"})
    assert client.post("/apply/result", data={"csrf": token}).headers["location"] == f"/checks/{check}"
    assert re.search(r"BT-\d{6}/2<", client.get(f"/checks/{check}").text)

    r = client.post(f"/checks/{check}/submit", data={"csrf": token})
    assert r.headers["location"] == f"/checks/{check}?done=submitted"
    page = client.get(r.headers["location"])
    assert "Your check has been submitted" in page.text and "Only you can see" not in page.text
    for path in (f"/checks/{check}/submit", f"/checks/{check}/edit"):  # a submitted check's answers are fixed
        r = client.post(path, data={"csrf": token})
        assert r.status_code == 409 and "This check has already been submitted" in r.text
    as_user(client, assessor)
    assert client.get(f"/checks/{check}").status_code == 200
    assert check in client.get("/queue").text


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ("Receipt", "Case number", "Your answers", "Appendix: verification data")),
    ("nl", ("Ontvangstbewijs", "Zaaknummer", "Peildatum", "Bijlage: controlegegevens", "Onder voorwaarden")),
])
def test_the_pdf_receipt_holds_the_case_number_answers_grounds_articles_and_conditions(
        site: tuple[TestClient, dbm.Database], lang: str, words: tuple[str, ...]) -> None:
    client, db = site
    key = auth.create_key(db, "applicant", "Lab").key
    client.cookies.clear()
    check = client.post(f"/v1/checks?lang={lang}&view=full", json=GERMLINE,
                        headers={"Authorization": f"Bearer {key}"}).json()  # full: with the citations
    as_user(client, key)
    r = client.get(f"/checks/{check['id']}/receipt.pdf?lang={lang}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert f'filename="{check["case_number"]}-1.pdf"' in r.headers["content-disposition"]
    text = flat("\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(r.content)).pages))
    assert f"{check['case_number']}/1" in text
    for word in words:
        assert word in text, word
    assert GERMLINE["title"] in text
    for fact, value in (("activity", "basic_research"), ("technique", "crispr"),
                        ("human.embryo_source", "spare_ivf")):  # the answers, label and value
        assert flat(f"{webform.fact_label(fact, lang)} {webform.value_label(fact, value, lang)}") in text, fact
    verdict = check["verdict"]
    grounds = [g for g in verdict["grounds"] if g["effect"] != "derive"]
    assert grounds and verdict["conditions"]
    for g in grounds:
        for c in g["citations"]:
            assert flat(f"{cite(c['citation'], lang)}, {c['article']}") in text, c
    for c in verdict["conditions"]:
        what = c["what"][lang] if isinstance(c["what"], dict) else c["what"]
        assert flat(what) in text, what
    assert text.count("not legal advice" if lang == "en" else "geen juridisch advies") <= 1  # the disclaimer once


def test_citations_take_the_form_of_the_pages_language() -> None:
    assert cite("Reg. (EU) 2021/821", "nl") == "Verordening (EU) 2021/821"
    assert cite("Reg. (EC) 1394/2007", "nl") == "Verordening (EG) 1394/2007"
    assert cite("Dir. 2009/41/EC", "nl") == "Richtlijn 2009/41/EG"
    assert cite("CELEX 32009L0041; OJ L 125, 21.5.2009, p. 75-97", "nl") == \
        "CELEX 32009L0041; PbEU L 125, 21.5.2009, p. 75-97"
    assert cite("Reg. (EU) 2021/821", "en") == "Regulation (EU) 2021/821"
    assert cite("Dir. 2001/18/EC", "en") == "Directive 2001/18/EC"
    assert cite("Embryowet (Stb. 2002, 338)", "nl") == "Embryowet (Stb. 2002, 338)"


def test_the_result_page_leads_with_what_to_do_and_keeps_advice_apart_from_the_verdict(
        site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    key = auth.create_key(db, "applicant", "Lab").key
    client.cookies.clear()
    check = client.post("/v1/checks", json=GERMLINE, headers={"Authorization": f"Bearer {key}"}).json()
    as_user(client, key)
    page = client.get(f"/checks/{check['id']}").text
    order = [page.index(marker) for marker in ('id="verdict"', 'id="todo"', 'id="conditions"', 'id="questions"',
                                               'id="grounds"')]
    assert order == sorted(order)  # what to do before why
    # its scope questions are open (relevance): not shown as a settled verdict
    assert check["verdict"]["determined"] is False and "Not enough information yet" in page
    assert 'class="rule-id' not in page and check["ruleset_hash"] not in page  # no ids or hashes for applicants
    assert 'id="guidance"' not in page  # no advice on this verdict: no section
    # a verdict with non-binding advice, and one whose scope is not settled yet (fields of the relevance work)
    verdict = {**check["verdict"], "determined": False, "advice": [
        {"text": {"en": "Screen the partner with the Knowledge Security Desk.", "nl": "Laat de partner screenen."},
         "source": {"citation": "Nationale Leidraad Kennisveiligheid"}}]}
    with db.write() as conn:
        conn.execute(update(dbm.Check).where(dbm.Check.id == check["id"]).values(verdict_json=orjson.dumps(
            verdict).decode()))
    page = client.get(f"/checks/{check['id']}").text
    guidance = page[page.index('id="guidance"'):]
    assert "Recommended, not legally required" in guidance
    assert "Screen the partner with the Knowledge Security Desk." in guidance
    assert "Nationale Leidraad Kennisveiligheid" in guidance
    panel = page[page.index('id="verdict"'):page.index('id="todo"')]
    assert "Not enough information yet" in panel and "Conditional" not in panel and "Screen the partner" not in panel
