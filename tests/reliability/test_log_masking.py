"""What the server logs when something fails inside it: the correlation id and what went wrong, never the proposal,
a key or a name -- even when the failure's own message quotes them (database errors list their parameters)."""

from __future__ import annotations

import io
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from biotoets.api.http.app import create_app
from biotoets.api.observability import JsonFormatter, RequestIdFilter, redact
from biotoets.api.settings import Settings
from biotoets.api.store import checks
from tests.api.helpers import GERMLINE

from .server import bearer, make_keys

MARK = "Zq" + secrets.token_hex(6)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The 'biotoets' loggers' output, formatted as ``biotoets serve`` formats it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("biotoets")
    logger.addHandler(handler)
    try:
        yield out
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path / 'masking.db'}"
    (key,) = make_keys(url, ("applicant", f"Dr. {MARK}"))
    with TestClient(create_app(Settings(database_url=url)), raise_server_exceptions=False) as c:
        yield c, key


def failing_writer(error: BaseException) -> Any:
    async def create(self: checks.CheckWriter, new: checks.NewCheck) -> checks.StoredCheck:
        raise error
    return create


def proposal() -> dict[str, Any]:
    return {**GERMLINE, "title": f"Embryo study of {MARK}", "partners": [{"name": f"{MARK} B.V.", "country": "NL"}]}


def test_a_database_error_quoting_the_proposal_is_logged_without_it(client: tuple[TestClient, str],
                                                                     captured: io.StringIO,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    c, key = client
    raw = json.dumps(proposal())
    error = OperationalError("INSERT INTO checks (title, proposal_raw) VALUES (?, ?)",
                             (f"Embryo study of {MARK}", raw), Exception("database is locked"))
    assert MARK in str(error)  # SQLAlchemy puts the parameters into the message
    monkeypatch.setattr(checks.CheckWriter, "create", failing_writer(error))
    r = c.post("/v1/checks", content=raw, headers={**bearer(key), "Content-Type": "application/json",
                                                   "X-Request-ID": "mask-1"})
    assert r.status_code == 503
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    errors = [line for line in lines if line["level"] == "error"]
    assert errors and errors[0]["request_id"] == "mask-1"
    assert r.json()["correlation_id"] in errors[0]["message"] and "database is locked" in errors[0]["message"]
    assert MARK not in captured.getvalue() and key not in captured.getvalue()


def test_an_internal_error_quoting_the_proposal_and_the_key_is_logged_without_them(
        client: tuple[TestClient, str], captured: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    c, key = client
    doc = proposal()
    monkeypatch.setattr(checks.CheckWriter, "create", failing_writer(
        RuntimeError(f"cannot store {doc!r} for Authorization: Bearer {key}, title={doc['title']!r}")))
    r = c.post("/v1/checks", json=doc, headers=bearer(key))
    assert r.status_code == 500
    out = captured.getvalue()
    record = [json.loads(line) for line in out.splitlines() if '"level":"error"' in line][0]
    assert r.json()["correlation_id"] in record["message"] and "Traceback" in record["exception"]
    assert MARK not in out and key not in out and key.split("_", 2)[2] not in out


@pytest.mark.parametrize(("text", "kept", "gone"), [
    ("key btk_abcdefghijklmnop_S3cretS3cretS3cretS3cret used", "btk_abcdefghijklmnop_", "S3cret"),
    ("Authorization: Bearer abc.def.ghi", "Authorization", "abc.def"),
    ('{"title": "Dr. X\\"s embryos", "activity": "basic_research"}', "basic_research", "Dr. X"),
    ("{'name': 'Lab of Dr. Y', 'country': 'NL'}", "'country': 'NL'", "Dr. Y"),
    ("[SQL: INSERT]\n[parameters: ('Dr. Z', '{}')]\n(Background on this error at: x)", "Background", "Dr. Z"),
    ("1 validation error\n  input_value={'title': 'Dr. W'}, input_type=dict]", "input_type=dict", "Dr. W"),
    ("Started server process [12]", "Started server process [12]", "[redacted]"),
])
def test_the_mask(text: str, kept: str, gone: str) -> None:
    masked = redact(text)
    assert kept in masked and gone not in masked
