"""Two servers, one database: how an office outgrows one machine.

Two ``biotoets serve`` instances -- separate process groups, own ports, no shared memory -- run on one PostgreSQL
schema. 64 concurrent clients spread over both store checks with an Idempotency-Key; every second check is sent
again to the *other* server, half of those at the same moment as the first. Then: every acknowledged check is in
the database exactly once, each retry got the same check back, the audit chain is one valid chain that agrees
with the tables (``biotoets audit verify``), the replay quota counts replays made on both servers together, and
a key revoked through one database is refused by both.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from biotoets.api.cli import main
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from tests.api.helpers import GERMLINE
from tests.databases import DATABASES
from tests.figures import note, tally

from .server import Served, bearer, database, make_keys, serve

CLIENTS = 64
PER_CLIENT = 4
QUOTA = 5

pytestmark = pytest.mark.skipif("postgresql" not in DATABASES, reason="BIOTOETS_TEST_DATABASES leaves PostgreSQL out")


async def _client(n: int, key: str, servers: list[Served], acks: list[tuple[str, str, str]],
                   problems: list[str]) -> None:
    home, other = servers[n % 2], servers[(n + 1) % 2]
    # Idle connections are dropped by the client before the server (5 s) would close them under it.
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(keepalive_expiry=1)) as http:
        for i in range(PER_CLIENT):
            idem = f"c{n}-{i}-{uuid.uuid4().hex[:8]}"
            body = {**GERMLINE, "title": f"client {n} proposal {i}"}
            headers = {**bearer(key), "Idempotency-Key": idem}
            sends = [http.post(f"{home.base}/v1/checks", json=body, headers=headers)]
            if i % 2 == 1:  # at the same moment on the other server: a retry racing the original
                sends.append(http.post(f"{other.base}/v1/checks", json=body, headers=headers))
            answers = await asyncio.gather(*sends, return_exceptions=True)
            if i % 4 == 0:  # a retry after the answer, on the other server
                answers.append(await http.post(f"{other.base}/v1/checks", json=body, headers=headers))
            ids = set()
            for a in answers:
                if isinstance(a, BaseException) or a.status_code != 201:
                    problems.append(f"{idem}: {a!r}" if isinstance(a, BaseException) else f"{idem}: {a.status_code} "
                                    f"{a.text[:200]}")
                    continue
                ids.add(a.json()["id"])
                acks.append((idem, a.json()["id"], a.headers.get("idempotent-replayed", "")))
            if len(ids) > 1:
                problems.append(f"{idem}: one request stored as {sorted(ids)}")


def test_two_servers_on_one_database(tmp_path: Path) -> None:
    with database("postgresql", tmp_path) as url:
        keys = make_keys(url, *[("applicant", f"Lab {i}") for i in range(8)], ("assessor", "Permit office"))
        env = {"BIOTOETS_KEY_QUOTA": str(QUOTA)}
        with serve(url, tmp_path, workers=1, env=env) as a, serve(url, tmp_path, workers=1, env=env) as b:
            servers = [a, b]
            acks: list[tuple[str, str, str]] = []
            problems: list[str] = []

            async def run() -> None:
                await asyncio.gather(*(_client(n, keys[n % 8], servers, acks, problems) for n in range(CLIENTS)))

            asyncio.run(run())
            assert not problems, problems[:5]
            by_request: dict[str, set[str]] = {}
            for idem, check_id, _ in acks:
                by_request.setdefault(idem, set()).add(check_id)
            assert all(len(ids) == 1 for ids in by_request.values())
            assert len(by_request) == CLIENTS * PER_CLIENT
            replayed = sum(1 for *_, flag in acks if flag == "true")
            assert replayed >= CLIENTS * PER_CLIENT // 4  # every retry after an answer at least

            db = dbm.Database(url)
            try:
                with db.read() as conn:
                    stored = Counter(r.idempotency_key for r in conn.execute(text(
                        "SELECT idempotency_key FROM checks WHERE idempotency_key IS NOT NULL")))
                assert set(stored) == set(by_request) and set(stored.values()) == {1}  # each once

                # The replay quota is one count over both servers.
                check_id = next(iter(by_request.values())).pop()
                owner_key = keys[0]
                with db.read() as conn:
                    owner = conn.execute(text("SELECT owner FROM checks WHERE id = :c"), {"c": check_id}).scalar()
                owner_key = next(k for k in keys if k.split("_")[1] == owner)
                codes = [httpx.post(f"{servers[i % 2].base}/v1/checks/{check_id}/replay", headers=bearer(owner_key),
                                    timeout=120).status_code for i in range(QUOTA + 2)]
                assert codes == [200] * QUOTA + [429, 429], codes

                # A key revoked in the database is refused by both servers (within their 1 s standing cache).
                revoked = keys[1]
                for s in servers:
                    assert httpx.get(f"{s.base}/v1/checks", headers=bearer(revoked), timeout=60).status_code == 200
                assert auth.revoke_key(db, revoked.split("_")[1], actor="test")
            finally:
                db.dispose()
            for s in servers:
                status = 200
                for _ in range(50):
                    status = httpx.get(f"{s.base}/v1/checks", headers=bearer(revoked), timeout=60).status_code
                    if status == 401:
                        break
                    asyncio.run(asyncio.sleep(0.2))
                assert status == 401
        assert main(["audit", "verify", "--database-url", url]) == 0  # one chain, agreeing with the tables
    tally("two servers: checks acknowledged", len(acks))
    note("two servers, one PostgreSQL", f"{len(by_request)} checks from {CLIENTS} clients over 2 servers, each "
                                        f"stored once; {replayed} idempotent replays; chain intact")
