""""What would change it" (the verdict's ``changes``) is computed only when asked, and kept per check."""

from __future__ import annotations

from biotoets.api.store import receipts

from ..conftest import Api
from ..helpers import GERMLINE


def _lowering(v: dict) -> list[dict]:
    return [c for c in v["changes"] if c["fact"] == "human.embryo"]


def test_an_evaluation_explains_only_when_asked(api: Api, applicant_key: str) -> None:
    plain = api.client.post("/v1/evaluations", json=GERMLINE, headers=api.headers(applicant_key))
    assert plain.status_code == 200 and plain.json()["changes"] == []
    asked = api.client.post("/v1/evaluations?include=changes", json=GERMLINE, headers=api.headers(applicant_key))
    assert asked.status_code == 200 and _lowering(asked.json())
    rest = {k: v for k, v in asked.json().items() if k != "changes"}
    assert rest == {k: v for k, v in plain.json().items() if k != "changes"}


def test_an_unknown_include_is_refused(api: Api, applicant_key: str) -> None:
    r = api.client.post("/v1/evaluations?include=everything", json=GERMLINE, headers=api.headers(applicant_key))
    assert r.status_code in (400, 422)


def test_a_stored_check_explains_on_request_and_keeps_it(api: Api, applicant_key: str, monkeypatch) -> None:
    created = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key))
    assert created.status_code == 201 and created.json()["verdict"]["changes"] == []
    url = created.headers["location"]
    assert api.client.get(url, headers=api.headers(applicant_key)).json()["verdict"]["changes"] == []

    asked = api.client.post("/v1/evaluations?include=changes", json=GERMLINE, headers=api.headers(applicant_key))
    first = api.client.get(url + "?include=changes", headers=api.headers(applicant_key))
    assert first.status_code == 200
    assert first.json()["verdict"]["changes"] == asked.json()["changes"] and _lowering(first.json()["verdict"])

    def no_second_computation(*args: object) -> None:
        raise AssertionError("computed twice")

    monkeypatch.setattr(receipts._server_engines, "changes", no_second_computation)
    again = api.client.get(url + "?include=changes", headers=api.headers(applicant_key))
    assert again.json() == first.json()
    # Asking changes nothing stored.
    assert api.client.get(url, headers=api.headers(applicant_key)).json()["verdict"]["changes"] == []


def test_another_key_cannot_ask_for_a_checks_changes(api: Api, applicant_key: str, other_applicant_key: str) -> None:
    created = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(applicant_key))
    r = api.client.get(created.headers["location"] + "?include=changes", headers=api.headers(other_applicant_key))
    assert r.status_code == 404
