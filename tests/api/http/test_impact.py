"""Policy scenarios and impact analysis over HTTP: admins only, the case base under today's rules and a scenario."""

from __future__ import annotations

import pytest

from ..conftest import Api


def test_admin_lists_the_scenarios(api: Api, admin_key: str) -> None:
    r = api.client.get("/v1/scenarios", headers=api.headers(admin_key))
    assert r.status_code == 200
    ids = {s["id"] for s in r.json()["scenarios"]}
    assert {"embryowet-36416", "ngt-plants", "xeno-research-motion"} <= ids
    assert "not current law" in r.json()["disclaimer"]


def test_admin_runs_an_impact_analysis(api: Api, admin_key: str) -> None:
    r = api.client.post("/v1/impact", json={"scenario": "embryowet-36416", "as_of": "2026-11-28"},
                        headers=api.headers(admin_key))
    assert r.status_code == 200
    report = r.json()
    moved = {(c["id"], c["from"], c["to"]) for c in report["changes"]}
    assert ("germline-embryos-created-for-research", "prohibited", "conditional") in moved
    assert report["matrix"]["prohibited"]["conditional"] >= 1
    assert report["scenario"]["is_current_law"] is False
    assert report["changed"] <= report["total"]


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("applicant", 403), ("assessor", 403)])
def test_impact_is_for_admins_only(api: Api, role: str | None, status: int) -> None:
    key = api.key(role, f"impact-{role}") if role else None
    assert api.client.get("/v1/scenarios", headers=api.headers(key)).status_code == status
    r = api.client.post("/v1/impact", json={"scenario": "ngt-plants"}, headers=api.headers(key))
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")


def test_impact_errors(api: Api, admin_key: str) -> None:
    r = api.client.post("/v1/impact", json={"scenario": "utopia"}, headers=api.headers(admin_key))
    assert r.status_code == 404 and "There is no scenario 'utopia'" in r.json()["detail"]
    r = api.client.post("/v1/impact", json={"scenario": "ngt-plants", "extra": 1}, headers=api.headers(admin_key))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/extra"
    r = api.client.post("/v1/impact", json={}, headers=api.headers(admin_key))
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/scenario"
    r = api.client.post("/v1/impact", content=b"{", headers=api.headers(admin_key))
    assert r.status_code == 400
    r = api.client.post("/v1/impact", content=b"scenario: ngt-plants",
                        headers=api.headers(admin_key, **{"Content-Type": "text/plain"}))
    assert r.status_code == 415
