"""Dutch pages are entirely in Dutch: a walk through every page a Dutch reader can meet -- the applicant's form,
the private result, the receipt, the review pages, the audit log, the error pages, each error message of the
review and answers forms and the 409 of the review workflow -- that fails on an English word left on a page.

Identifiers a person copies (hashes, check ids, the audit log's action names, codes of lists) are set in
``class="mono"`` and are not words of the page; everything else must be Dutch. Cases from the case base, one per
domain and more, put the rules' own texts (titles, conditions, citations, open norms) on the pages too."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from biotoets.api.documents import answers as ans
from biotoets.api.store import audit
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.web import form as webform

from ..helpers import GERMLINE
from .test_private_result import as_user, csrf

CASEBASE = Path(__file__).resolve().parents[3] / "casebase"

# Words that are English and not Dutch (Dutch shares "in", "is", "of", "over", "test", "die", ...). A page word in
# this list is English left on a Dutch page.
ENGLISH = frozenset("""
the and with for not from this that which must should would could been has have are was were will can't don't
possible now nothing review reviewed check checks submitted confirmed overridden information requested
regulation directive annex article decision verdict prohibited conditional allowed outcome answer answers
question questions unknown yes no none any every there their your you please only when where what why how
authorisation licence permit required needs need give given before after then than also other such these those
whole number text list field fields object request page not found access denied error problem try again
germline animals knowledge medicines sanctions unverified toxin pathogen unlisted xenotransplantation human chimera
modification genetic animal organism item items outside
""".split())
# Words allowed although English: names and loanwords Dutch uses as they are.
ALLOWED = frozenset({"biotoets", "crispr", "cas", "durable_rules", "api", "pdf", "prime", "base", "editing",
                     "gene", "drive", "sha", "btk_"})


def visible_text(page: str) -> str:
    """A page's visible text, outside scripts, styles and ``mono`` identifiers."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    text = re.sub(r'<(\w+)[^>]*class="[^"]*\bmono\b[^"]*"[^>]*>.*?</\1>', " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


def english_left(page: str) -> list[str]:
    """The English words of a page's visible text."""
    found = []
    for word in re.findall(r"[A-Za-z][A-Za-z'_]*", visible_text(page)):
        w = word.lower()
        if w not in ALLOWED and (w in ENGLISH or "_" in w.strip("_")):  # an identifier is no Dutch word either
            found.append(word)
    return found


def dutch(client: TestClient, path: str, status: int = 200) -> str:
    r = client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == status, (path, r.status_code, r.text[:300])
    assert_dutch(path, r.text)
    return r.text


def assert_dutch(where: str, page: str) -> None:
    left = sorted(set(english_left(page)))
    text = visible_text(page)
    where_in = [text[max(0, m.start() - 60):m.end() + 60] for w in left[:8]
                for m in [re.search(rf"\b{re.escape(w)}\b", text)] if m]
    assert not left, f"English on the Dutch page {where}: {left}\n" + "\n".join(where_in)


def cases(*files: str) -> list[dict[str, Any]]:
    out = []
    for name in files:
        for case in yaml.safe_load((CASEBASE / f"{name}.yaml").read_text(encoding="utf-8"))["cases"]:
            out.append(case["proposal"])
    return out


def test_the_checker_finds_english() -> None:
    assert english_left("<p>The check is submitted</p>") == ["The", "check", "submitted"]
    assert english_left('<p>De toets <span class="mono">check.created</span> is ingediend</p>') == []
    assert english_left("<th>could_become</th>") == ["could_become"]


@pytest.fixture
def nl(site: tuple[TestClient, dbm.Database]) -> tuple[TestClient, dbm.Database]:
    client, db = site
    client.cookies.clear()
    client.get("/login?lang=nl")  # the language cookie
    return client, db


def sign_in_nl(client: TestClient, key: str) -> str:
    token = as_user(client, key)
    client.cookies.set("biotoets_lang", "nl")
    return token


def test_the_applicant_pages_are_dutch(nl: tuple[TestClient, dbm.Database]) -> None:
    client, db = nl
    dutch(client, "/login")
    dutch(client, "/no-such-page", 404)
    token = sign_in_nl(client, auth.create_key(db, "applicant", "Lab").key)
    dutch(client, "/queue", 403)
    dutch(client, "/apply")
    client.post("/apply", data={"csrf": token})
    dutch(client, "/apply/about")
    r = client.post("/apply/about", data={"csrf": token, "title": "x" * 600})  # an error on the page
    assert_dutch("/apply/about (errors)", r.text)
    client.post("/apply/about", data={"csrf": token, "title": "Export", "activity:answer": "collaboration",
                                      "purpose:answer": "biomedical_research", "technique:answer": "crispr"})
    dutch(client, "/apply/involves")
    r = client.post("/apply/involves", data={"csrf": token})  # nothing answered: an error per line
    assert_dutch("/apply/involves (errors)", r.text)
    involves = {"csrf": token, **{f"{f}:answer": "no" for f in (
        "human.embryo", "human.gametes", "human.somatic_cells", "human.subjects", "animal.involved",
        "plant.involved", "medicine.medicinal_product")}, "gmo.use:answer": "none", "transplant.source:answer": "none",
        "partners:answer": "yes", "abroad:answer": "yes"}
    r = client.post("/apply/involves", data=involves)
    seen = 0
    while r.status_code == 303 and r.headers["location"].startswith(("/apply/q/", "/apply/next")):
        page = client.get(r.headers["location"], follow_redirects=True)
        assert_dutch(str(page.url), page.text)
        fact = str(page.url).rsplit("/", 1)[-1]
        wrong = client.post(f"/apply/q/{fact}", data={"csrf": token, "answer": "list", "codes": "??"})
        assert_dutch(f"{page.url} (error)", wrong.text)
        r = client.post(f"/apply/q/{fact}", data={"csrf": token, "answer": "unknown"})
        seen += 1
    assert seen >= 3
    dutch(client, "/apply/check")
    r = client.post("/apply/result", data={"csrf": token})
    check = r.headers["location"]
    dutch(client, check)
    dutch(client, "/checks")
    dutch(client, f"{check}/receipt")
    dutch(client, f"/audit?subject={check.removeprefix('/checks/')}")  # the applicant's own records
    client.post(f"{check}/submit", data={"csrf": token})
    dutch(client, f"{check}?done=submitted")
    r = client.post(f"{check}/submit", data={"csrf": token})  # twice: already submitted
    assert r.status_code == 409
    assert_dutch("submit twice", r.text)
    r = client.post(f"{check}/edit", data={"csrf": token})
    assert r.status_code == 409
    assert_dutch("edit after submit", r.text)


DOMAINS = ["core", "germline", "xeno", "animals", "gmo", "medicines", "knowledge", "sanctions", "policy"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_results_reviews_and_receipts_of_the_case_base_are_dutch(nl: tuple[TestClient, dbm.Database],
                                                                 domain: str) -> None:
    client, db = nl
    applicant = auth.create_key(db, "applicant", "Lab").key
    assessor = auth.create_key(db, "assessor", "Bureau").key
    ids = []
    for n, proposal in enumerate(cases(domain)):  # (a title is the applicant's own words: a Dutch one here)
        r = client.post("/v1/checks", json={**proposal, "title": f"Voorstel {n}"},
                        headers={"Authorization": f"Bearer {applicant}"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    sign_in_nl(client, applicant)
    for check in ids:
        dutch(client, f"/checks/{check}")
        dutch(client, f"/checks/{check}/receipt")
    sign_in_nl(client, assessor)
    dutch(client, "/queue")
    for check in ids:
        dutch(client, f"/checks/{check}")


def test_every_review_error_and_the_409_are_dutch(nl: tuple[TestClient, dbm.Database]) -> None:
    client, db = nl
    applicant = auth.create_key(db, "applicant", "Lab").key
    check = client.post("/v1/checks", json={**GERMLINE, "title": "Embryo's", "human": {"embryo": True}},
                        headers={"Authorization": f"Bearer {applicant}"}).json()["id"]
    token = sign_in_nl(client, auth.create_key(db, "assessor", "Bureau").key)
    review = f"/checks/{check}/review"
    bad = [
        ({"decision": ""}, 400),
        ({"decision": "override"}, 422),  # no verdict, no reason
        ({"decision": "override", "verdict": "conditional", "reason": "x"}, 422),  # the automated verdict
        ({"decision": "override", "verdict": "prohibited"}, 422),  # no reason
        ({"decision": "request_information", "questions": "zomaar.iets"}, 422),
        ({"decision": "override", "verdict": "prohibited", "reason": "x" * 5001}, 422),
    ]
    for data, status in bad:
        r = client.post(review, data={"csrf": token, **data})
        assert r.status_code == status, (data, r.status_code)
        assert_dutch(f"review {data}", r.text)
        assert 'class="error-summary"' in r.text or "error-summary" in r.text
    assert client.post(review, data={"csrf": token, "decision": "confirm"}).status_code == 303
    dutch(client, f"/checks/{check}?done=review")
    r = client.post(review, data={"csrf": token, "decision": "confirm"})  # a final check: the workflow's 409
    assert r.status_code == 409
    assert_dutch("review of a final check", r.text)
    assert "Deze toets is bevestigd" in r.text
    dutch(client, "/audit")
    dutch(client, f"/audit?subject={check}")
    r = client.post(f"/checks/{check}/replay", data={"csrf": token})
    assert_dutch("replay", r.text)


def test_the_answers_form_and_its_409_are_dutch(nl: tuple[TestClient, dbm.Database]) -> None:
    client, db = nl
    applicant = auth.create_key(db, "applicant", "Lab").key
    assessor = auth.create_key(db, "assessor", "Bureau").key
    check = client.post("/v1/checks", json={**GERMLINE, "title": "Embryo's"},
                        headers={"Authorization": f"Bearer {applicant}"}).json()["id"]
    r = client.post(f"/v1/checks/{check}/reviews", headers={"Authorization": f"Bearer {assessor}"},
                    json={"decision": "request_information",
                          "questions": ["human.pregnancy_intended", "partners.listed_entity"]})
    assert r.status_code == 201, r.text
    token = sign_in_nl(client, applicant)
    dutch(client, f"/checks/{check}")
    r = client.post(f"/checks/{check}/answers", data={"csrf": token})  # nothing chosen
    assert r.status_code == 400
    assert_dutch("answers (errors)", r.text)
    # a partner on a sanctions list without any partner's country: the answer cannot be written
    r = client.post(f"/checks/{check}/answers", data={"csrf": token, "human.pregnancy_intended:answer": "no",
                                                      "partners.listed_entity:answer": "yes"})
    assert r.status_code == 422, r.text[:300]
    assert_dutch("answers (partners first)", r.text)
    r = client.post(f"/checks/{check}/answers", data={"csrf": token, "human.pregnancy_intended:answer": "no",
                                                      "partners.listed_entity:answer": "unknown"})
    assert r.status_code == 303
    r = client.post(f"/checks/{check}/answers", data={"csrf": token, "human.pregnancy_intended:answer": "no"})
    assert r.status_code == 409  # answered already: the workflow's refusal, in Dutch
    assert_dutch("answers twice", r.text)
    assert csrf(r)


def test_every_audit_action_and_every_fact_a_ground_shows_has_dutch_words(
        site: tuple[TestClient, dbm.Database]) -> None:
    tx = webform.texts()
    assert set(audit.ACTIONS) <= set(tx.audit["actions"])
    base = site[0].app.state.biotoets.service.base
    shown = set(ans.facts()) | {r.derives for r in base.rules.values() if r.derives}
    assert not {f for f in shown if webform.fact_label(f, "nl") == f}
