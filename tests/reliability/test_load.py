"""Concurrent load on a real server: 64 clients against ``biotoets serve --workers 2``, on SQLite and PostgreSQL.

Every client posts case-base proposals (three in four stored as checks, one in four only evaluated, in English
and Dutch, each with the law of its case's date) over its own connection. The test requires: no 5xx and no
dropped connection; every acknowledged check (201) in the database exactly once, with its owner, proposal and
verdict as answered; every verdict identical to the one the engine gives for the same proposal evaluated
sequentially in this process; the audit chain intact; and, from ``/metrics``, that in each worker process
exactly one thread ever entered durable_rules and no engine call was refused (api/engine_service.py,
engine/host.py) -- so moving evaluations off the engine thread would fail here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from biotoets.api.analysis.casebase import load_cases
from biotoets.api.documents import slim
from biotoets.api.http.receive import validate_proposal
from biotoets.api.store import audit
from biotoets.api.store import db as dbm
from biotoets.engine.evaluate import Engine
from tests.conftest import TODAY
from tests.databases import DATABASES
from tests.figures import note, tally

from .server import bearer, database, make_keys, metric, serve

CLIENTS = 64
PER_CLIENT = 20
LANGS = ("en", "nl")


@dataclass(frozen=True)
class Job:
    n: int
    path: str
    case: int
    lang: str


@dataclass
class Outcome:
    job: Job
    key: str
    status: int = 0
    body: Any = None
    error: str | None = None
    seconds: float = 0.0


@pytest.fixture(scope="module")
def cases() -> list[tuple[dict[str, Any], dt.date]]:
    """The case base's proposals with their dates (scenario cases left out: the API evaluates today's law)."""
    return [(c.proposal, c.as_of or TODAY) for c in load_cases() if c.scenario is None]


@pytest.fixture(scope="module")
def sequential(engine: Engine, cases: list[tuple[dict[str, Any], dt.date]]) -> dict[tuple[int, str], Any]:
    """Each proposal's verdict in each language, evaluated one after another in this process, as JSON
    (slim, with the texts of what it names beside it, and without "what would change it", as the API answers by
    default)."""
    out = {}
    for i, (doc, on) in enumerate(cases):
        proposal = validate_proposal(doc)
        for lang in LANGS:
            verdict = engine.evaluate(proposal, on, lang=lang, explain=False)
            thin = slim.slim(verdict, engine.base)
            out[(i, lang)] = orjson.loads(orjson.dumps({**thin, "texts": slim.texts(thin, engine.base)}))
    return out


def jobs(cases: int) -> list[list[Job]]:
    plan = []
    for client in range(CLIENTS):
        mine = []
        for j in range(PER_CLIENT):
            n = client * PER_CLIENT + j
            case = (n * 7) % cases
            mine.append(Job(n, "/v1/evaluations" if j % 4 == 3 else "/v1/checks", case, LANGS[n % 3 == 0]))
        plan.append(mine)
    return plan


async def run_load(base: str, keys: list[str], plan: list[list[Job]],
                   cases: list[tuple[dict[str, Any], dt.date]]) -> list[Outcome]:
    async def client(i: int, mine: list[Job]) -> list[Outcome]:
        key = keys[i % len(keys)]
        out = []
        async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(120.0),
                                     limits=httpx.Limits(max_connections=1)) as http:
            for job in mine:
                doc, on = cases[job.case]
                result = Outcome(job, key)
                started = time.perf_counter()
                try:
                    r = await http.post(job.path, json=doc, params={"as_of": on.isoformat(), "lang": job.lang},
                                        headers=bearer(key))
                    result.seconds = time.perf_counter() - started
                    result.status, result.body = r.status_code, r.json()
                except (httpx.HTTPError, ValueError) as exc:  # a dropped connection or an unreadable answer
                    result.error = f"{type(exc).__name__}: {exc}"
                out.append(result)
        return out

    per_client = await asyncio.gather(*(client(i, mine) for i, mine in enumerate(plan)))
    return [o for outcomes in per_client for o in outcomes]


@pytest.mark.parametrize("kind", DATABASES)
def test_64_clients_lose_nothing_and_get_the_sequential_verdicts(
        kind: str, tmp_path: Path, cases: list[tuple[dict[str, Any], dt.date]],
        sequential: dict[tuple[int, str], Any]) -> None:
    plan = jobs(len(cases))
    with database(kind, tmp_path) as url:
        lab_a, lab_b, admin = make_keys(url, ("applicant", "Lab A"), ("applicant", "Lab B"), ("admin", "ops"))
        with serve(url, tmp_path, workers=2) as server:
            outcomes = asyncio.run(asyncio.wait_for(run_load(server.base, [lab_a, lab_b], plan, cases), 600))
            metrics = httpx.get(f"{server.base}/metrics", headers=bearer(admin), timeout=30).text
            server.stop()
            assert server.proc is not None and server.proc.returncode == 0, server.log()[-3000:]

        sent = len(outcomes)
        tally("load test: requests sent", sent)
        assert sent == CLIENTS * PER_CLIENT
        dropped = [o for o in outcomes if o.error]
        assert not dropped, f"{len(dropped)} requests got no answer, e.g. {dropped[0].error}"
        statuses = Counter(o.status for o in outcomes)
        assert set(statuses) == {200, 201}, statuses

        # Every verdict is the one the engine gives sequentially.
        for o in outcomes:
            verdict = o.body["verdict"] if o.status == 201 else o.body
            assert verdict == sequential[(o.job.case, o.job.lang)], (o.job, kind)

        # Every acknowledged check is stored exactly once, as it was answered, owned by the key that sent it.
        acked = {o.body["id"]: o for o in outcomes if o.status == 201}
        assert len(acked) == statuses[201] == sum(1 for mine in plan for j in mine if j.path == "/v1/checks")
        db = dbm.Database(url)
        try:
            with db.read() as conn:
                rows = conn.execute(text("SELECT id, owner, proposal_json, verdict_json FROM checks")).all()
                created = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'check.created'")).scalar()
            report = audit.verify(db)
        finally:
            db.dispose()
        times = Counter(r.id for r in rows)
        assert all(times[i] == 1 for i in acked), "an acknowledged check is missing or stored twice"
        assert len(rows) == len(acked) == created
        for r in rows:
            o = acked[r.id]
            assert r.owner == o.key.split("_")[1]
            assert orjson.loads(r.verdict_json) == {k: v for k, v in o.body["verdict"].items() if k != "texts"}
            assert orjson.loads(r.proposal_json) == cases[o.job.case][0]
        assert report.ok, report.problems

        # One engine thread per worker process, never a refused engine call; every evaluation counted once.
        assert metric(metrics, "biotoets_engine_threads") == 1
        assert metric(metrics, "biotoets_engine_thread_refusals") == 0
        assert metric(metrics, "biotoets_verdicts_total") == sent
        assert metric(metrics, "biotoets_http_requests_total", route="/v1/checks", status="201") == len(acked)
        assert metric(metrics, "biotoets_engine_queue_depth") == 0
        # Every acknowledged check was committed in exactly one transaction of the group commit.
        assert metric(metrics, "biotoets_check_commit_size_sum") == len(acked)
        transactions = metric(metrics, "biotoets_check_commit_size_count")

    took = sorted(o.seconds for o in outcomes)
    wall = max(took)  # (informative only: the machine is shared, nothing here is asserted on time)
    tally("load test: checks acknowledged (201)", len(acked))
    tally("load test: checks found exactly once", sum(1 for i in acked if times[i] == 1))
    tally("load test: transactions that committed them (group commit)", int(transactions))
    note(f"load test {kind}", f"{sent} requests from {CLIENTS} clients to 2 workers: {statuses[201]} checks "
         f"stored (201), {statuses[200]} evaluations (200), 0 5xx, 0 dropped; {len(rows)} checks in the "
         f"database, each acknowledged one exactly once; {sent} verdicts identical to sequential; audit chain "
         f"intact ({report.records} records); engine threads per worker: 1; latency p50 "
         f"{took[len(took) // 2] * 1000:.0f} ms, p99 {took[int(len(took) * 0.99)] * 1000:.0f} ms, slowest "
         f"{wall * 1000:.0f} ms")
