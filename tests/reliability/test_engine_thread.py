"""durable_rules is never entered by two threads of one process: by construction, and shown to be caught.

engine/host.py refuses a call from any thread but a host's owner (tests/engine/test_engine.py) and, because the C
core's tables are global to the process, also refuses a second thread while any thread of the process is
inside durable_rules -- even through another host. The server counts the threads that ever entered durable_rules
and the refused calls (``/metrics``); the load test (test_load.py) requires 1 and 0 under 64 clients. Here:
the refusal across hosts, and that moving evaluations into FastAPI's thread pool would be caught at once.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

import biotoets.engine.host as host_module
from biotoets.api.engines import service as engine_service
from biotoets.api.http.app import create_app
from biotoets.api.http.receive import validate_proposal
from biotoets.api.settings import Settings
from biotoets.engine.evaluate import Engine
from biotoets.engine.host import EngineThreadError, engine_refusals
from biotoets.engine.model import RuleBase
from tests.api.helpers import GERMLINE, PLAIN
from tests.conftest import TODAY

from .server import bearer, make_keys, metric


class HoldingCore:
    """durable_rules' module, except that asserting (``assert_fact``, or the patched build's results-only
    ``assert_fact_fired``) from one chosen thread waits until released."""

    def __init__(self, real: Any, holder: threading.Thread | None = None) -> None:
        self._real = real
        self.holder = holder
        self.inside = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _hold(self) -> None:
        if threading.current_thread() is self.holder:
            self.inside.set()
            assert self.release.wait(60)

    def assert_fact(self, *args: Any) -> Any:
        self._hold()
        return self._real.assert_fact(*args)

    def assert_fact_fired(self, *args: Any) -> Any:
        self._hold()
        return self._real.assert_fact_fired(*args)


def test_a_second_host_on_another_thread_is_refused_while_one_is_inside(engine: Engine, base: RuleBase,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    core = HoldingCore(host_module.dre)
    results: list[Any] = []

    def other_thread() -> None:
        own = Engine(base)  # a host of its own, owned by this thread: the owner check alone would let both in
        monkeypatch.setattr(host_module, "dre", core)
        results.append(own.evaluate(validate_proposal(GERMLINE), TODAY)["verdict"])
        own.close()

    worker = threading.Thread(target=other_thread)
    core.holder = worker
    worker.start()
    try:
        assert core.inside.wait(120), "the other thread never entered durable_rules"
        refused_before = engine_refusals()
        with pytest.raises(EngineThreadError, match="in use by another thread"):
            engine.evaluate(validate_proposal(PLAIN), TODAY)
        assert engine_refusals() == refused_before + 1
    finally:
        core.release.set()
        worker.join(120)
    assert results == ["conditional"]
    assert engine.evaluate(validate_proposal(PLAIN), TODAY)["verdict"] == "allowed"  # free again


def test_evaluating_in_fastapis_thread_pool_would_be_caught(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the load test watches for: evaluations moved off the engine thread give 500s and a refusal count."""
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    applicant, admin = make_keys(url, ("applicant", "Lab A"), ("admin", "ops"))

    async def in_the_thread_pool(self: engine_service.EngineService, proposal: Any, on: Any, lang: str,
                                 explain: bool = False, view: str = "full") -> Any:
        assert self._engine is not None
        return await asyncio.to_thread(self._engine.evaluate, proposal, on, lang=lang, explain=explain, view=view)

    with TestClient(create_app(Settings(database_url=url)), raise_server_exceptions=False) as client:
        assert client.post("/v1/evaluations", json=PLAIN, headers=bearer(applicant)).status_code == 200
        before = metric(client.get("/metrics", headers=bearer(admin)).text, "biotoets_engine_thread_refusals")
        monkeypatch.setattr(engine_service.EngineService, "evaluate", in_the_thread_pool)
        r = client.post("/v1/evaluations", json=PLAIN, headers=bearer(applicant))
        assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
        after = metric(client.get("/metrics", headers=bearer(admin)).text, "biotoets_engine_thread_refusals")
    assert after == before + 1
