"""A private result first: a draft check is its owner's alone until they submit it; the check's case number
never changes while its revisions count up; and the check tells the assessor's decision once there is one."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from biotoets.api import workflow
from biotoets.api.faults import CheckNotFound
from biotoets.api.store import checks, reviews
from biotoets.api.store import keys as auth
from biotoets.api.store.crosscheck import crosscheck
from biotoets.api.store.keys import Principal

from ..conftest import Api
from ..helpers import GERMLINE, REPRODUCTIVE


def principal(api: Api, key: str) -> Principal:
    found = auth.verify_key(api.db, key)
    assert found is not None
    return found


def draft(api: Api, key: str, proposal: dict[str, Any] = GERMLINE) -> checks.StoredCheck:
    """A draft as the web form stores it: evaluated, kept, seen by no one else."""
    verdict = api.client.post("/v1/evaluations", json=proposal, headers=api.headers(key)).json()
    raw = orjson.dumps(proposal).decode()
    return checks.create(api.db, checks.NewCheck(principal(api, key), raw, "application/json", proposal,
                                                 proposal.get("title"), verdict, "en", status="draft"))


def test_a_draft_is_seen_by_its_owner_only_until_it_is_submitted(api: Api, applicant_key: str,
                                                                 assessor_key: str,
                                                                 other_applicant_key: str) -> None:
    check = draft(api, applicant_key)
    assessor = principal(api, assessor_key)
    assert checks.readable(api.db, check.id, principal(api, applicant_key)).status == "draft"
    for outsider in (assessor, principal(api, other_applicant_key)):
        with pytest.raises(CheckNotFound):
            checks.readable(api.db, check.id, outsider)
    assert api.client.get(f"/v1/checks/{check.id}", headers=api.headers(assessor_key)).status_code == 404
    for status in ("awaiting_review", None, "draft"):
        assert check.id not in {c["id"] for c in reviews.queue(api.db, status=status)}
    listed, _ = checks.list_page(api.db, assessor, limit=100, before=None, verdict=None, status=None)
    assert check.id not in {c["id"] for c in listed}
    mine = api.client.get("/v1/checks?status=draft", headers=api.headers(applicant_key)).json()["items"]
    assert check.id in {c["id"] for c in mine}

    # only its owner submits it, once; then assessors see it
    with pytest.raises(CheckNotFound):
        reviews.submit(api.db, check.id, principal(api, other_applicant_key))
    assert reviews.submit(api.db, check.id, principal(api, applicant_key)) == {"status": "submitted"}
    assert checks.readable(api.db, check.id, assessor).status == "submitted"
    assert check.id in {c["id"] for c in reviews.queue(api.db)}
    with pytest.raises(workflow.Conflict):
        reviews.submit(api.db, check.id, principal(api, applicant_key))
    steps = reviews.state(api.db, checks.readable(api.db, check.id, assessor))["reviews"]
    assert [(s["decision"], s["from_status"], s["to_status"]) for s in steps] == [("submit", "draft", "submitted")]
    # The audit log tells the same story as the tables: created as a draft, then submitted.
    assert [p for p in crosscheck(api.db) if check.id in p] == []


def test_changed_answers_on_a_draft_are_its_next_revision_under_the_same_case_number(
        api: Api, applicant_key: str) -> None:
    check = draft(api, applicant_key)
    me = principal(api, applicant_key)
    assert check.case_number is not None and re.fullmatch(r"BT-\d{6,}", check.case_number)
    assert check.reference == f"{check.case_number}/1"
    verdict = api.client.post("/v1/evaluations", json=REPRODUCTIVE, headers=api.headers(applicant_key)).json()
    assert reviews.store_draft(api.db, check, me, REPRODUCTIVE, verdict) == 2
    again = checks.readable(api.db, check.id, me)
    assert again.status == "draft" and again.revision == 2 and again.verdict["verdict"] == "prohibited"
    assert again.case_number == check.case_number and again.reference == f"{check.case_number}/2"
    with pytest.raises(workflow.Conflict):  # the revision it was about is gone: no lost update
        reviews.store_draft(api.db, check, me, REPRODUCTIVE, verdict)
    doc = api.client.get(f"/v1/checks/{check.id}", headers=api.headers(applicant_key)).json()
    assert doc["case_number"] == check.case_number and doc["reference"] == f"{check.case_number}/2"
    receipt = api.client.get(f"/v1/checks/{check.id}/receipt", headers=api.headers(applicant_key)).json()
    assert receipt["case"] == f"{check.case_number}/2"


def test_case_numbers_are_distinct_and_given_when_the_check_is_stored(api: Api, applicant_key: str) -> None:
    made = [api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key)).json()
            for _ in range(3)]
    numbers = [c["case_number"] for c in made]
    assert len(set(numbers)) == 3 and all(re.fullmatch(r"BT-\d{6,}", n) for n in numbers)
    for c in made:
        assert c["reference"] == f"{c['case_number']}/1" and c["revision"] == 1
        got = api.client.get(f"/v1/checks/{c['id']}", headers=api.headers(applicant_key)).json()
        assert got["case_number"] == c["case_number"]


@pytest.mark.parametrize(("decision", "verdict", "reason"), [
    ("confirm", None, None), ("override", "prohibited", "The embryos will be transferred: see section 3."),
])
def test_the_check_tells_the_decision_its_reason_and_the_final_verdict(
        api: Api, applicant_key: str, assessor_key: str, decision: str, verdict: str | None,
        reason: str | None) -> None:
    check = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key)).json()
    assert check["decision"] is None and check["final_verdict"] is None
    body: dict[str, Any] = {"decision": decision, **({"verdict": verdict} if verdict else {}),
                            **({"reason": reason} if reason else {})}
    r = api.client.post(f"/v1/checks/{check['id']}/reviews", json=body, headers=api.headers(assessor_key))
    assert r.status_code == 201, r.text
    got = api.client.get(f"/v1/checks/{check['id']}", headers=api.headers(applicant_key)).json()
    final = verdict or check["verdict"]["verdict"]
    assert got["status"] == ("confirmed" if decision == "confirm" else "overridden")
    assert got["final_verdict"] == final
    assert got["decision"]["decision"] == decision and got["decision"]["verdict"] == final
    assert got["decision"]["reason"] == reason and got["decision"]["at"]
    assert got["verdict"]["verdict"] == check["verdict"]["verdict"]  # the automated verdict is kept
