"""Proposals, assertions and an OpenAPI response validator shared by the API tests."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings

GERMLINE: dict[str, Any] = {
    "title": "CRISPR correction of a MYBPC3 mutation in spare IVF embryos",
    "activity": "basic_research",
    "purpose": "biomedical_research",
    "technique": "crispr",
    "human": {"embryo": True, "embryo_source": "spare_ivf", "embryo_culture_days": 7},
}
REPRODUCTIVE: dict[str, Any] = {
    **GERMLINE, "title": "Edited embryo transferred",
    "human": {**GERMLINE["human"], "pregnancy_intended": True},
}
PLAIN: dict[str, Any] = {
    "title": "Yeast fermentation, no modification", "activity": "production", "purpose": "industrial",
    "technique": "none",
}


def make_client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), raise_server_exceptions=False)


def problem(response: Any, status: int) -> dict[str, Any]:
    """Assert that the response is a problem document with this status; return it."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"] and body["detail"]
    return body


class OpenApi:
    """Validates responses against the schema the OpenAPI document gives for their path and status."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.paths = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in doc["paths"]
        ]

    def operation(self, method: str, url: str) -> dict[str, Any] | None:
        """The documented operation, or None for an address or method the API does not have."""
        path = url.split("?")[0]
        for exact in (True, False):
            for rx, template in self.paths:
                if rx.match(path) and (not exact or "{" not in template):
                    return self.doc["paths"][template].get(method.lower())
        return None

    def check(self, response: Any) -> None:
        req = response.request
        op = self.operation(req.method, str(req.url.raw_path, "ascii"))
        if req.url.path in ("/docs", "/openapi.json") or req.url.path.startswith("/docs-assets/"):
            return
        if op is None:  # not an operation of the API: it must still answer with a problem document
            assert response.status_code in (404, 405), (req.method, req.url.path, response.status_code)
            assert response.headers["content-type"] == "application/problem+json"
            return
        status = str(response.status_code)
        assert status in op["responses"], f"{req.method} {req.url.path}: {status} is not documented"
        content = op["responses"][status].get("content", {})
        media = response.headers.get("content-type", "").split(";")[0]
        assert media in content, f"{req.method} {req.url.path} {status}: {media} is not documented"
        schema = content[media].get("schema")
        if schema and media.endswith("json"):  # (a text/plain answer, such as /metrics, is text by definition)
            root = {**schema, "components": self.doc["components"]}
            errors = sorted(Draft202012Validator(root).iter_errors(response.json()), key=lambda e: e.path)
            assert not errors, f"{req.method} {req.url.path} {status}: " + "; ".join(
                f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
