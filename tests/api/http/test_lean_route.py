"""POST /v1/checks takes a lean path when its parameters are plain (``deps.plain_check_params``), and FastAPI's
handler otherwise: both must answer every request alike -- the same check, the same problem for a wrong
parameter, the same refusal of a missing or wrong key, in the same order (the key is checked first)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from starlette.requests import Request

from biotoets.api.http.deps import plain_check_params

from ..conftest import Api
from ..helpers import GERMLINE, problem

# The parts of a stored check that differ from one check to the next, whatever path stored it.
OWN = ("id", "case_number", "reference", "created_at", "links")


def request(query: str = "", keys: tuple[bytes, ...] = ()) -> Request:
    headers = [(b"content-type", b"application/json"), *((b"idempotency-key", k) for k in keys)]
    return Request({"type": "http", "method": "POST", "path": "/v1/checks", "query_string": query.encode(),
                    "headers": headers})


@pytest.mark.parametrize(("query", "keys", "expected"), [
    ("", (), (None, None, None, "slim")),
    ("as_of=2024-06-01&lang=nl&view=full", (b"order-1",), (date(2024, 6, 1), "nl", "order-1", "full")),
    ("view=slim&lang=en&page=3", (), (None, "en", None, "slim")),  # a parameter the route does not take: ignored
    ("", (b"~" * 200,), (None, None, "~" * 200, "slim")),
])
def test_plain_parameters_are_read_as_they_are(query: str, keys: tuple[bytes, ...], expected: Any) -> None:
    assert plain_check_params(request(query, keys)) == expected


@pytest.mark.parametrize(("query", "keys"), [
    ("as_of=2024-02-30", ()), ("as_of=20240601", ()), ("as_of=", ()), ("as_of=2024-6-1", ()),
    ("lang=fr", ()), ("lang=EN", ()), ("view=compact", ()), ("view=", ()),
    ("lang=en&lang=nl", ()), ("view=full&view=full", ()),
    ("", (b"a", b"b")), ("", (b"x" * 201,)), ("", (b"",)), ("", ("é".encode(),)), ("", (b"two words",)),
])
def test_anything_else_is_left_to_fastapi(query: str, keys: tuple[bytes, ...]) -> None:
    assert plain_check_params(request(query, keys)) is None


def stored(api: Api) -> int:
    with api.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM checks")).scalar())


def without_own(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in OWN}


@pytest.mark.parametrize("query", ["?as_of=2024-06-01&lang=nl", "?as_of=2024-06-01&view=full"])
def test_both_paths_store_the_same_check(api: Api, applicant_key: str, query: str) -> None:
    # A parameter given twice (the same value) goes through FastAPI's handler, which reads the last one.
    name, value = query.rsplit("&", 1)[1].split("=")
    lean = api.client.post(f"/v1/checks{query}", json=GERMLINE, headers=api.headers(applicant_key))
    full = api.client.post(f"/v1/checks{query}&{name}={value}", json=GERMLINE, headers=api.headers(applicant_key))
    assert lean.status_code == full.status_code == 201
    assert lean.headers["content-language"] == full.headers["content-language"]
    assert without_own(lean.json()) == without_own(full.json())
    assert lean.json()["id"] != full.json()["id"]  # two checks were stored


@pytest.mark.parametrize(("query", "parameter"), [
    ("?as_of=2024-02-30", "as_of"), ("?as_of=tomorrow", "as_of"), ("?lang=fr", "lang"), ("?view=compact", "view"),
])
def test_a_wrong_parameter_is_a_400_and_stores_nothing(api: Api, applicant_key: str, query: str,
                                                       parameter: str) -> None:
    before = stored(api)
    body = problem(api.client.post(f"/v1/checks{query}", json=GERMLINE, headers=api.headers(applicant_key)), 400)
    assert body["type"] == "/problems/malformed-request"
    assert [e["parameter"] for e in body["errors"]] == [parameter]
    assert stored(api) == before


@pytest.mark.parametrize("query", ["", "?lang=fr"])
def test_the_key_is_checked_before_the_parameters(api: Api, assessor_key: str, query: str) -> None:
    before = stored(api)
    missing = problem(api.client.post(f"/v1/checks{query}", json=GERMLINE, headers=api.headers()), 401)
    assert missing["type"] == "/problems/unauthenticated"
    wrong = problem(api.client.post(f"/v1/checks{query}", json=GERMLINE,
                                    headers=api.headers("btk_nosuchkey_" + "x" * 30)), 401)
    assert "not valid" in wrong["detail"]
    refused = problem(api.client.post(f"/v1/checks{query}", json=GERMLINE, headers=api.headers(assessor_key)), 403)
    assert refused["type"] == "/problems/forbidden" and "'assessor'" in refused["detail"]
    assert stored(api) == before
