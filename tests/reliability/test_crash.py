"""A server killed with SIGKILL in the middle of a stream of checks loses no acknowledged check.

16 clients post checks to ``biotoets serve --workers 2`` without pause; once 150 have been acknowledged the whole
process group (supervisor and both workers) is killed with SIGKILL while requests are in flight. The server is
started again on the same database. Every check whose 201 a client received must then be there exactly once, byte
for byte as it was answered (read back through the API), the audit chain must verify, and the database must be
consistent: SQLite still in WAL mode with a clean integrity check, and on both databases exactly one
``check.created`` audit record per stored check and none for a check that is not stored (a check and its audit
record commit in one transaction). Checks that were committed but whose answer was lost in the kill may exist:
every request carries an Idempotency-Key, and after the restart the clients that got no answer send their
requests again with the same keys -- the committed ones come back as stored, the others are stored then, so every
request that was sent ends up stored exactly once.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from biotoets.api.store import audit
from biotoets.api.store import db as dbm
from tests.api.helpers import GERMLINE, PLAIN, REPRODUCTIVE
from tests.databases import DATABASES
from tests.figures import note, tally

from .server import Served, bearer, database, make_keys, serve

CLIENTS = 16
KILL_AFTER = 150
MOST_PER_CLIENT = 200  # bounded even if the kill never came
PROPOSALS = [GERMLINE, PLAIN, REPRODUCTIVE]


async def stream_until_killed(server: Served, keys: list[str]) -> tuple[dict[str, dict[str, Any]], int,
                                                                        list[dict[str, Any]]]:
    """(acknowledged checks by id, requests sent, the requests cut off by the kill). Every request carries an
    Idempotency-Key, as a client that means to retry sends it."""
    acked: dict[str, dict[str, Any]] = {}
    killed = asyncio.Event()
    sent = 0
    cut: list[dict[str, Any]] = []

    async def client(i: int) -> None:
        nonlocal sent
        async with httpx.AsyncClient(base_url=server.base, timeout=httpx.Timeout(60.0)) as http:
            for j in range(MOST_PER_CLIENT):
                if killed.is_set():
                    return
                doc = {**PROPOSALS[(i + j) % 3], "title": f"crash {i}-{j}"}
                idem = f"crash-{i}-{j}"
                sent += 1
                try:
                    r = await http.post("/v1/checks", json=doc,
                                        headers={**bearer(keys[i % 2]), "Idempotency-Key": idem})
                except httpx.HTTPError:
                    cut.append({"doc": doc, "key": keys[i % 2], "idem": idem})
                    return
                assert r.status_code == 201, r.text[:300]
                acked[r.json()["id"]] = {"body": r.content, "key": keys[i % 2]}
                if len(acked) == KILL_AFTER and not killed.is_set():
                    server.signal(signal.SIGKILL, group=True)  # supervisor and workers, no warning
                    killed.set()

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return acked, sent, cut


@pytest.mark.parametrize("kind", DATABASES)
def test_sigkill_mid_stream_loses_no_acknowledged_check(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        keys = make_keys(url, ("applicant", "Lab A"), ("applicant", "Lab B"))
        with serve(url, tmp_path, workers=2) as server:
            acked, sent, cut = asyncio.run(asyncio.wait_for(stream_until_killed(server, keys), 600))
            assert server.wait(30) == -signal.SIGKILL
        assert len(acked) >= KILL_AFTER
        assert cut, "the kill came when no request was in flight"

        db = dbm.Database(url)
        try:
            with db.read() as conn:
                if kind == "sqlite":
                    assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                    assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                stored = Counter(r.id for r in conn.execute(text("SELECT id FROM checks")))
                audited = Counter(r.subject for r in conn.execute(
                    text("SELECT subject FROM audit_log WHERE action = 'check.created'")))
            report = audit.verify(db)
        finally:
            db.dispose()
        assert all(stored[i] == 1 for i in acked), "an acknowledged check is missing or stored twice"
        assert audited == stored, "a stored check without its audit record, or an audit record without its check"
        assert report.ok, report.problems

        # Started again: every acknowledged check reads back exactly as it was answered; new checks go on the chain.
        with serve(url, tmp_path, workers=2) as server:
            with httpx.Client(base_url=server.base, timeout=60) as http:
                for check_id, ack in acked.items():
                    r = http.get(f"/v1/checks/{check_id}", headers=bearer(ack["key"]))
                    assert r.status_code == 200 and orjson.loads(r.content) == orjson.loads(ack["body"])
                # The clients whose answers the kill cut off send their requests again, with the same keys:
                # a check that was committed before the kill comes back as it was, the others are stored now.
                replayed = 0
                for lost in cut:
                    r = http.post("/v1/checks", json=lost["doc"],
                                  headers={**bearer(lost["key"]), "Idempotency-Key": lost["idem"]})
                    assert r.status_code == 201, r.text[:300]
                    replayed += r.headers.get("idempotent-replayed") == "true"
                assert replayed == sum(stored.values()) - len(acked)  # exactly the committed-but-unanswered ones
                after = http.post("/v1/checks", json=PLAIN, headers=bearer(keys[0]))
                assert after.status_code == 201
        db = dbm.Database(url)
        try:
            assert audit.verify(db).ok
            with db.read() as conn:
                keyed = Counter(r.idempotency_key for r in conn.execute(
                    text("SELECT idempotency_key FROM checks WHERE idempotency_key IS NOT NULL")))
        finally:
            db.dispose()
        # Every request sent before the kill, answered or not, is now stored exactly once.
        assert len(keyed) == sent and set(keyed.values()) == {1}

    unacknowledged = sum(stored.values()) - len(acked)
    tally("crash test: checks acknowledged before SIGKILL", len(acked))
    tally("crash test: acknowledged checks found intact after restart", len(acked))
    tally("crash test: requests cut off and sent again with their Idempotency-Key", len(cut))
    note(f"crash test {kind}", f"{sent} requests sent by {CLIENTS} clients, SIGKILL after {len(acked)} "
         f"acknowledged with {len(cut)} in flight; after restart {len(acked)}/{len(acked)} acknowledged checks "
         f"found, intact; {unacknowledged} more committed whose answer was lost -- sent again with their "
         f"Idempotency-Keys, those {unacknowledged} came back as stored and the other {len(cut) - unacknowledged} "
         f"were stored then: {sent}/{sent} requests stored exactly once; audit chain intact "
         f"({report.records} records); " + ("SQLite WAL, integrity ok" if kind == "sqlite" else
                                            "PostgreSQL: one audit record per check"))
