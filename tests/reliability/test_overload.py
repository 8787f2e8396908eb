"""More evaluations than a worker can queue: refused at once with 503 and Retry-After, never queued without bound.

Each worker process lets at most ``BIOTOETS_ENGINE_QUEUE_LIMIT`` evaluations (default 256) wait for its engine
thread. Past that a request gets ``503`` (``/problems/unavailable``, ``Retry-After: 1``) before anything is
evaluated or stored, and a web page says the server is busy -- rather than every request waiting behind work
whose clients have long given up. The limit is checked without an engine call, on the event loop.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from biotoets.api.engines import service as es
from biotoets.api.http.app import create_app
from biotoets.api.http.receive import validate_proposal
from biotoets.api.settings import Settings, SettingsError
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from tests.api.helpers import PLAIN
from tests.conftest import TODAY
from tests.figures import note

from .server import bearer, database, make_keys, metric, serve


def busy_count() -> float:
    return REGISTRY.get_sample_value("biotoets_engine_busy_refusals_total") or 0.0


def test_the_queue_refuses_past_its_limit_and_takes_work_again_once_it_drains(monkeypatch: pytest.MonkeyPatch) -> None:
    proposal = validate_proposal(PLAIN)
    service = es.EngineService(None, queue_limit=3)
    gate = threading.Event()
    real = es._evaluate

    def held(*args: Any) -> dict[str, Any]:  # the engine thread is busy until the test lets go
        gate.wait(60)
        return real(*args)

    async def scenario() -> None:
        await service.start()
        monkeypatch.setattr(es, "_evaluate", held)
        before = busy_count()
        queued = [asyncio.create_task(service.evaluate(proposal, TODAY, "en")) for _ in range(3)]
        await asyncio.sleep(0)  # each has entered the queue
        assert service.waiting == 3
        with pytest.raises(es.EngineBusy) as refused:
            await service.evaluate(proposal, TODAY, "en")
        assert refused.value.waiting == 3 and busy_count() == before + 1
        gate.set()
        verdicts = await asyncio.gather(*queued)
        assert {v["verdict"] for v in verdicts} == {"allowed"} and service.waiting == 0
        assert (await service.evaluate(proposal, TODAY, "en"))["verdict"] == "allowed"  # open again
        unlimited = es.EngineService(None, queue_limit=0)
        await unlimited.start()
        gate.clear()
        many = [asyncio.create_task(unlimited.evaluate(proposal, TODAY, "en")) for _ in range(20)]
        await asyncio.sleep(0)
        assert unlimited.waiting == 20  # 0: no limit
        gate.set()
        await asyncio.gather(*many)
        await service.stop()
        await unlimited.stop()

    asyncio.run(scenario())


def test_a_full_queue_is_a_503_problem_for_the_api_and_a_busy_page_for_the_web(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    with TestClient(create_app(Settings(database_url=url, engine_queue_limit=1)), follow_redirects=False) as client:
        db = dbm.Database(url)
        try:
            key = auth.create_key(db, "applicant", "Lab").key
        finally:
            db.dispose()
        headers = {"Authorization": f"Bearer {key}"}
        service = client.app.state.biotoets.service  # type: ignore[attr-defined]
        assert service.queue_limit == 1
        assert client.post("/v1/evaluations", json=PLAIN, headers=headers).status_code == 200
        # the form in progress, up to the point where the engine is asked
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        assert client.post("/login", data={"csrf": token, "key": key}).status_code == 303
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/apply").text).group(1)  # type: ignore
        assert client.post("/apply", data={"csrf": csrf}).status_code == 303

        service.waiting = 1  # as if one evaluation were on the engine thread now
        try:
            for path in ("/v1/evaluations", "/v1/checks"):
                r = client.post(path, json=PLAIN, headers=headers)
                assert r.status_code == 503 and r.headers["retry-after"] == "1"
                body = r.json()
                assert body["type"] == "/problems/unavailable" and "busy" in body["detail"]
            page = client.get("/apply/next")
            assert page.status_code == 503 and "too busy" in page.text and page.headers["retry-after"] == "5"
        finally:
            service.waiting = 0
        assert client.get("/v1/checks", headers=headers).json()["items"] == []  # nothing was stored
        assert client.get("/apply/next").status_code == 303


def test_the_limit_is_a_setting() -> None:
    assert Settings.from_env({}).engine_queue_limit == 256
    assert Settings.from_env({"BIOTOETS_ENGINE_QUEUE_LIMIT": "0"}).engine_queue_limit == 0
    with pytest.raises(SettingsError, match="BIOTOETS_ENGINE_QUEUE_LIMIT='-1': must be at least 0"):
        Settings.from_env({"BIOTOETS_ENGINE_QUEUE_LIMIT": "-1"})


def test_a_burst_on_a_real_server_is_answered_200_or_503_and_nothing_is_dropped(tmp_path: Path) -> None:
    clients, each = 64, 4
    with database("sqlite", tmp_path) as url:
        key, admin = make_keys(url, ("applicant", "Lab"), ("admin", "ops"))
        with serve(url, tmp_path, workers=1, env={"BIOTOETS_ENGINE_QUEUE_LIMIT": "4"}) as server:
            async def burst() -> list[httpx.Response | Exception]:
                async def one() -> list[httpx.Response | Exception]:
                    out: list[httpx.Response | Exception] = []
                    async with httpx.AsyncClient(base_url=server.base, timeout=120) as http:
                        for _ in range(each):
                            try:
                                out.append(await http.post("/v1/evaluations", json=PLAIN, headers=bearer(key)))
                            except httpx.HTTPError as exc:
                                out.append(exc)
                    return out
                return [r for rs in await asyncio.gather(*(one() for _ in range(clients))) for r in rs]

            answers = asyncio.run(burst())
            after = [httpx.post(f"{server.base}/v1/evaluations", json=PLAIN, headers=bearer(key), timeout=60)
                     for _ in range(3)]
            metrics = httpx.get(f"{server.base}/metrics", headers=bearer(admin), timeout=30).text
    dropped = [a for a in answers if isinstance(a, Exception)]
    assert not dropped, dropped[:3]
    statuses = Counter(a.status_code for a in answers if isinstance(a, httpx.Response))
    assert set(statuses) <= {200, 503} and statuses[200] >= 4, statuses
    for a in answers:
        if isinstance(a, httpx.Response) and a.status_code == 503:
            assert a.headers["retry-after"] == "1" and "busy" in a.json()["detail"]
    assert [r.status_code for r in after] == [200, 200, 200]  # the burst is over: served again
    refused = statuses[503]
    assert metric(metrics, "biotoets_engine_busy_refusals_total") == refused
    assert metric(metrics, "biotoets_engine_queue_depth") == 0
    note("overload", f"{clients * each} evaluations from {clients} clients at one worker with an engine queue of 4: "
         f"{statuses[200]} answered 200, {refused} refused 503 with Retry-After, 0 dropped, 0 5xx other than 503")
