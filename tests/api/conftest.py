"""Fixtures for the HTTP API: the real app over HTTP (TestClient) on SQLite and on PostgreSQL.

Every test that takes ``api`` runs once per database. SQLite gets a fresh
file per session; PostgreSQL (127.0.0.1:5432, database ``test``, as CI starts
it) gets a fresh schema per session, dropped afterwards, so runs never collide.
``BIOTOETS_TEST_DATABASES=sqlite`` leaves PostgreSQL out on a machine without it;
otherwise a PostgreSQL that cannot be reached fails the run (it is never skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from tests.databases import DATABASES, postgres_schema

from .helpers import OpenApi


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a fresh schema of the test database, dropped at the end."""
    with postgres_schema("biotoets_test") as url:
        yield url


def database_url(kind: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'biotoets.db'}"
    return request.getfixturevalue("postgres_schema_url")


@dataclass
class Api:
    """The running app, its database and a way to make keys."""

    client: TestClient
    db: dbm.Database
    kind: str
    settings: Settings

    def key(self, role: str = "applicant", name: str = "test") -> str:
        return auth.create_key(self.db, role, name).key

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        h = {"Content-Type": "application/json", **extra}
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        return h


@pytest.fixture(scope="session", params=DATABASES)
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    kind = request.param
    url = database_url(kind, tmp_path_factory.mktemp(f"api-{kind}"), request)
    # Every test of the session shares this app and its one client address: the failed-authentication limit
    # (tested on its own in test_authz_matrix.py) must not turn the 401s that tests expect into 429s.
    settings = Settings(database_url=url, key_cache_seconds=60, auth_failure_limit=1_000_000)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        # Every response any test receives is checked against the OpenAPI document.
        spec = OpenApi(client.get("/openapi.json").json())

        def validate(response: Any) -> None:
            response.read()
            spec.check(response)

        client.event_hooks = {"request": [], "response": [validate]}
        db = dbm.Database(url)
        try:
            yield Api(client, db, kind, settings)
        finally:
            db.dispose()


@pytest.fixture(scope="session")
def applicant_key(api: Api) -> str:
    return api.key("applicant", "Lab A")


@pytest.fixture(scope="session")
def other_applicant_key(api: Api) -> str:
    return api.key("applicant", "Lab B")


@pytest.fixture(scope="session")
def assessor_key(api: Api) -> str:
    return api.key("assessor", "Permit office")


@pytest.fixture(scope="session")
def admin_key(api: Api) -> str:
    return api.key("admin", "Operations")
