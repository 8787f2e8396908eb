"""No input gives a 5xx: arbitrary integers, floats and strings in every parameter and body field of every operation.

The operations are read from the app's own OpenAPI document, so a new operation or parameter is covered without
editing this file. For each operation hypothesis draws a caller (each role), a value for every query and path
parameter, and -- where the operation takes a body -- a body whose top-level fields get arbitrary values, sent as
JSON or as YAML. Values include integers far beyond 64 bits (and beyond Python's 4,300-digit conversion limit),
non-finite floats and arbitrary text; a cursor-shaped parameter also gets cursors that encode such integers. The
answer must never be a 5xx. The number of values tried is one of the reliability figures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings
from biotoets.api.store import checks
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from tests.api.helpers import GERMLINE
from tests.figures import tally


class Digits(str):
    """An integer written out, for integers Python itself will not turn into text (over 4,300 digits)."""


HUGE = [2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**40, Digits("9" * 4301), Digits("-" + "7" * 5000)]
INTEGERS = st.one_of(st.integers(), st.sampled_from(HUGE))
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
TEXT = st.text(max_size=60)
VALUE = st.one_of(INTEGERS, FLOATS, TEXT, st.booleans() | st.none())


def _json(value: Any) -> str:
    return value if isinstance(value, Digits) else json.dumps(value)


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, Digits):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a YAML string
    if isinstance(value, float):
        return {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}.get(repr(value), repr(value))
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _targets() -> list[tuple[str, str, str, str]]:
    """(method, path, where, name) for every parameter and body field of every operation in the OpenAPI document
    (read without starting the app); ("body", "") stands for a whole body, for operations that take one."""
    spec = create_app(Settings(database_url="sqlite://")).openapi()
    found = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            found += [(method.upper(), path, p["in"], p["name"]) for p in op.get("parameters", [])
                      if p["in"] in ("query", "path")]
            if "requestBody" in op:
                found += [(method.upper(), path, "body", name) for name in [""] + _body_fields(spec, op)]
            if not op.get("parameters") and "requestBody" not in op:
                found.append((method.upper(), path, "none", ""))
    return found


def _body_fields(spec: dict[str, Any], op: dict[str, Any]) -> list[str]:
    content = op.get("requestBody", {}).get("content", {})
    schema = (content.get("application/json") or {}).get("schema", {})
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return sorted(schema.get("properties", {}))


class Site:
    def __init__(self, tmp: Path) -> None:
        url = f"sqlite:///{tmp / 'totality.db'}"
        self.app = create_app(Settings(database_url=url, auth_failure_limit=1_000_000))
        self.url = url

    def __enter__(self) -> Site:
        self.client = TestClient(self.app, raise_server_exceptions=False).__enter__()
        db = dbm.Database(self.url)
        try:
            self.keys = {role: auth.create_key(db, role, role).key for role in ("applicant", "assessor", "admin")}
        finally:
            db.dispose()
        r = self.client.post("/v1/checks", json=GERMLINE, headers=self.auth("applicant"))
        assert r.status_code == 201, r.text
        self.check_id = r.json()["id"]
        self.spec = self.client.get("/openapi.json").json()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.__exit__(*exc)

    def auth(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"} if role else {}

    def operation(self, method: str, path: str) -> dict[str, Any]:
        return self.spec["paths"][path][method.lower()]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with Site(tmp_path_factory.mktemp("totality")) as s:
        yield s


def _counted(value: Any) -> Any:
    if isinstance(value, int | Digits) and not isinstance(value, bool):
        tally("integers tried (HTTP parameters and fields)")
    return value


def _as_text(value: Any) -> str:
    _counted(value)
    if value is None:
        return ""
    return value if isinstance(value, str) else _yaml_scalar(value)


def _param_value(name: str) -> st.SearchStrategy[Any]:
    plain = VALUE.map(_as_text)
    if "cursor" in name:
        return st.one_of(plain, INTEGERS.filter(lambda n: not isinstance(n, Digits)).map(checks.encode_cursor))
    return plain


@pytest.mark.parametrize(("method", "path", "where", "name"), _targets())
@given(data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_no_input_gives_a_server_error(site: Site, method: str, path: str, where: str, name: str,
                                       data: st.DataObject) -> None:
    """One parameter or field gets an arbitrary value; the others stay absent (or, for path parameters, name
    the applicant's check), so the value reaches the code that reads it instead of failing on a neighbour."""
    op = site.operation(method, path)
    role = data.draw(st.sampled_from(["applicant", "assessor", "admin", None]), label="caller")
    params: dict[str, str] = {}
    url = path
    for p in op.get("parameters", []):
        if p["in"] == "path":
            value = data.draw(_param_value(p["name"]), label=p["name"]) if p["name"] == name else site.check_id
            url = url.replace("{" + p["name"] + "}", quote(str(value), safe="") or "_")
        elif p["in"] == "query" and p["name"] == name:
            params[name] = data.draw(_param_value(name), label=name)
    headers = site.auth(role)
    body: bytes | None = None
    if "requestBody" in op:
        doc: dict[str, Any] = dict(GERMLINE) if data.draw(st.booleans(), label="start from a proposal") else {}
        if where == "body":
            doc[name or data.draw(TEXT, label="field")] = _counted(data.draw(VALUE, label=name or "value"))
        if data.draw(st.booleans(), label="as YAML"):
            body = "".join(f"{json.dumps(k)}: {_yaml_scalar(v)}\n" for k, v in doc.items()).encode()
            headers["Content-Type"] = "application/yaml"
        else:
            body = ("{" + ", ".join(f"{json.dumps(k)}: {_json(v)}" for k, v in doc.items()) + "}").encode()
            headers["Content-Type"] = "application/json"
    tally("integers, floats and strings tried (HTTP parameters and fields)")
    r = site.client.request(method, url, params=params, content=body, headers=headers)
    assert r.status_code < 500, (method, url, params, body[:300] if body else None, r.text[:500])


@pytest.mark.parametrize("value", [str(2**63), str(2**64), "9" * 5000, "-1", "x"])
def test_audit_page_reads_any_before(site: Site, value: str) -> None:
    c = site.client
    c.cookies.clear()
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token
    signed_in = c.post("/login", data={"csrf": token.group(1), "key": site.keys["assessor"]}, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text[:2000]
    r = c.get("/audit", params={"before": value})
    assert r.status_code == 200, r.text[:300]
    assert "<table" in r.text or "audit" in r.text.lower()
    c.cookies.clear()


def test_a_cursor_beyond_64_bits_is_refused_with_its_parameter(site: Site) -> None:
    r = site.client.get("/v1/checks", params={"cursor": checks.encode_cursor(2**63)}, headers=site.auth("applicant"))
    assert r.status_code == 400
    assert r.json()["errors"][0]["parameter"] == "cursor"


def test_before_beyond_64_bits_is_refused_with_its_limit(site: Site) -> None:
    r = site.client.get("/v1/audit", params={"before": str(2**63)}, headers=site.auth("assessor"))
    assert r.status_code == 400
    assert r.json()["errors"][0] == {"parameter": "before", "detail": f"must be at most {dbm.MAX_SEQ}"}


def test_a_yaml_integer_too_long_to_read_is_a_400_that_says_so(site: Site) -> None:
    r = site.client.post("/v1/evaluations", content=b"title: x\nn: " + b"1" * 5000,
                         headers={**site.auth("applicant"), "Content-Type": "application/yaml"})
    assert r.status_code == 400
    assert "an integer of 5,000 characters is too long to read" in r.json()["detail"]


def test_the_cli_names_a_yaml_integer_too_long_to_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from biotoets.api.cli import main

    path = tmp_path / "long.yaml"
    path.write_text("title: x\nrisk: " + "4" * 4400 + "\n")
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "an integer of 4,400 characters is too long to read" in err
    assert "Traceback" not in out + err
