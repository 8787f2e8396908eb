"""Malformed input of any shape gets a 4xx problem document, never a 500 (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.figures import tally

from ..conftest import Api

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
# Near-proposals: real field names with values of any type, to reach the validator's every branch.
FIELDS = ["title", "activity", "purpose", "technique", "human", "animal", "gmo", "partners", "export", "medicine",
          "knowledge", "plant", "transplant", "start_date"]
near_proposals = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
content_types = st.sampled_from([
    "application/json", "application/yaml", "text/yaml", "application/problem+json", "text/plain", "",
    "application/json; charset=utf-16", "application/vnd.api+json", "image/png",
])
PROFILE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _ok(response: Any) -> None:
    tally("junk inputs (HTTP)")
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


@PROFILE
@given(doc=st.one_of(json_values, near_proposals))
def test_any_json_document_gets_a_verdict_or_a_4xx(api: Api, applicant_key: str, doc: Any) -> None:
    r = api.client.post("/v1/evaluations", json=doc, headers=api.headers(applicant_key))
    _ok(r)
    if r.status_code == 200:
        assert r.json()["verdict"] in ("allowed", "conditional", "prohibited")


@PROFILE
@given(raw=st.binary(max_size=300), content_type=content_types)
def test_any_bytes_with_any_content_type_get_a_4xx_or_a_verdict(api: Api, applicant_key: str, raw: bytes,
                                                                content_type: str) -> None:
    headers = {"Authorization": f"Bearer {applicant_key}"}
    if content_type:
        headers["Content-Type"] = content_type
    _ok(api.client.post("/v1/checks", content=raw, headers=headers))


@PROFILE
@given(query=st.dictionaries(st.sampled_from(["as_of", "lang", "limit", "cursor", "verdict", "status", "x"]),
                             st.text(max_size=20), max_size=4))
def test_any_query_parameters_get_an_answer_or_a_4xx(api: Api, applicant_key: str, query: dict[str, str]) -> None:
    _ok(api.client.get("/v1/checks", params=query, headers=api.headers(applicant_key)))
    _ok(api.client.post("/v1/evaluations", params=query, json={"activity": "production"},
                        headers=api.headers(applicant_key)))


@PROFILE
@given(header=st.lists(st.integers(0x20, 0xFF).filter(lambda b: b != 0x7F), max_size=80).map(bytes))
def test_any_authorization_header_gets_401(api: Api, header: bytes) -> None:
    r = api.client.post("/v1/evaluations", json={"activity": "production"},
                        headers={"Content-Type": "application/json", "Authorization": header})
    _ok(r)
    assert r.status_code == 401
