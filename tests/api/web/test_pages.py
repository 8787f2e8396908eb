"""The web pages without a browser: texts complete in both languages, sessions, CSRF, redirects, and the
mapping between the engine's facts and the proposal that the form relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from biotoets.api.documents import answers as ans
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.web import form as webform
from biotoets.engine.facts import base_facts

TEMPLATES = Path(__file__).resolve().parents[3] / "api" / "web" / "templates"


def test_every_text_a_page_uses_exists_in_dutch_and_english() -> None:
    tx = webform.texts()
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_]+)'\)", template.read_text(encoding="utf-8")))
    assert used, "no texts found in the templates"
    missing = sorted(k for k in used if k not in tx.ui)
    assert not missing, missing
    for key, entry in tx.ui.items():
        assert set(entry) == {"nl", "en"} and all(entry.values()), key


def test_every_fact_and_value_has_a_readable_label_in_both_languages() -> None:
    tx = webform.texts()
    for name, fact in base_facts().items():
        assert set(tx.facts[name]) == {"nl", "en"}, name
        if fact.kind == "enum":
            for value in fact.values:
                assert set(tx.values[name][value]) == {"nl", "en"}, (name, value)
    assert webform.value_label("gmo.permit", "applied", "nl") == "Aangevraagd, nog geen besluit"
    assert webform.value_label("human.embryo", None, "en") == "I don't know"
    assert webform.value_label("partners.countries", [], "nl") == "Geen"


def test_answers_write_facts_into_a_proposal_and_i_dont_know_removes_them() -> None:
    doc = ans.apply({}, {"human.embryo": True, "gmo.containment_level": 2, "partners.countries": ["DE", "CN"],
                         "partners.listed_entity": True, "partners.military_end_use": False})
    assert doc["human"] == {"embryo": True} and doc["gmo"] == {"containment_level": 2}
    assert doc["partners"] == [{"country": "CN", "listed_entity": True, "military_end_use": False},
                               {"country": "DE", "military_end_use": False}]  # "at least one partner" is listed
    facts = ans.known_facts(doc)
    assert facts["partners.listed_entity"] is True and facts["partners.count"] == 2
    doc = ans.apply(doc, {"human.embryo": None, "partners.countries": ["DE"]})
    assert "human" not in doc  # an object left empty says nothing and is dropped
    assert doc["partners"] == [{"country": "DE", "military_end_use": False}]
    for fact, value, message in [("human.embryo", "yes", "true or false"), ("gmo.use", "lab", "one of"),
                                 ("gmo.containment_level", 5, "at most 4"),
                                 ("partners.countries", ["de"], "country codes"),
                                 ("export.dual_use_items", ["XYZ"], "Annex I"),
                                 ("partners.count", 3, "not a fact that can be answered")]:
        with pytest.raises(ans.AnswerError, match=message):
            ans.apply({}, {fact: value})
    with pytest.raises(ans.AnswerError, match="countries first"):
        ans.apply({}, {"partners.listed_entity": True})
    assert ans.asked_as("export.dual_use_items.count") == "export.dual_use_items"


def test_the_form_asks_open_questions_in_the_verdicts_relevance_order() -> None:
    verdict = {"questions": [{"fact": "gmo.use", "could_lead_to": "prohibited", "rules": []},
                             {"fact": "partners.count", "could_lead_to": "conditional", "rules": []},
                             {"fact": "gmo.permit", "could_lead_to": "prohibited", "rules": []},
                             {"fact": "partners.listed_entity", "could_lead_to": "prohibited", "rules": []}]}
    draft = webform.new_draft()
    assert webform.open_questions(verdict, draft) == ["gmo.use", "partners.countries", "gmo.permit"]
    draft["unknown"] = ["gmo.use", "partners.countries"]  # "I don't know" is never asked again
    assert webform.open_questions(verdict, draft) == ["gmo.permit"]


def test_a_screening_answer_states_its_facts_or_answers_them_i_dont_know_and_a_change_opens_them_again() -> None:
    verdict = {"questions": [{"fact": "partners.count", "could_lead_to": "conditional", "rules": []},
                             {"fact": "export.destination_countries", "could_lead_to": "prohibited", "rules": []}]}
    draft = webform.new_draft()
    webform.set_screening(draft, "partners", "no")
    assert webform.known(draft)["partners.countries"] == []
    assert webform.open_questions(verdict, draft) == ["export.destination_countries"]
    # "I don't know whether there are partners": their countries are not asked again, and not shown twice
    webform.set_screening(draft, "partners", webform.UNKNOWN)
    assert "partners.countries" not in webform.known(draft) and draft["unknown"] == ["partners.countries"]
    assert webform.open_questions(verdict, draft) == ["export.destination_countries"]
    rows = webform.answer_rows("en", draft["proposal"], draft["unknown"], [], editable=True,
                               hide_screened=draft["screening"])
    assert [r["fact"] for r in rows] == []
    # "yes": the countries are the next question; an answer given, then "I don't know" again, leaves no value
    webform.set_screening(draft, "partners", "yes")
    assert draft["unknown"] == [] and webform.open_questions(verdict, draft)[0] == "partners.countries"
    webform.set_answer(draft, "partners.countries", webform.Read("partners.countries", True, ["DE"]))
    webform.set_screening(draft, "partners", webform.UNKNOWN)
    assert "partners.countries" not in webform.known(draft) and draft["unknown"] == ["partners.countries"]


def test_answers_whose_gate_closed_leave_the_draft(base) -> None:
    draft = webform.new_draft()
    draft["proposal"] = {"animal": {"involved": True, "vertebrate": True, "cephalopod": False},
                         "gmo": {"use": "contained", "containment_level": 2}}
    draft["unknown"] = ["gmo.permit"]
    assert webform.drop_closed(draft, base.gates) == []
    draft["proposal"]["animal"]["involved"] = False
    draft["proposal"]["gmo"]["use"] = "none"
    dropped = webform.drop_closed(draft, base.gates)
    assert set(dropped) == {"animal.vertebrate", "animal.cephalopod", "gmo.containment_level", "gmo.permit"}
    assert draft["proposal"] == {"animal": {"involved": False}, "gmo": {"use": "none"}}
    assert draft["unknown"] == [] and set(draft["dropped"]) == set(dropped)



def sign_in(client: TestClient, key: str, next_path: str = "") -> str:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = client.post("/login", data={"csrf": token.group(1), "key": key, "next": next_path})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def test_sessions_cookies_and_redirects(site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    client.cookies.clear()
    new = auth.create_key(db, "assessor", "Desk")
    assert client.get("/queue").headers["location"] == "/login?next=%2Fqueue"
    assert sign_in(client, new.key, "//evil.example/") == "/"  # never an open redirect
    cookie = client.cookies.get("biotoets_session")
    assert cookie and len(cookie) >= 40
    page = client.get("/queue")
    assert page.status_code == 200 and "Checks to review" in page.text
    assert "Decision support, not legal advice" in page.text
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in \
        page.headers["content-security-policy"]
    dutch = client.get("/queue?lang=nl")
    assert "Toetsen om te beoordelen" in dutch.text and "Beslissingsondersteuning" in dutch.text
    assert '<html lang="nl">' in client.get("/queue").text  # the choice is remembered
    client.get("/queue?lang=en")
    auth.revoke_key(db, new.principal.key_id)
    assert client.get("/queue").headers["location"].startswith("/login")  # revoked: signed out at once


def test_the_sign_in_form_needs_its_token_and_tells_what_is_wrong(site: tuple[TestClient, dbm.Database]) -> None:
    client, _ = site
    client.cookies.clear()
    r = client.post("/login", data={"csrf": "made-up", "key": "btk_x_" + "y" * 30})
    assert r.status_code == 403 and "expired" in r.text
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"csrf": token, "key": ""})
    assert r.status_code == 400 and 'href="#key"' in r.text and "Enter your API key" in r.text
    r = client.post("/login", data={"csrf": token, "key": "btk_x_" + "y" * 30})
    assert r.status_code == 401 and "This key is not valid" in r.text


def test_an_applicant_may_not_review_and_forms_need_the_session_token(site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    client.cookies.clear()
    key = auth.create_key(db, "applicant", "Lab").key
    assert sign_in(client, key) == "/"
    assert client.get("/").headers["location"] == "/apply"
    assert client.get("/queue").status_code == 403
    own = client.get("/audit")  # an applicant's audit page: only the records about their own checks
    assert own.status_code == 200 and 'Action">session.started' not in own.text
    assert client.post("/apply", data={"csrf": "wrong"}).status_code == 403
    assert client.get("/checks/00000000-0000-7000-8000-000000000000").status_code == 404
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/apply").text).group(1)  # type: ignore[union-attr]
    assert client.post("/apply", data={"csrf": token}).headers["location"] == "/apply/about"
    r = client.post("/apply/about", data={"csrf": token, "activity:answer": "unknown", "purpose:answer": "unknown"})
    assert r.status_code == 400
    assert 'href="#f-technique"' in r.text  # the error summary links to the field
    assert client.get("/apply/q/partners.count").status_code == 404  # asked through partners.countries
    r = client.post("/logout", data={"csrf": token})
    assert r.headers["location"] == "/login?out=1"
    assert client.get("/apply").headers["location"].startswith("/login")


def test_signing_in_and_out_is_in_the_audit_chain_without_the_token(site: tuple[TestClient, dbm.Database]) -> None:
    from sqlalchemy import text

    from biotoets.api.store import audit

    client, db = site
    client.cookies.clear()
    made = auth.create_key(db, "assessor", "Audited desk")
    assert sign_in(client, made.key) == "/"
    token = client.cookies.get("biotoets_session")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/queue").text).group(1)  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.post("/logout", data={"csrf": csrf}).headers["location"].startswith("/login")  # already out
    with db.read() as conn:
        rows = conn.execute(text("SELECT actor, action, subject, payload FROM audit_log WHERE subject = :k "
                                 "ORDER BY seq"), {"k": made.principal.key_id}).all()
    assert [r.action for r in rows] == ["key.created", "session.started", "session.ended"]
    assert {r.actor for r in rows[1:]} == {made.principal.key_id}
    assert all(token not in r.payload and made.key not in r.payload for r in rows)
    assert audit.verify(db).ok


def test_a_form_sent_twice_at_once_stores_one_check(site: tuple[TestClient, dbm.Database]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import text

    client, db = site
    client.cookies.clear()
    made = auth.create_key(db, "applicant", "Double clicker")
    sign_in(client, made.key)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/apply").text).group(1)  # type: ignore[union-attr]
    for _ in range(3):  # three forms, each sent four times at once
        assert client.post("/apply", data={"csrf": csrf}).status_code == 303
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda _: client.post("/apply/result", data={"csrf": csrf}), range(4)))
        targets = {r.headers["location"] for r in answers}
        assert {r.status_code for r in answers} == {303}
        checks_sent_to = {t for t in targets if t.startswith("/checks/")}
        assert len(checks_sent_to) == 1, targets  # every click lands on the same check (or back at the form)
    with db.read() as conn:
        stored = conn.execute(text("SELECT count(*) FROM checks WHERE owner = :o"),
                              {"o": made.principal.key_id}).scalar()
    assert stored == 3


def test_rotating_a_key_ends_its_web_sessions(site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    client.cookies.clear()
    made = auth.create_key(db, "assessor", "Rotated desk")
    sign_in(client, made.key)
    assert client.get("/queue").status_code == 200
    assert auth.rotate_key(db, made.principal.key_id) is not None
    assert client.get("/queue").headers["location"].startswith("/login")


def test_a_key_that_expires_ends_its_web_sessions(site: tuple[TestClient, dbm.Database]) -> None:
    from sqlalchemy import text

    client, db = site
    client.cookies.clear()
    made = auth.create_key(db, "assessor", "Expiring desk")
    sign_in(client, made.key)
    assert client.get("/queue").status_code == 200
    with db.write() as conn:
        conn.execute(text("UPDATE api_keys SET expires_at = :t WHERE id = :k"),
                     {"t": "2020-01-01 00:00:00.000000+00:00", "k": made.principal.key_id})
    assert client.get("/queue").headers["location"].startswith("/login")


def test_closed_facts_the_document_derives_stay_and_dropping_ends(base) -> None:
    # "No partners" states an empty partner list; the partners' flags are read from that list (false), their
    # gate (partners.count > 0) is closed, and they cannot be removed on their own: they stay, and the loop ends.
    draft = webform.new_draft()
    webform.set_screening(draft, "partners", "no")
    assert webform.drop_closed(draft, base.gates) == []
    assert draft["proposal"]["partners"] == [] and "dropped" not in draft
