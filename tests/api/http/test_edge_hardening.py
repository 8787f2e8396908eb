"""Small protections at the edge: the 404 page's language link, redirects under a forged Host, trusted hosts, the
docs page's headers, per-key quotas on costly calls, and the time an unknown key id takes."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from biotoets.api.http.app import create_app
from biotoets.api.http.quota import KeyQuota
from biotoets.api.settings import Settings
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from tests.api.helpers import GERMLINE

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('edge') / 'edge.db'}"
    with TestClient(create_app(Settings(database_url=url, key_quota=3)), raise_server_exceptions=False) as client:
        yield client, url


@pytest.mark.parametrize("path", ["//evil.example/x", "//evil.example", "/\\evil.example/x"])
def test_the_404_page_links_only_to_this_site(site: tuple[TestClient, str], path: str) -> None:
    client, _ = site
    r = client.get(f"http://testserver{path}", headers=HTML)
    assert r.status_code == 404
    link = re.search(r'<a href="([^"]*)" lang="nl" hreflang="nl"', r.text)
    assert link, r.text[:500]
    href = link.group(1)
    assert href.startswith("/") and href[1:2] not in ("/", "\\"), href  # a path on this site, never '//host'
    if path.startswith("//"):
        assert href == "/?lang=nl"


def test_a_trailing_slash_redirect_never_names_the_host_sent(site: tuple[TestClient, str]) -> None:
    client, _ = site
    r = client.get("/v1/rules/?effect=prohibited", headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code in (307, 308)
    assert r.headers["location"] == "/v1/rules?effect=prohibited"


def test_trusted_hosts_refuse_other_host_headers(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", trusted_hosts=("biotoets.example",))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/healthz", headers={"Host": "biotoets.example"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "127.0.0.1:8000"}).status_code == 200  # local probes
        r = client.get("/v1/rules/", headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code == 400 and "Invalid host header" in r.text


def test_trusted_hosts_come_from_the_environment_and_serve() -> None:
    from biotoets.api.cli import build_parser

    env = {"BIOTOETS_TRUSTED_HOSTS": " Biotoets.example, api.example ,"}
    assert Settings.from_env(env).trusted_hosts == ("biotoets.example", "api.example")
    args = build_parser().parse_args(["serve", "--trusted-host", "a.example", "--trusted-host", "b.example"])
    assert args.trusted_host == ["a.example", "b.example"]


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
def test_the_docs_may_not_be_framed_and_run_only_their_own_script(site: tuple[TestClient, str], path: str) -> None:
    client, _ = site
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["x-frame-options"] == "DENY"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert scripts
    for body in scripts:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_replays_past_the_quota_get_429_on_every_server(site: tuple[TestClient, str]) -> None:
    client, url = site
    db = dbm.Database(url)
    try:
        key = auth.create_key(db, "applicant", "replayer").key
    finally:
        db.dispose()
    h = {"Authorization": f"Bearer {key}"}
    check = client.post("/v1/checks", json=GERMLINE, headers=h).json()["id"]
    assert [client.post(f"/v1/checks/{check}/replay", headers=h).status_code for _ in range(3)] == [200] * 3
    r = client.post(f"/v1/checks/{check}/replay", headers=h)
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["detail"] == (f"This key has made 3 replays within 60 s, its quota; try again in "
                                  f"{r.headers['retry-after']} s.")
    # The count is in the database: a second server on it refuses too.
    with TestClient(create_app(Settings(database_url=url, key_quota=3)), raise_server_exceptions=False) as other:
        assert other.post(f"/v1/checks/{check}/replay", headers=h).status_code == 429


def test_impact_runs_past_the_quota_get_429(site: tuple[TestClient, str]) -> None:
    client, url = site
    db = dbm.Database(url)
    try:
        key = auth.create_key(db, "admin", "policy").key
    finally:
        db.dispose()
    h = {"Authorization": f"Bearer {key}"}
    codes = [client.post("/v1/impact", json={"scenario": "utopia"}, headers=h).status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]


def test_a_key_quota_frees_up_as_its_window_slides() -> None:
    now = [100.0]
    quota = KeyQuota(2, 60, clock=lambda: now[0])
    quota.spend("k", "runs")
    now[0] += 30
    quota.spend("k", "runs")
    quota.spend("other", "runs")  # per key
    with pytest.raises(Exception) as refused:
        quota.spend("k", "runs")
    assert refused.value.headers == {"Retry-After": "30"}  # type: ignore[attr-defined]
    now[0] += 30.5
    quota.spend("k", "runs")  # the first call left the window


def test_an_unknown_key_id_costs_a_hash_verification_like_a_known_one(site: tuple[TestClient, str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _, url = site
    db = dbm.Database(url)
    calls: list[str] = []
    real = auth._HASHER

    class Counting:
        def hash(self, secret: str) -> str:
            return real.hash(secret)

        def verify(self, stored: str, secret: str) -> bool:
            calls.append(secret)
            return real.verify(stored, secret)

    try:
        known = auth.create_key(db, "applicant", "timing").principal.key_id
        revoked = auth.create_key(db, "applicant", "gone").principal.key_id
        auth.revoke_key(db, revoked)
        monkeypatch.setattr(auth, "_HASHER", Counting())
        for key_id in (known, "unknownunknown00", revoked):
            assert auth.verify_key(db, f"btk_{key_id}_{'x' * 43}") is None
        assert len(calls) == 3  # one argon2 verification each, found or not
    finally:
        db.dispose()
