"""Who may do what: every endpoint of the OpenAPI document x every kind of caller, with the status each must get.

Callers: no key, applicant A (who owns the checks used), applicant B, an assessor, an admin, a revoked key and a
malformed key. The table must name every operation the live OpenAPI document has (and nothing else), so a new
endpoint fails this test until someone decides who may call it. Beyond the statuses: nobody lists or reads a
check that is not theirs; keys are stored only as argon2 hashes (the key appears nowhere in the database, not
even in SQLite's files); failed authentication is rate-limited per address (429 with Retry-After).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from biotoets.api.http.app import create_app
from biotoets.api.http.ratelimit import FailureLimiter
from biotoets.api.settings import Settings
from biotoets.api.store import keys as auth

from ..conftest import Api
from ..helpers import GERMLINE, PLAIN, OpenApi, make_client, problem

CALLERS = ("none", "applicant A", "applicant B", "assessor", "admin", "revoked", "malformed")
PUBLIC = dict.fromkeys(CALLERS, 200)


def expect(none: int, a: int, b: int, assessor: int, admin: int) -> dict[str, int]:
    """Statuses for each caller; a revoked or malformed key is always refused as unauthenticated."""
    return dict(zip(CALLERS, (none, a, b, assessor, admin, 401, 401), strict=True))


@dataclass
class World:
    api: Api
    keys: dict[str, str | None]

    def check(self, status: str = "submitted") -> str:
        """A fresh check of applicant A, moved by the assessor into ``status`` if asked."""
        r = self.api.client.post("/v1/checks", json=GERMLINE, headers=self.api.headers(self.keys["applicant A"]))
        assert r.status_code == 201
        check_id = str(r.json()["id"])
        if status == "information_requested":
            r = self.api.client.post(f"/v1/checks/{check_id}/reviews", headers=self.api.headers(self.keys["assessor"]),
                                     json={"decision": "request_information", "reason": "Is a pregnancy intended?"})
            assert r.status_code == 201, r.text
        return check_id


Request = Callable[[World], tuple[str, dict[str, Any]]]


def at(path: str, **kw: Any) -> Request:
    return lambda w: (path, kw)


def on_check(path: str, status: str = "submitted", **kw: Any) -> Request:
    return lambda w: (path.format(check_id=w.check(status)), kw)


# (method, OpenAPI path) -> (how to make the request, expected status per caller)
MATRIX: dict[tuple[str, str], tuple[Request, dict[str, int]]] = {
    ("POST", "/v1/evaluations"): (at("/v1/evaluations", json=PLAIN), expect(401, 200, 200, 200, 200)),
    ("POST", "/v1/checks"): (at("/v1/checks", json=PLAIN), expect(401, 201, 201, 403, 403)),
    ("GET", "/v1/checks"): (at("/v1/checks"), expect(401, 200, 200, 200, 403)),
    ("GET", "/v1/checks/{check_id}"): (on_check("/v1/checks/{check_id}"), expect(401, 200, 404, 200, 404)),
    ("POST", "/v1/checks/{check_id}/reviews"): (
        on_check("/v1/checks/{check_id}/reviews", json={"decision": "start_review"}), expect(401, 403, 403, 201, 403)),
    ("GET", "/v1/checks/{check_id}/reviews"): (
        on_check("/v1/checks/{check_id}/reviews"), expect(401, 200, 404, 200, 404)),
    ("POST", "/v1/checks/{check_id}/answers"): (
        on_check("/v1/checks/{check_id}/answers", "information_requested",
                 json={"answers": {"human.pregnancy_intended": False}}), expect(401, 200, 404, 403, 403)),
    ("GET", "/v1/checks/{check_id}/receipt"): (
        on_check("/v1/checks/{check_id}/receipt"), expect(401, 200, 404, 200, 404)),
    ("POST", "/v1/checks/{check_id}/replay"): (
        on_check("/v1/checks/{check_id}/replay"), expect(401, 200, 404, 200, 404)),
    ("GET", "/v1/audit"): (at("/v1/audit"), expect(401, 403, 403, 200, 200)),
    ("GET", "/metrics"): (at("/metrics"), expect(401, 403, 403, 403, 200)),
    ("GET", "/v1/scenarios"): (at("/v1/scenarios"), expect(401, 403, 403, 403, 200)),
    ("POST", "/v1/impact"): (at("/v1/impact", json={"scenario": "ngt-plants", "as_of": "2026-11-28"}),
                             expect(401, 403, 403, 403, 200)),
    ("GET", "/v1/rules"): (at("/v1/rules"), PUBLIC),
    ("GET", "/v1/rules/{rule_id}"): (at("/v1/rules/xeno.ban"), PUBLIC),
    ("GET", "/v1/sources"): (at("/v1/sources"), PUBLIC),
    ("GET", "/v1/questions"): (at("/v1/questions"), PUBLIC),
    ("GET", "/v1/schemas/{name}"): (at("/v1/schemas/proposal"), PUBLIC),
    ("GET", "/healthz"): (at("/healthz"), PUBLIC),
    ("GET", "/readyz"): (at("/readyz"), PUBLIC),
    ("GET", "/problems/{slug}"): (at("/problems/forbidden"), PUBLIC),
}


@pytest.fixture(scope="module")
def world(api: Api, applicant_key: str, other_applicant_key: str, assessor_key: str, admin_key: str) -> World:
    revoked = api.key("applicant", "revoked before use")
    assert auth.revoke_key(api.db, revoked.split("_")[1])
    return World(api, {"none": None, "applicant A": applicant_key, "applicant B": other_applicant_key,
                       "assessor": assessor_key, "admin": admin_key, "revoked": revoked,
                       "malformed": "btk_not-a-key"})


def test_the_matrix_names_every_operation_of_the_api(api: Api) -> None:
    documented = {(method.upper(), path) for path, ops in api.client.get("/openapi.json").json()["paths"].items()
                  for method in ops}
    assert documented - set(MATRIX) == set(), "endpoints nobody has decided who may call: add them to MATRIX"
    assert set(MATRIX) - documented == set(), "MATRIX names endpoints the API no longer has"


@pytest.mark.parametrize("operation", list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_every_caller_gets_the_status_its_role_allows(world: World, operation: tuple[str, str]) -> None:
    method, _ = operation
    make, expected = MATRIX[operation]
    got = {}
    for caller in CALLERS:
        path, kw = make(world)
        r = world.api.client.request(method, path, headers=world.api.headers(world.keys[caller]), **kw)
        got[caller] = r.status_code
        if r.status_code >= 400:
            body = problem(r, r.status_code)
            assert GERMLINE["title"] not in r.text and "spare IVF" not in body["detail"]
        if r.status_code == 401:
            assert r.headers["www-authenticate"].startswith("Bearer")
    assert got == expected


def test_nobody_lists_or_reads_checks_that_are_not_theirs(world: World) -> None:
    api, keys = world.api, world.keys
    mine = world.check()
    ids_of = {}
    for caller in ("applicant A", "applicant B", "assessor"):
        seen: set[str] = set()
        cursor = None
        while True:  # every page
            r = api.client.get("/v1/checks", params={"limit": 100, **({"cursor": cursor} if cursor else {})},
                               headers=api.headers(keys[caller]))
            assert r.status_code == 200
            page = r.json()
            seen |= {item["id"] for item in page["items"]}
            owners = {item["owner"] for item in page["items"]}
            if caller != "assessor":
                assert owners <= {keys[caller].split("_")[1]}, caller  # type: ignore[union-attr]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        ids_of[caller] = seen
    assert mine in ids_of["applicant A"] and mine in ids_of["assessor"] and mine not in ids_of["applicant B"]
    assert ids_of["applicant A"].isdisjoint(ids_of["applicant B"])
    for caller in ("applicant B", "admin"):
        for path in (f"/v1/checks/{mine}", f"/v1/checks/{mine}/reviews", f"/v1/checks/{mine}/receipt"):
            r = api.client.get(path, headers=api.headers(keys[caller]))
            assert problem(r, 404)["detail"].startswith("There is no check with this id")


def test_api_keys_are_stored_only_as_argon2_hashes(api: Api, tmp_path: Path) -> None:
    key = api.key("applicant", "hash check")
    secret = key.split("_", 2)[2]
    assert api.client.post("/v1/checks", json=PLAIN, headers=api.headers(key)).status_code == 201
    with api.db.read() as conn:
        stored = conn.execute(text("SELECT secret_hash FROM api_keys WHERE id = :id"),
                              {"id": key.split("_")[1]}).scalar()
        assert stored.startswith("$argon2id$") and secret not in stored
        tables = inspect(conn).get_table_names()
        assert "api_keys" in tables and "audit_log" in tables
        for table in tables:  # every value of every row of every table, as text
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                dump = " ".join(str(v) for v in row)
                assert secret not in dump and key not in dump, table
    if api.kind == "sqlite":  # and not in the database's files (pages not yet reused, the write-ahead log)
        path = Path(api.settings.database_url.removeprefix("sqlite:///"))
        for f in (path, path.with_name(path.name + "-wal")):
            if f.exists():
                assert secret.encode() not in f.read_bytes(), f.name


# -- failed authentication is rate-limited ----------------------------------------------------------------
@pytest.fixture
def limited(tmp_path: Path) -> Any:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'limited.db'}", auth_failure_limit=3,
                        auth_failure_window_seconds=60, key_cache_seconds=60)
    with make_client(settings) as client:
        yield client, OpenApi(client.get("/openapi.json").json()), settings


def test_too_many_failed_authentications_get_429_with_retry_after(limited: Any) -> None:
    client, spec, settings = limited
    from biotoets.api.store import db as dbm

    db = dbm.Database(settings.database_url)
    try:
        known = auth.create_key(db, "applicant", "known").key
        fresh = auth.create_key(db, "applicant", "not yet used").key
    finally:
        db.dispose()
    bearer = {"Authorization": f"Bearer {known}"}
    assert client.get("/v1/checks", headers=bearer).status_code == 200  # verified (and remembered) before
    wrong = ["btk_aaaaaaaaaaaaaaaa_" + "x" * 30, "btk_short", "Basic abc"]
    for header in wrong:  # unknown key, malformed key, wrong scheme: three failures
        r = client.get("/v1/checks", headers={"Authorization": header if " " in header else f"Bearer {header}"})
        spec.check(r)
        assert r.status_code == 401
    for header in (f"Bearer {fresh}", "Bearer btk_bbbbbbbbbbbbbbbb_" + "y" * 30, "Nonsense"):
        r = client.get("/v1/checks", headers={"Authorization": header})
        spec.check(r)  # 429 is documented, with its Retry-After header
        body = problem(r, 429)
        assert body["type"] == "/problems/rate-limited"
        assert 1 <= int(r.headers["retry-after"]) <= settings.auth_failure_window_seconds
        assert f"try again in {r.headers['retry-after']} s" in body["detail"]
    # A key this server already verified still works from the refused address; asking without a key is no guess.
    assert client.get("/v1/checks", headers=bearer).status_code == 200
    assert problem(client.get("/v1/checks"), 401)
    assert client.get("/v1/rules").status_code == 200
    assert "429" in spec.doc["paths"]["/v1/checks"]["post"]["responses"]
    assert client.get("/problems/rate-limited").json()["status"] == 429


def test_the_limit_counts_per_address_and_forgets_after_the_window() -> None:
    limiter = FailureLimiter(limit=3, window=60, max_clients=2)
    for t in (0, 1, 2):
        limiter.failed("10.0.0.1", now=t)
    assert limiter.retry_after("10.0.0.1", now=3) == 57
    assert limiter.retry_after("10.0.0.2", now=3) is None  # another address is not affected
    assert limiter.retry_after("10.0.0.1", now=60.5) is None  # the first failure has expired: 2 left in window
    limiter.failed("10.0.0.1", now=60.5)
    assert limiter.retry_after("10.0.0.1", now=60.5) == 1  # until the failure at t=1 expires
    limiter.failed("10.0.0.2", now=61)
    limiter.failed("10.0.0.3", now=61)  # only 2 addresses are remembered: the least recent is forgotten
    assert limiter.retry_after("10.0.0.1", now=61) is None
    assert not FailureLimiter(limit=0, window=60).failed("x")  # 0: no limit


def test_revocation_and_a_new_role_apply_from_the_next_request_although_the_secret_is_remembered(
        tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'revoke.db'}", key_cache_seconds=3600,
                        key_standing_seconds=0)
    with make_client(settings) as client:
        from biotoets.api.store import db as dbm

        db = dbm.Database(settings.database_url)
        try:
            key = auth.create_key(db, "applicant", "soon an assessor").key
            headers = {"Authorization": f"Bearer {key}"}
            assert client.get("/v1/audit", headers=headers).status_code == 403
            assert client.post("/v1/checks", json=PLAIN, headers=headers).status_code == 201
            assert client.app.state.biotoets.keys.get(key)[0]  # type: ignore[attr-defined]  # remembered
            assert auth.set_role(db, key.split("_")[1], "assessor") == "applicant"
            assert client.get("/v1/audit", headers=headers).status_code == 200
            assert problem(client.post("/v1/checks", json=PLAIN, headers=headers), 403)
            assert auth.revoke_key(db, key.split("_")[1])
            assert problem(client.get("/v1/checks", headers=headers), 401)
            assert problem(client.get("/v1/audit", headers=headers), 401)
        finally:
            db.dispose()


def test_the_app_uses_the_limit_from_its_settings(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", auth_failure_limit=7,
                              auth_failure_window_seconds=30))
    limiter = app.state.biotoets.limiter
    assert (limiter.limit, limiter.window) == (7, 30)
    assert Settings.from_env({"BIOTOETS_AUTH_FAILURE_LIMIT": "0"}).auth_failure_limit == 0
    assert Settings.from_env({}).auth_failure_limit == 20


def test_the_web_sign_in_counts_towards_the_same_limit(limited: Any) -> None:
    from biotoets.api.web.pages import LOGIN_COOKIE

    client, _, _ = limited
    client.get("/login")
    csrf = client.cookies.get(LOGIN_COOKIE)
    statuses = [client.post("/login", data={"csrf": csrf, "key": f"btk_cccccccccccccccc_{'z' * 30}{i}"},
                            follow_redirects=False).status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert problem(client.get("/v1/checks", headers={"Authorization": "Bearer btk_x_" + "y" * 30}), 429)


def test_answers_to_keyed_requests_are_never_cached_and_no_answer_is_sniffed(world: World) -> None:
    api, keys = world.api, world.keys
    check_id = world.check()
    mine = api.headers(keys["applicant A"])
    for path in (f"/v1/checks/{check_id}", f"/v1/checks/{check_id}/receipt", "/v1/checks", "/v1/rules"):
        r = api.client.get(path, headers=mine)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff", path
    refused = api.client.get(f"/v1/checks/{check_id}", headers=api.headers(keys["applicant B"]))
    assert refused.status_code == 404 and refused.headers["cache-control"] == "no-store"
    public = api.client.get("/v1/rules")
    assert "cache-control" not in public.headers and public.headers["x-content-type-options"] == "nosniff"


def test_a_keys_standing_is_read_again_once_a_second_by_default(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    import asyncio

    from biotoets.api.store import db as dbm

    clock = [1000.0]
    reads: list[str] = []
    real = auth.current

    def counted(db: Any, principal: auth.Principal, verified_hash: str | None = None) -> auth.Principal | None:
        reads.append(principal.key_id)
        return real(db, principal, verified_hash)

    monkeypatch.setattr(auth, "current", counted)
    assert Settings.from_env({}).key_standing_seconds == 1
    db = dbm.open_database(Settings(database_url=f"sqlite:///{tmp_path / 'standing.db'}"))
    try:
        made = auth.create_key(db, "applicant", "standing")
        cache = auth.KeyCache(60, standing_seconds=1, clock=lambda: clock[0])

        async def ask() -> auth.Principal | None:
            return await cache.resolve(made.key, db)

        assert asyncio.run(ask()) == made.principal  # verified (argon2), not yet read again
        assert asyncio.run(ask()) == made.principal and len(reads) == 1  # read once ...
        clock[0] += 0.5
        assert asyncio.run(ask()) == made.principal and len(reads) == 1  # ... and trusted for a second
        assert auth.revoke_key(db, made.principal.key_id)
        clock[0] += 0.6
        assert asyncio.run(ask()) is None and len(reads) == 2  # read again: revoked
        clock[0] += 10
        assert asyncio.run(ask()) is None and len(reads) == 2  # refused from the cache, no more reads
    finally:
        db.dispose()


def test_a_rotated_key_keeps_its_checks_and_its_old_secret_stops_working(tmp_path: Path) -> None:
    clock = [5000.0]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'rotate.db'}", key_cache_seconds=3600,
                        key_standing_seconds=1)
    with make_client(settings) as client:
        from biotoets.api.store import db as dbm

        client.app.state.biotoets.keys.clock = lambda: clock[0]  # type: ignore[attr-defined]
        db = dbm.Database(settings.database_url)
        try:
            old = auth.create_key(db, "applicant", "rotating lab").key
            check = client.post("/v1/checks", json=PLAIN, headers={"Authorization": f"Bearer {old}"})
            assert check.status_code == 201
            path = f"/v1/checks/{check.json()['id']}"
            assert client.get(path, headers={"Authorization": f"Bearer {old}"}).status_code == 200  # remembered
            new = auth.rotate_key(db, old.split("_")[1], actor="test")
            assert new is not None and new.key != old
            assert client.get(path, headers={"Authorization": f"Bearer {new.key}"}).status_code == 200  # at once
            clock[0] += 1.5  # the old secret's standing is read again ...
            assert problem(client.get(path, headers={"Authorization": f"Bearer {old}"}), 401)  # ... and refused
            mine = client.get("/v1/checks", headers={"Authorization": f"Bearer {new.key}"}).json()["items"]
            assert [c["id"] for c in mine] == [check.json()["id"]]  # the check stayed the key's own
            assert auth.revoke_key(db, new.principal.key_id)
            assert auth.rotate_key(db, new.principal.key_id) is None  # a revoked key gets no new secret
        finally:
            db.dispose()


def test_an_expired_key_is_refused_and_one_that_expires_in_use_within_a_second(monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Path) -> None:
    import datetime as dt

    from biotoets.api.store import db as dbm

    clock = [9000.0]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'expiry.db'}", key_cache_seconds=3600,
                        key_standing_seconds=1)
    with make_client(settings) as client:
        client.app.state.biotoets.keys.clock = lambda: clock[0]  # type: ignore[attr-defined]
        db = dbm.Database(settings.database_url)
        try:
            now = dbm.utcnow()
            gone = auth.create_key(db, "applicant", "expired", expires_at=now - dt.timedelta(seconds=1)).key
            body = problem(client.get("/v1/checks", headers={"Authorization": f"Bearer {gone}"}), 401)
            assert "expired" in body["detail"]
            soon = auth.create_key(db, "applicant", "expires soon", expires_at=now + dt.timedelta(hours=1)).key
            headers = {"Authorization": f"Bearer {soon}"}
            assert client.get("/v1/checks", headers=headers).status_code == 200
            monkeypatch.setattr(auth, "utcnow", lambda: now + dt.timedelta(hours=2))  # two hours later
            clock[0] += 1.5
            assert problem(client.get("/v1/checks", headers=headers), 401)
        finally:
            db.dispose()
