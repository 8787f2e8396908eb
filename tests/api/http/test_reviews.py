"""The review workflow over HTTP: the state machine, overrides with reasons, questions sent back and answered,
the review queue's filters, and every step in the audit log. Runs on SQLite and PostgreSQL; every response is
checked against the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from biotoets.api.documents import answers
from biotoets.api.store import audit
from biotoets.api.workflow import TRANSITIONS, Conflict, next_status, possible_steps

from ..conftest import Api
from ..helpers import GERMLINE, PLAIN, REPRODUCTIVE, problem

# Everything that could bring an open norm into play is answered "no": no open norms, yet incomplete.
SETTLED: dict[str, Any] = {
    **PLAIN, "title": "Settled fermentation", "gmo": {"use": "none"}, "partners": [],
    "export": {"destination_countries": [], "dual_use_items": [], "intangible_transfer": False},
    "animal": {"involved": False}, "plant": {"involved": False}, "knowledge": {"sensitive_technology": False},
    "human": {"embryo": False, "gametes": False, "somatic_cells": False, "subjects": False},
    "transplant": {"source": "none", "recipient": "none"},  # (where a xenotransplant is performed is an open norm)
}
ANIMALS: dict[str, Any] = {
    "title": "Gene-edited mice", "activity": "basic_research", "purpose": "biomedical_research",
    "technique": "crispr", "animal": {"involved": True},
}


def create(api: Api, key: str, proposal: dict[str, Any]) -> dict[str, Any]:
    r = api.client.post("/v1/checks", json=proposal, headers=api.headers(key))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def review(api: Api, key: str, check_id: str, **body: Any) -> Any:
    return api.client.post(f"/v1/checks/{check_id}/reviews", json=body, headers=api.headers(key))


def audit_rows(api: Api, subject: str) -> list[Any]:
    with api.db.read() as conn:
        return list(conn.execute(text("SELECT seq, action, actor, payload FROM audit_log WHERE subject = :s "
                                      "ORDER BY seq"), {"s": subject}))


def test_the_state_machine_allows_exactly_its_transitions() -> None:
    assert next_status("submitted", "start_review") == "in_review"
    for step in ("confirm", "override", "request_information"):
        assert next_status("submitted", step) == next_status("in_review", step) == TRANSITIONS[step][1]
    assert next_status("information_requested", "answer") == "submitted"
    for status in ("confirmed", "overridden"):
        assert possible_steps(status) == []
        for step in TRANSITIONS:
            with pytest.raises(Conflict, match="a reviewed check is final"):
                next_status(status, step)
    with pytest.raises(Conflict, match="possible now: answer"):
        next_status("information_requested", "confirm")
    with pytest.raises(Conflict, match="'answer' is not possible"):
        next_status("in_review", "answer")


def test_an_assessor_starts_and_confirms_a_review_and_the_owner_sees_the_outcome(
        api: Api, applicant_key: str, other_applicant_key: str, assessor_key: str) -> None:
    check = create(api, applicant_key, GERMLINE)
    r = review(api, assessor_key, check["id"], decision="start_review")
    assert r.status_code == 201 and r.headers["location"] == f"/v1/checks/{check['id']}/reviews"
    assert r.json()["status"] == "in_review"
    body = problem(review(api, assessor_key, check["id"], decision="start_review"), 409)
    assert body["type"] == "/problems/conflict" and "in review" in body["detail"]
    r = review(api, assessor_key, check["id"], decision="confirm", reason="Protocol and spare embryos in order.")
    state = r.json()
    assert state["status"] == "confirmed" and state["final_verdict"] == "conditional"
    assert state["outcome"]["decision"] == "confirm" and state["outcome"]["by"]["name"] == "Permit office"
    assert state["possible_steps"] == []
    problem(review(api, assessor_key, check["id"], decision="override", verdict="allowed", reason="x"), 409)

    mine = api.client.get(f"/v1/checks/{check['id']}/reviews", headers=api.headers(applicant_key)).json()
    assert mine["outcome"]["reason"] == "Protocol and spare embryos in order."
    assert [s["decision"] for s in mine["reviews"]] == ["start_review", "confirm"]
    assert api.client.get(f"/v1/checks/{check['id']}", headers=api.headers(applicant_key)).json()["status"] == \
        "confirmed"
    problem(api.client.get(f"/v1/checks/{check['id']}/reviews", headers=api.headers(other_applicant_key)), 404)
    actions = [r.action for r in audit_rows(api, check["id"])]
    assert actions == ["check.created", "review.started", "review.confirmed"]


def test_an_override_needs_a_new_verdict_and_a_reason_and_keeps_the_automated_verdict(
        api: Api, applicant_key: str, assessor_key: str) -> None:
    check = create(api, applicant_key, GERMLINE)
    body = problem(review(api, assessor_key, check["id"], decision="override"), 422)
    assert body["type"] == "/problems/invalid-input"
    assert {e["pointer"] for e in body["errors"]} == {"/verdict", "/reason"}
    body = problem(review(api, assessor_key, check["id"], decision="override", verdict="conditional",
                          reason="same"), 422)
    assert "use decision 'confirm'" in body["errors"][0]["detail"]
    body = problem(review(api, assessor_key, check["id"], decision="override", verdict="prohibited",
                          reason="   "), 422)
    assert body["errors"] == [{"pointer": "/reason", "detail": body["errors"][0]["detail"]}]
    assert api.client.get(f"/v1/checks/{check['id']}", headers=api.headers(applicant_key)).json()["status"] == \
        "submitted"  # refused steps change nothing

    reason = "The protocol foresees transfer to a uterus; art. 24 onder g applies."
    state = review(api, assessor_key, check["id"], decision="override", verdict="prohibited", reason=reason).json()
    assert state["status"] == "overridden" and state["final_verdict"] == "prohibited"
    assert state["automated_verdict"] == "conditional"
    assert state["outcome"] == {**state["outcome"], "decision": "override", "verdict": "prohibited",
                                "automated_verdict": "conditional", "reason": reason}
    stored = api.client.get(f"/v1/checks/{check['id']}", headers=api.headers(applicant_key)).json()
    assert stored["verdict"] == check["verdict"]  # the automated verdict is kept, untouched
    with api.db.read() as conn:
        row = conn.execute(text("SELECT automated_verdict, verdict, reason, actor FROM reviews WHERE check_id = :c "
                                "AND decision = 'override'"), {"c": check["id"]}).one()
    assert (row.automated_verdict, row.verdict, row.reason) == ("conditional", "prohibited", reason)
    record = audit_rows(api, check["id"])[-1]
    assert record.action == "review.overridden" and record.actor == row.actor
    data = orjson.loads(record.payload)["data"]
    assert data["reason"] == reason and data["verdict"] == "prohibited" and data["automated_verdict"] == "conditional"
    assert audit.verify(api.db).ok


@pytest.mark.parametrize(("body", "pointer"), [
    ({"decision": "approve"}, "/decision"),
    ({"decision": "confirm", "note": "x"}, "/note"),
    ({"decision": "confirm", "verdict": "prohibited"}, "/verdict"),
    ({"decision": "confirm", "questions": ["gmo.use"]}, "/questions"),
    ({"decision": "request_information", "questions": ["no.such.fact"]}, "/questions/0"),
    ({"decision": "override", "verdict": "prohibited", "reason": "x" * 5001}, "/reason"),
    ({}, "/decision"),
])
def test_invalid_reviews_are_refused_with_the_field(api: Api, applicant_key: str, assessor_key: str,
                                                    body: dict[str, Any], pointer: str) -> None:
    check = create(api, applicant_key, PLAIN)
    errors = problem(api.client.post(f"/v1/checks/{check['id']}/reviews", json=body,
                                     headers=api.headers(assessor_key)), 422)["errors"]
    assert pointer in {e["pointer"] for e in errors}, errors


def test_only_assessors_review_and_bodies_must_be_json(api: Api, applicant_key: str, admin_key: str,
                                                       assessor_key: str) -> None:
    check = create(api, applicant_key, PLAIN)
    url = f"/v1/checks/{check['id']}/reviews"
    problem(api.client.post(url, json={"decision": "confirm"}, headers=api.headers(applicant_key)), 403)
    problem(api.client.post(url, json={"decision": "confirm"}, headers=api.headers(admin_key)), 403)
    problem(api.client.post(url, json={"decision": "confirm"}, headers=api.headers()), 401)
    problem(api.client.post("/v1/checks/00000000-0000-7000-8000-000000000000/reviews", json={"decision": "confirm"},
                            headers=api.headers(assessor_key)), 404)
    problem(api.client.post(url, content=b"{not json", headers=api.headers(assessor_key)), 400)
    problem(api.client.post(url, content=b"decision: confirm",
                            headers=api.headers(assessor_key, **{"Content-Type": "application/yaml"})), 415)
    problem(api.client.post(url, content=b"", headers=api.headers(assessor_key)), 400)


def test_information_requested_answered_and_re_evaluated(api: Api, applicant_key: str, other_applicant_key: str,
                                                         assessor_key: str) -> None:
    check = create(api, applicant_key, ANIMALS)
    assert check["verdict"]["complete"] is False
    state = review(api, assessor_key, check["id"], decision="request_information",
                   questions=["animal.vertebrate", "animal.project_licence"],
                   reason="Which animals, and where does the project licence stand?").json()
    assert state["status"] == "information_requested" and state["possible_steps"] == ["answer"]
    assert [q["fact"] for q in state["requested"]] == ["animal.vertebrate", "animal.project_licence"]
    assert state["requested"][0]["question"]["en"] == "Are the animals vertebrates?"
    assert state["message"] == "Which animals, and where does the project licence stand?"
    problem(review(api, assessor_key, check["id"], decision="confirm"), 409)  # waiting for the applicant

    url = f"/v1/checks/{check['id']}/answers"
    problem(api.client.post(url, json={"answers": {"animal.vertebrate": True}}, headers=api.headers(assessor_key)),
            403)
    problem(api.client.post(url, json={"answers": {"animal.vertebrate": True}},
                            headers=api.headers(other_applicant_key)), 404)
    body = problem(api.client.post(url, json={"answers": {"animal.vertebrate": "yes"}},
                                   headers=api.headers(applicant_key)), 422)
    assert body["errors"][0]["pointer"] == "/answers/animal.vertebrate"
    body = problem(api.client.post(url, json={"answers": {"animal.project_licence": "pending"}},
                                   headers=api.headers(applicant_key)), 422)
    assert "granted" in body["errors"][0]["detail"]

    r = api.client.post(url, json={"answers": {"animal.vertebrate": True, "animal.project_licence": "not_applied",
                                               "animal.human_cells_introduced": None},
                                   "message": "Mice."}, headers=api.headers(applicant_key))
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["status"] == "submitted" and state["revision"] == 2
    assert state["automated_verdict"] == "conditional"
    assert [rv["revision"] for rv in state["revisions"]] == [1]
    assert state["revisions"][0]["verdict"] == check["verdict"]["verdict"]
    assert state["reviews"][-1]["decision"] == "answer" and state["reviews"][-1]["reason"] == "Mice."
    now = api.client.get(f"/v1/checks/{check['id']}", headers=api.headers(applicant_key)).json()
    assert now["proposal"]["animal"] == {"involved": True, "vertebrate": True, "project_licence": "not_applied"}
    assert any(c["rule"] == "animals.experiment-licence" for c in now["verdict"]["conditions"])
    problem(api.client.post(url, json={"answers": {}}, headers=api.headers(applicant_key)), 409)
    actions = [r.action for r in audit_rows(api, check["id"])]
    assert actions == ["check.created", "review.information_requested", "check.answered", "check.reevaluated"]
    # Back in the queue: the assessor can now decide on the new evaluation.
    assert review(api, assessor_key, check["id"], decision="confirm").json()["outcome"]["verdict"] == "conditional"


def test_request_information_defaults_to_the_open_questions(api: Api, applicant_key: str,
                                                            assessor_key: str) -> None:
    check = create(api, applicant_key, GERMLINE)
    state = review(api, assessor_key, check["id"], decision="request_information").json()
    open_facts = {answers.asked_as(q["fact"]) for q in check["verdict"]["questions"]}  # partners.count: the list
    assert {q["fact"] for q in state["requested"]} == open_facts
    complete = create(api, applicant_key, REPRODUCTIVE)
    body = problem(review(api, assessor_key, complete["id"], decision="request_information"), 422)
    assert body["errors"][0]["pointer"] == "/questions"


def test_the_review_queue_filters(api: Api, applicant_key: str, assessor_key: str) -> None:
    # Open norms are listed only for rules in the proposal's scope: a GMO release brings the permit's open norm.
    fresh = create(api, applicant_key, {**GERMLINE, "gmo": {"use": "release"}})  # incomplete, with open norms
    done = create(api, applicant_key, PLAIN)
    complete = create(api, applicant_key, {**REPRODUCTIVE, "gmo": {"use": "release"}})  # complete, with open norms
    settled = create(api, applicant_key, SETTLED)  # no open norms
    review(api, assessor_key, done["id"], decision="confirm")
    assert fresh["verdict"]["open_norms"] and not settled["verdict"]["open_norms"]
    assert complete["verdict"]["complete"] and not fresh["verdict"]["complete"]

    def ids(**params: Any) -> set[str]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        r = api.client.get(f"/v1/checks?limit=100&{query}", headers=api.headers(assessor_key))
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["items"]}

    awaiting = ids(status="awaiting_review")
    assert {fresh["id"], complete["id"], settled["id"]} <= awaiting and done["id"] not in awaiting
    assert done["id"] in ids(status="confirmed")
    with_norms = ids(status="awaiting_review", open_norms="true")
    assert fresh["id"] in with_norms and settled["id"] not in with_norms
    assert settled["id"] in ids(status="awaiting_review", open_norms="false")
    incomplete = ids(status="awaiting_review", incomplete="true")
    assert fresh["id"] in incomplete and complete["id"] not in incomplete
    assert complete["id"] in ids(incomplete="false", verdict="prohibited")
    with api.db.write() as conn:  # make one check three days old
        conn.execute(text("UPDATE checks SET created_at = :t WHERE id = :id"),
                     {"t": dt.datetime.now(dt.UTC) - dt.timedelta(days=3), "id": fresh["id"]})
    old = ids(status="awaiting_review", min_age_days=2)
    assert fresh["id"] in old and complete["id"] not in old
    page = api.client.get("/v1/checks?status=awaiting_review&open_norms=true&limit=1",
                          headers=api.headers(assessor_key)).json()
    assert page["next_cursor"] is not None
    assert "open_norms=true" in page["links"]["next"] and "status=awaiting_review" in page["links"]["next"]
    problem(api.client.get("/v1/checks?status=waiting", headers=api.headers(assessor_key)), 400)
    problem(api.client.get("/v1/checks?min_age_days=-1", headers=api.headers(assessor_key)), 400)


def test_the_audit_log_is_readable_by_assessors_and_admins_only(api: Api, applicant_key: str, assessor_key: str,
                                                                admin_key: str) -> None:
    check = create(api, applicant_key, PLAIN)
    review(api, assessor_key, check["id"], decision="override", verdict="conditional", reason="Industrial scale.")
    page = api.client.get(f"/v1/audit?subject={check['id']}", headers=api.headers(admin_key)).json()
    assert [i["action"] for i in page["items"]] == ["review.overridden", "check.created"]
    assert page["items"][0]["data"]["reason"] == "Industrial scale."
    assert page["items"][0]["seq"] > page["items"][1]["seq"]
    first = api.client.get("/v1/audit?limit=1", headers=api.headers(assessor_key)).json()
    assert len(first["items"]) == 1 and first["next_before"] == first["items"][0]["seq"]
    older = api.client.get(f"/v1/audit?limit=1&before={first['next_before']}",
                           headers=api.headers(assessor_key)).json()
    assert older["items"][0]["seq"] < first["items"][0]["seq"]
    problem(api.client.get("/v1/audit", headers=api.headers(applicant_key)), 403)
    # The API offers no way to change or remove a record: only GET exists on the log.
    for method in ("put", "patch", "delete", "post"):
        r = getattr(api.client, method)("/v1/audit", headers=api.headers(admin_key))
        assert r.status_code == 405


def test_openapi_documents_the_review_endpoints(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    expected = {
        ("post", "/v1/checks/{check_id}/reviews"): {"201", "400", "401", "403", "404", "409", "415", "422", "500",
                                                    "503"},
        ("get", "/v1/checks/{check_id}/reviews"): {"200", "401", "404", "500", "503"},
        ("post", "/v1/checks/{check_id}/answers"): {"200", "400", "401", "403", "404", "409", "415", "422", "500",
                                                    "503"},
        ("get", "/v1/checks/{check_id}/receipt"): {"200", "401", "404", "500", "503"},
        ("post", "/v1/checks/{check_id}/replay"): {"200", "401", "404", "409", "500", "503"},
        ("get", "/v1/audit"): {"200", "400", "401", "403", "500", "503"},
    }
    for (method, path), codes in expected.items():
        op = doc["paths"][path][method]
        assert set(op["responses"]) >= codes, (method, path, set(op["responses"]))
        assert op["security"] == [{"apiKey": []}]
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                assert "application/problem+json" in response["content"], (path, code)
    body = doc["paths"]["/v1/checks/{check_id}/reviews"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["decision"]["enum"] == ["start_review", "confirm", "override",
                                                                "request_information"]
    status = doc["paths"]["/v1/checks"]["get"]["parameters"]
    assert {p["name"] for p in status} >= {"status", "verdict", "open_norms", "incomplete", "min_age_days"}
    assert not any(path.startswith(("/apply", "/queue", "/login")) for path in doc["paths"])  # pages are not API
