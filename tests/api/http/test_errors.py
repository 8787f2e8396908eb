"""Every error a caller can get, as an RFC 9457 problem document -- and never a 500 for bad input."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from biotoets.api.settings import Settings
from biotoets.api.store import keys as auth
from biotoets.engine.host import EngineError

from ..conftest import Api
from ..helpers import GERMLINE, PLAIN, make_client, problem


# -- 401 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/evaluations", "/v1/checks"])
def test_no_key_is_401_with_a_bearer_challenge(api: Api, path: str) -> None:
    body = problem(api.client.post(path, json=PLAIN, headers=api.headers()), 401)
    assert body["type"] == "/problems/unauthenticated"
    r = api.client.post(path, json=PLAIN, headers=api.headers())
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_reading_checks_needs_a_key(api: Api) -> None:
    problem(api.client.get("/v1/checks"), 401)
    problem(api.client.get("/v1/checks/01900000-0000-7000-8000-000000000000"), 401)


@pytest.mark.parametrize("header", [
    "Bearer btk_nosuchkey0000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  # unknown id
    "Bearer not-a-key",
    "Basic dXNlcjpwYXNz",
    "Bearer ",
    "btk_abc",
])
def test_a_wrong_key_is_401(api: Api, header: str) -> None:
    r = api.client.post("/v1/evaluations", json=PLAIN, headers={"Content-Type": "application/json",
                                                                "Authorization": header})
    problem(r, 401)


def test_a_key_with_a_wrong_secret_is_401(api: Api, applicant_key: str) -> None:
    key_id, _ = auth.split_key(applicant_key)  # type: ignore[misc]
    forged = f"btk_{key_id}_{'x' * 43}"
    problem(api.client.post("/v1/evaluations", json=PLAIN, headers=api.headers(forged)), 401)


def test_a_revoked_key_is_401(api: Api) -> None:
    key = api.key("applicant", "to be revoked")
    auth.revoke_key(api.db, auth.split_key(key)[0])  # type: ignore[index]
    problem(api.client.post("/v1/checks", json=PLAIN, headers=api.headers(key)), 401)


def test_revocation_reaches_a_process_that_remembers_the_key_at_once(api: Api) -> None:
    with make_client(api.settings.with_(key_cache_seconds=3600, key_standing_seconds=0)) as client:
        key = api.key("applicant", "revoked while in use")
        ok = client.post("/v1/evaluations", json=PLAIN, headers=api.headers(key))
        assert ok.status_code == 200
        auth.revoke_key(api.db, auth.split_key(key)[0])  # type: ignore[index]
        problem(client.post("/v1/evaluations", json=PLAIN, headers=api.headers(key)), 401)


# -- 403 ---------------------------------------------------------------------------------------
def test_only_applicants_create_checks(api: Api, assessor_key: str, admin_key: str) -> None:
    for key in (assessor_key, admin_key):
        body = problem(api.client.post("/v1/checks", json=PLAIN, headers=api.headers(key)), 403)
        assert body["type"] == "/problems/forbidden" and "applicant" in body["detail"]


def test_an_admin_key_does_not_list_checks(api: Api, admin_key: str) -> None:
    problem(api.client.get("/v1/checks", headers=api.headers(admin_key)), 403)


# -- 404 / 405 ---------------------------------------------------------------------------------
def test_unknown_addresses_are_404_problems(api: Api, applicant_key: str) -> None:
    problem(api.client.get("/v1/nothing-here"), 404)
    problem(api.client.get("/v1/checks/" + "x" * 500, headers=api.headers(applicant_key)), 404)
    problem(api.client.get("/v1/rules/no.such.rule"), 404)
    problem(api.client.get("/v1/schemas/nonsense"), 404)
    problem(api.client.get("/problems/no-such-problem"), 404)


def test_a_wrong_method_is_405(api: Api) -> None:
    r = api.client.delete("/v1/rules")
    problem(r, 405)
    assert "GET" in r.headers["allow"]


# -- 413 ---------------------------------------------------------------------------------------
def test_a_body_over_the_limit_is_413_before_parsing(api: Api, applicant_key: str) -> None:
    big = b'{"title": "' + b"x" * (api.settings.max_body_bytes + 10) + b'"}'
    body = problem(api.client.post("/v1/checks", content=big, headers=api.headers(applicant_key)), 413)
    assert body["max_bytes"] == api.settings.max_body_bytes


def test_a_streamed_body_over_the_limit_is_413(api: Api, applicant_key: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(api.settings.max_body_bytes // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    r = api.client.post("/v1/evaluations", content=chunks(), headers=api.headers(applicant_key))
    assert "content-length" not in r.request.headers
    problem(r, 413)


# -- 415 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1", "multipart/form-data"])
def test_a_wrong_content_type_is_415(api: Api, applicant_key: str, content_type: str | None) -> None:
    headers = {"Authorization": f"Bearer {applicant_key}"}
    if content_type:
        headers["Content-Type"] = content_type
    r = api.client.post("/v1/evaluations", content=b'{"activity": "production"}', headers=headers)
    problem(r, 415)
    assert "application/json" in r.headers["accept"]


def test_json_with_utf8_charset_is_fine(api: Api, applicant_key: str) -> None:
    r = api.client.post("/v1/evaluations", content=b'{"activity": "production"}',
                        headers={"Authorization": f"Bearer {applicant_key}",
                                 "Content-Type": "application/json; charset=UTF-8"})
    assert r.status_code == 200


# -- 422 ---------------------------------------------------------------------------------------
def test_each_invalid_field_has_its_pointer_and_a_plain_message(api: Api, applicant_key: str) -> None:
    bad = {
        "activity": "cooking",
        "human": {"embryo": "maybe", "embryo_culture_days": -3},
        "partners": [{"country": "Netherlands"}, {"name": "no country"}],
        "export": {"dual_use_items": ["not-a-code"]},
        "colour": "blue",
    }
    body = problem(api.client.post("/v1/checks", json=bad, headers=api.headers(applicant_key)), 422)
    assert body["type"] == "/problems/invalid-proposal"
    by_pointer = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert by_pointer["/activity"].startswith("must be one of")
    assert by_pointer["/human/embryo"] == "must be true or false"
    assert by_pointer["/human/embryo_culture_days"] == "must be at least 0"
    assert "country code" in by_pointer["/partners/0/country"]
    assert by_pointer["/partners/1/country"] == "is required"
    assert "Annex I code" in by_pointer["/export/dual_use_items/0"]
    assert "not part of a proposal" in by_pointer["/colour"]
    assert str(len(body["errors"])) in body["detail"]


@pytest.mark.parametrize(("doc", "pointer", "detail"), [
    ({"human": {"embryo": "yes"}}, "/human/embryo", "must be true or false"),
    ({"human": {"embryo_culture_days": "7"}}, "/human/embryo_culture_days", "must be a whole number"),
    ({"human": {"embryo_culture_days": 7.5}}, "/human/embryo_culture_days", "must be a whole number"),
    ({"title": 12}, "/title", "must be text (a string)"),
    ({"partners": {"country": "NL"}}, "/partners", "must be a list"),
    ({"human": [True]}, "/human", "must be an object with fields"),
])
def test_values_are_not_guessed_at(api: Api, applicant_key: str, doc: dict[str, Any], pointer: str,
                                   detail: str) -> None:
    body = problem(api.client.post("/v1/evaluations", json=doc, headers=api.headers(applicant_key)), 422)
    assert body["errors"] == [{"pointer": pointer, "detail": detail}]


@pytest.mark.parametrize("doc", [b"[]", b'"a proposal"', b"42", b"null", b"true"])
def test_a_body_that_is_not_an_object_is_422(api: Api, applicant_key: str, doc: bytes) -> None:
    body = problem(api.client.post("/v1/evaluations", content=doc, headers=api.headers(applicant_key)), 422)
    assert body["errors"] == [{"pointer": "", "detail": "must be an object"}]


def test_nothing_is_stored_for_an_invalid_proposal(api: Api) -> None:
    key = api.key("applicant", "invalid only")
    problem(api.client.post("/v1/checks", json={"human": {"embryo": 3}}, headers=api.headers(key)), 422)
    assert api.client.get("/v1/checks", headers=api.headers(key)).json()["items"] == []


# -- 400 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b"{", b"", b"   ", b'{"a": }', b"\xff\xfe{}", b"[1, 2", b'{"title": NaN}'])
def test_unreadable_json_is_400(api: Api, applicant_key: str, raw: bytes) -> None:
    body = problem(api.client.post("/v1/evaluations", content=raw, headers=api.headers(applicant_key)), 400)
    assert body["type"] == "/problems/malformed-request"


def test_a_large_yaml_body_is_413(api: Api, applicant_key: str) -> None:
    from biotoets.api.http.receive import MAX_YAML_BYTES

    big = b"title: " + b"x" * MAX_YAML_BYTES + b"\n"
    r = api.client.post("/v1/evaluations", content=big,
                        headers={**api.headers(applicant_key), "Content-Type": "application/yaml"})
    assert "YAML" in problem(r, 413)["detail"]


def test_unreadable_yaml_is_400(api: Api, applicant_key: str) -> None:
    r = api.client.post("/v1/evaluations", content=b"a: [1, 2\nb: &x 1\n",
                        headers={**api.headers(applicant_key), "Content-Type": "application/yaml"})
    problem(r, 400)


@pytest.mark.parametrize(("query", "parameter"), [
    ("as_of=yesterday", "as_of"), ("as_of=2024-02-30", "as_of"), ("lang=fr", "lang"),
])
def test_bad_query_parameters_are_400_with_the_parameter(api: Api, applicant_key: str, query: str,
                                                         parameter: str) -> None:
    r = api.client.post(f"/v1/evaluations?{query}", json=PLAIN, headers=api.headers(applicant_key))
    body = problem(r, 400)
    assert [e["parameter"] for e in body["errors"]] == [parameter]


@pytest.mark.parametrize(("query", "parameter"), [
    ("limit=0", "limit"), ("limit=1000", "limit"), ("limit=ten", "limit"), ("verdict=maybe", "verdict"),
    ("status=lost", "status"), ("cursor=bm9uc2Vuc2U", "cursor"), ("cursor=%%%", "cursor"),
])
def test_bad_listing_parameters_are_400(api: Api, applicant_key: str, query: str, parameter: str) -> None:
    body = problem(api.client.get(f"/v1/checks?{query}", headers=api.headers(applicant_key)), 400)
    assert parameter in [e["parameter"] for e in body["errors"]]


def test_an_unknown_domain_filter_is_400(api: Api) -> None:
    body = problem(api.client.get("/v1/rules?domain=astrology"), 400)
    assert body["errors"][0]["parameter"] == "domain"


# -- 500: an internal fault carries a correlation id that is in the log --------------------------
def test_an_internal_fault_is_500_with_a_logged_correlation_id(
    api: Api, applicant_key: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    service = api.client.app.state.biotoets.service  # type: ignore[attr-defined]

    async def broken(*_args: Any) -> dict[str, Any]:
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(service, "evaluate", broken)
    key = api.key("applicant", "fault")
    with caplog.at_level(logging.ERROR, logger="biotoets.api"):
        r = api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(key))
    body = problem(r, 500)
    correlation = body["correlation_id"]
    assert r.headers["x-correlation-id"] == correlation and correlation in body["detail"]
    assert any(correlation in rec.getMessage() and rec.exc_info for rec in caplog.records)
    assert "simulated fault" not in r.text  # internals stay in the log
    monkeypatch.undo()
    assert api.client.get("/v1/checks", headers=api.headers(key)).json()["items"] == []


def test_an_engine_failure_is_500_and_stores_nothing(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    service = api.client.app.state.biotoets.service  # type: ignore[attr-defined]

    async def disagreeing(*_args: Any) -> dict[str, Any]:
        raise EngineError("durable_rules and the reference evaluator disagree")

    monkeypatch.setattr(service, "evaluate", disagreeing)
    key = api.key("applicant", "engine fault")
    body = problem(api.client.post("/v1/checks", json=GERMLINE, headers=api.headers(key)), 500)
    assert body["correlation_id"]
    monkeypatch.undo()
    assert api.client.get("/v1/checks", headers=api.headers(key)).json()["items"] == []


# -- the open-evaluations setting ----------------------------------------------------------------
def test_evaluations_can_be_opened_without_a_key(api: Api) -> None:
    with make_client(api.settings.with_(open_evaluations=True)) as client:
        r = client.post("/v1/evaluations", json=GERMLINE)
        assert r.status_code == 200 and r.json()["verdict"] == "conditional"
        problem(client.post("/v1/checks", json=GERMLINE), 401)  # storing still needs a key
        problem(client.post("/v1/evaluations", json=GERMLINE, headers={"Authorization": "Bearer wrong"}), 401)


def test_evaluations_are_closed_by_default() -> None:
    assert Settings().open_evaluations is False
    assert Settings.from_env({}).open_evaluations is False
