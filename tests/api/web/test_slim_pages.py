"""The check and receipt pages read stored slim verdicts: with the texts of the check's own rule base, and -- that
rule base lost -- from the slim form's own texts in the check's language."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import update

from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth

from ..helpers import GERMLINE
from .test_pages import sign_in


def test_the_pages_of_a_slim_check_show_its_texts_even_when_its_rule_base_is_lost(
        site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    key = auth.create_key(db, "assessor", "Desk").key
    applicant = auth.create_key(db, "applicant", "Lab").key
    check = client.post("/v1/checks?lang=en&view=full", json=GERMLINE,
                        headers={"Authorization": f"Bearer {applicant}"}).json()
    full = check["verdict"]
    client.cookies.clear()
    sign_in(client, key)
    page = client.get(f"/checks/{check['id']}").text
    citation = full["grounds"][0]["citations"][0]
    assert full["grounds"][0]["title"]["en"] in page and citation["article"] in page  # expanded: citations too

    stored = client.get(f"/v1/checks/{check['id']}", headers={"Authorization": f"Bearer {applicant}"}).json()
    lost = {**stored["verdict"], "ruleset": {**stored["verdict"]["ruleset"], "hash": "c" * 64}}
    with db.write() as conn:
        conn.execute(update(dbm.Check).where(dbm.Check.id == check["id"]).values(verdict_json=orjson.dumps(
            lost).decode()))
    for path in (f"/checks/{check['id']}", f"/checks/{check['id']}/receipt"):
        r = client.get(path)
        assert r.status_code == 200, path
    page = client.get(f"/checks/{check['id']}").text
    # The slim form names grounds and questions by id: so does the page, in place of their lost texts.
    assert full["grounds"][0]["title"]["en"] not in page and full["grounds"][0]["rule"] in page
    assert full["questions"][0]["fact"] in page and full["verdict"] in page
