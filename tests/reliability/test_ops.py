"""Operations of a real ``biotoets serve --workers 2 --access-log``: JSON logs with request ids that hold no secret and
no personal data, ``/metrics`` in Prometheus' format, and a SIGTERM that lets every request in flight finish.

The server is shared by the tests of this module (one start); the shutdown test runs last and stops it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
from sqlalchemy import text

from biotoets.api.store import audit
from biotoets.api.store import db as dbm
from tests.api.helpers import GERMLINE, PLAIN, REPRODUCTIVE
from tests.figures import note

from .server import Served, bearer, database, make_keys, metric, serve

MARK = "Zq" + secrets.token_hex(6)  # in every personal field sent; must never reach the log


@dataclass
class Ops:
    server: Served
    url: str
    applicant: str
    admin: str


@pytest.fixture(scope="module")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ops]:
    tmp = tmp_path_factory.mktemp("ops")
    with database("sqlite", tmp) as url:
        applicant, admin = make_keys(url, ("applicant", f"Lab {MARK}"), ("admin", "ops"))
        with serve(url, tmp, workers=2, extra=["--access-log"]) as server:
            yield Ops(server, url, applicant, admin)


def personal(doc: dict[str, object], tag: str) -> dict[str, object]:
    return {**doc, "title": f"Project of Dr. {MARK} {tag}", "start_date": f"{MARK}-start",
            "partners": [{"name": f"{MARK} Biotech B.V.", "country": "NL", "institution_type": f"lab {MARK}"}]}


def test_logs_are_json_with_request_ids_and_without_secrets_or_personal_data(ops: Ops) -> None:
    base = ops.server.base
    wrong_secret = "S3cr3t" + secrets.token_urlsafe(24)
    wrong_key = f"btk_{'a' * 16}_{wrong_secret}"
    sent: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=60) as http:
        def call(method: str, path: str, rid: str, **kw: object) -> httpx.Response:
            r = http.request(method, path, headers={"X-Request-ID": rid, **kw.pop("headers", {})}, **kw)  # type: ignore[arg-type]
            assert r.headers["x-request-id"] == rid
            sent[rid] = r.status_code
            return r

        assert call("POST", "/v1/checks", "t-stored", json=personal(GERMLINE, "stored"),
                    headers=bearer(ops.applicant)).status_code == 201
        assert call("POST", "/v1/checks", "t-yaml", content=f"title: {MARK} yaml\nactivity: production\n",
                    headers={**bearer(ops.applicant), "Content-Type": "application/yaml"}).status_code == 201
        assert call("POST", "/v1/evaluations", "t-invalid", json={**personal(PLAIN, "bad"), "human": MARK},
                    headers=bearer(ops.applicant)).status_code == 422
        assert call("POST", "/v1/checks", "t-unreadable", content=f'{{"title": "{MARK}", oops}}',
                    headers={**bearer(ops.applicant), "Content-Type": "application/json"}).status_code == 400
        assert call("POST", "/v1/checks", "t-wrong-key", json=personal(PLAIN, "key"),
                    headers=bearer(wrong_key)).status_code == 401
        assert call("GET", "/v1/checks", "t-bad-scheme",
                    headers={"Authorization": f"Basic {MARK}{wrong_secret}"}).status_code == 401
        assert call("GET", f"/v1/checks/{MARK}", "t-not-found", headers=bearer(ops.applicant)).status_code == 404
        assert call("GET", f"/v1/rules?domain={MARK}", "t-query", headers=bearer(ops.applicant)).status_code == 400
        fresh = http.get("/healthz")
        assert len(fresh.headers["x-request-id"]) == 32  # none sent: a new one
        assert http.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"] != \
            "bad id\twith spaces"

    log = wait_for_access_lines(ops.server, set(sent))
    for needle in (MARK, wrong_secret, ops.applicant, ops.applicant.split("_", 2)[2], ops.admin.split("_", 2)[2]):
        assert needle not in log, f"{needle!r} is in the server log"
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert all({"time", "level", "logger", "message", "pid"} <= set(line) for line in lines)
    assert not [line for line in log.splitlines() if line and not line.startswith("{")
                and not line.startswith("biotoets: serving on")], "a log line that is not JSON"
    access = {line["request_id"]: line for line in lines if line["logger"] == "biotoets.access"}
    for rid, status in sent.items():
        assert access[rid]["status"] == status and access[rid]["level"] == "info"
        assert {"method", "route", "duration_ms", "client"} <= set(access[rid])
    assert access["t-not-found"]["route"] == "/v1/checks/{check_id}"
    note("logs", f"{len(lines)} JSON log lines from 2 workers, {len(sent)} requests with personal data and keys: "
         "none of it in the log")


def wait_for_access_lines(server: Served, request_ids: set[str]) -> str:
    """The log once it has the access line of every request (workers write them as they answer)."""
    for _ in range(200):
        log = server.log()
        if all(f'"request_id":"{rid}"' in log for rid in request_ids):
            return log
        time.sleep(0.05)
    return server.log()


def test_metrics_are_prometheus_text_for_all_workers(ops: Ops) -> None:
    with httpx.Client(base_url=ops.server.base, timeout=60) as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers=bearer(ops.applicant)).status_code == 403
        before = http.get("/metrics", headers=bearer(ops.admin))
        assert before.status_code == 200 and before.headers["content-type"].startswith("text/plain; version=0.0.4")
        for doc in (GERMLINE, PLAIN, REPRODUCTIVE) * 4:
            assert http.post("/v1/evaluations", json=doc, headers=bearer(ops.applicant)).status_code == 200
        after = http.get("/metrics", headers=bearer(ops.admin)).text
    for name, kind in (("biotoets_http_requests_total", "counter"),
                       ("biotoets_http_request_duration_seconds", "histogram"),
                       ("biotoets_verdicts_total", "counter"), ("biotoets_engine_queue_depth", "gauge"),
                       ("biotoets_http_requests_in_progress", "gauge"), ("biotoets_engine_threads", "gauge"),
                       ("biotoets_engine_evaluation_seconds", "histogram"),
                       ("biotoets_auth_failures_total", "counter"), ("biotoets_auth_rate_limited_total", "counter")):
        assert f"# TYPE {name} {kind}\n" in after, name
    for verdict in ("allowed", "conditional", "prohibited"):
        assert metric(after, "biotoets_verdicts_total", verdict=verdict) - \
            _or0(before.text, "biotoets_verdicts_total", verdict=verdict) == 4
    assert metric(after, "biotoets_http_request_duration_seconds_count", method="POST",
                  route="/v1/evaluations") >= 12
    assert metric(after, "biotoets_engine_threads") == 1


def _or0(text_: str, name: str, **labels: str) -> float:
    try:
        return metric(text_, name, **labels)
    except AssertionError:
        return 0.0


async def slow_body(doc: dict[str, object], release: asyncio.Event) -> AsyncIterator[bytes]:
    raw = orjson.dumps(doc)
    yield raw[:10]
    await release.wait()
    yield raw[10:]


def test_sigterm_lets_every_request_in_flight_finish_and_exits_0(ops: Ops) -> None:
    server = ops.server
    n = 8

    async def scenario() -> list[httpx.Response]:
        release = asyncio.Event()
        async with httpx.AsyncClient(base_url=server.base, timeout=httpx.Timeout(120.0),
                                     limits=httpx.Limits(max_connections=n + 2)) as http:
            async def one(i: int) -> httpx.Response:
                return await http.post("/v1/checks", content=slow_body(personal(PLAIN, f"flight {i}"), release),
                                       headers={**bearer(ops.applicant), "Content-Type": "application/json"})

            flights = [asyncio.create_task(one(i)) for i in range(n)]
            # Every request has reached a worker (the scrape itself is one more in progress) ...
            for _ in range(1200):
                scrape = await http.get("/metrics", headers=bearer(ops.admin))
                if metric(scrape.text, "biotoets_http_requests_in_progress") == n + 1:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the requests did not reach the server")
            # ... then SIGTERM, as a service manager sends it, and both workers begin to shut down ...
            server.signal(signal.SIGTERM)
            for _ in range(1200):
                if server.log_lines("Shutting down") == 2:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the workers did not begin to shut down")
            # ... and only then do the bodies arrive.
            release.set()
            return await asyncio.gather(*flights)

    responses = asyncio.run(asyncio.wait_for(scenario(), 300))
    assert [r.status_code for r in responses] == [201] * n, [r.text[:200] for r in responses]
    assert server.wait(60) == 0
    db = dbm.Database(ops.url)
    try:
        with db.read() as conn:
            stored = {r.id for r in conn.execute(text("SELECT id FROM checks"))}
        assert audit.verify(db).ok
    finally:
        db.dispose()
    assert {r.json()["id"] for r in responses} <= stored
    log = server.log()
    assert server.log_lines("Application shutdown complete.") == 2
    assert MARK not in log
    note("graceful shutdown", f"SIGTERM with {n} requests in flight: {n} answered 201 and stored, exit code 0")

