"""The public catalogue (rules with citations, sources), the JSON Schemas, health and the OpenAPI document."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from biotoets.api.http.problems import TYPES
from biotoets.engine.model import RuleBase

from ..conftest import Api
from ..helpers import problem


@pytest.fixture
def base(api: Api) -> RuleBase:
    """The rule base the app serves (the shipped rules)."""
    served = api.client.app.state.biotoets.service.base  # type: ignore[attr-defined]
    assert served is not None
    return served


def test_rules_are_listed_with_their_citations(api: Api, base: RuleBase) -> None:
    r = api.client.get("/v1/rules")
    assert r.status_code == 200
    doc = r.json()
    assert {rule["id"] for rule in doc["rules"]} == set(base.rules)
    assert doc["ruleset"]["hash"] == base.digest and doc["ruleset"]["rules"] == len(base.rules)
    for rule in doc["rules"]:
        if rule["effect"] in ("prohibited", "conditional"):
            assert rule["citations"], rule["id"]
            assert all(c["citation"] and c["article"] for c in rule["citations"])


def test_rules_filter_by_domain_and_effect(api: Api, base: RuleBase) -> None:
    domain = sorted(base.domains)[0]
    listed = api.client.get(f"/v1/rules?domain={domain}").json()["rules"]
    assert listed and {r["domain"] for r in listed} == {domain}
    banned = api.client.get("/v1/rules?effect=prohibited").json()["rules"]
    assert {r["id"] for r in banned} == {r.id for r in base.rules.values() if r.effect == "prohibited"}


def test_one_rule_reads_like_the_rule_file(api: Api, base: RuleBase) -> None:
    rule = base.rules["germline.reproductive-ban"]
    r = api.client.get(f"/v1/rules/{rule.id}")
    assert r.status_code == 200
    doc = r.json()["rule"]
    assert doc["id"] == rule.id and doc["effect"] == "prohibited"
    assert doc["title"] == rule.title.as_dict()
    assert doc["when"] == json.loads(json.dumps(rule.when_raw))
    assert {f["fact"] for f in doc["facts"]} == rule.facts
    assert any(c["identifier"] for c in doc["citations"])
    assert doc["links"]["self"] == f"/v1/rules/{rule.id}"


def test_exceptions_are_linked_both_ways(api: Api, base: RuleBase) -> None:
    with_exceptions = [r for r in base.rules.values() if r.exceptions]
    assert with_exceptions
    rule = with_exceptions[0]
    assert api.client.get(f"/v1/rules/{rule.id}").json()["rule"]["exceptions"] == list(rule.exceptions)
    ex = api.client.get(f"/v1/rules/{rule.exceptions[0]}").json()["rule"]
    assert rule.id in ex["exception_to"]


def test_sources_are_listed_with_their_articles(api: Api, base: RuleBase) -> None:
    doc = api.client.get("/v1/sources").json()
    assert {s["id"] for s in doc["sources"]} == set(base.sources)
    embryowet = next(s for s in doc["sources"] if s["id"] == "nl-embryowet")
    assert embryowet["identifier"] == "BWBR0013797"
    assert any(a["article"] == "art. 24 onder g" for a in embryowet["articles"])


def test_the_catalogue_is_public(api: Api) -> None:
    for path in ("/v1/rules", "/v1/sources", "/v1/schemas/proposal", "/v1/rules/germline.reproductive-ban"):
        assert api.client.get(path).status_code == 200


def test_schemas_are_the_shipped_files(api: Api) -> None:
    for name in ("proposal", "verdict"):
        r = api.client.get(f"/v1/schemas/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
        shipped = json.loads(resources.files("biotoets.schemas").joinpath(f"{name}.schema.json").read_text())
        assert r.json() == shipped


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["database"] == api.kind
    assert ready["schema_revision"]


def test_readiness_fails_when_the_database_is_unreachable(api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db = api.client.app.state.biotoets.db  # type: ignore[attr-defined]

    def down() -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(db, "ping", down)
    r = api.client.get("/readyz")
    problem(r, 503)
    assert r.headers["retry-after"]
    assert api.client.get("/healthz").status_code == 200


def test_problem_types_are_explained(api: Api) -> None:
    for slug, kind in TYPES.items():
        doc = api.client.get(f"/problems/{slug}").json()
        assert doc["type"] == kind.uri and doc["status"] == kind.status and doc["explanation"]


def test_openapi_documents_every_operation(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    expected = {
        ("post", "/v1/evaluations"): {"200", "400", "401", "403", "413", "415", "422", "500", "503"},
        ("post", "/v1/checks"): {"201", "400", "401", "403", "413", "415", "422", "500", "503"},
        ("get", "/v1/checks/{check_id}"): {"200", "401", "404", "500", "503"},
        ("get", "/v1/checks"): {"200", "400", "401", "403", "500", "503"},
        ("get", "/v1/rules"): {"200", "400", "503"},
        ("get", "/v1/rules/{rule_id}"): {"200", "404", "503"},
        ("get", "/v1/sources"): {"200", "503"},
        ("get", "/v1/schemas/{name}"): {"200", "404"},
        ("get", "/healthz"): {"200"},
        ("get", "/readyz"): {"200", "503"},
    }
    for (method, path), codes in expected.items():
        op = doc["paths"][path][method]
        assert set(op["responses"]) >= codes, (method, path, set(op["responses"]))
        assert op["summary"]
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")):
                assert "application/problem+json" in response["content"], (path, code)
    for path in ("/v1/evaluations", "/v1/checks"):
        body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Proposal"}
    assert doc["paths"]["/v1/checks"]["post"]["security"] == [{"apiKey": []}]
    assert {} in doc["paths"]["/v1/evaluations"]["post"]["security"]  # may be opened by a setting
    assert "HTTPValidationError" not in json.dumps(doc)
    schemas = doc["components"]["schemas"]
    for name in ("Proposal", "Verdict", "Check", "CheckPage", "ProblemDetails", "RuleList", "SourceList"):
        assert name in schemas
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schemas, f"dangling $ref to {ref}"


def test_docs_page_is_served_with_its_own_files(api: Api) -> None:
    r = api.client.get("/docs")
    assert r.status_code == 200 and "/openapi.json" in r.text
    assert "cdn." not in r.text and "https://" not in r.text.replace("https://fastapi.tiangolo.com", "")
    for asset, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css")):
        assert f"/docs-assets/{asset}" in r.text
        got = api.client.get(f"/docs-assets/{asset}")
        assert got.status_code == 200 and kind in got.headers["content-type"] and len(got.content) > 10_000
