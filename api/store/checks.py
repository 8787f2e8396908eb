"""Stored checks: saving a verdict with its proposal, reading one back, listing them page by page.

The verdict and the proposal are kept as the JSON text that was returned and
received, so a stored check is served byte for byte without re-encoding.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select

from ..faults import CheckNotFound
from . import audit, bases
from .db import MAX_SEQ, Check, Database, as_utc, utcnow
from .keys import Principal, Role

STATUSES = ("draft", "submitted", "in_review", "confirmed", "overridden", "information_requested")


class _RandomPool:
    """Random bytes from the OS, fetched 4 KiB at a time: one system call per few hundred ids, not one each."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffer = b""
        self._pid = os.getpid()

    def take(self, n: int) -> bytes:
        with self._lock:
            if len(self._buffer) < n or self._pid != os.getpid():  # refill; never share bytes with a fork
                self._buffer, self._pid = os.urandom(4096), os.getpid()
            out, self._buffer = self._buffer[:n], self._buffer[n:]
            return out


_random = _RandomPool()


def new_check_id() -> str:
    """A UUID whose first 48 bits are the time in milliseconds (UUIDv7 layout): ids sort by creation."""
    ms = time.time_ns() // 1_000_000
    raw = bytearray(ms.to_bytes(6, "big") + _random.take(10))
    raw[6] = 0x70 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(raw)))


@dataclass(frozen=True)
class NewCheck:
    """What the API hands to storage for one check."""

    owner: Principal
    proposal_raw: str
    proposal_media_type: str
    proposal: Any
    title: str | None
    verdict: dict[str, Any]
    lang: str
    idempotency_key: str | None = None
    idempotency_hash: str | None = None
    status: str = "submitted"  # "draft": the applicant's private result (the web form), until they submit it


@dataclass(frozen=True)
class StoredCheck:
    """A stored check, as every reader of one sees it: the API's document, the review workflow, receipts and
    replay (``get`` and ``readable`` decide who may see it)."""

    id: str
    owner: str
    status: str
    created_at: dt.datetime
    as_of: dt.date
    lang: str
    scenario: str | None
    ruleset_hash: str
    engine_version: str
    proposal_media_type: str
    proposal_json: str
    verdict_json: str
    title: str | None
    revision: int
    seq: int | None = None  # the row's number, once read back from the database (the case number is made of it)

    @property
    def case_number(self) -> str | None:
        """The check's case number: never changes, whatever happens to the check (``BT-000123``)."""
        return None if self.seq is None else case_number(self.seq)

    @property
    def reference(self) -> str | None:
        """The case number with the revision of the current evaluation (``BT-000123/2``)."""
        return None if self.seq is None else f"{case_number(self.seq)}/{self.revision}"

    @property
    def verdict(self) -> dict[str, Any]:
        return orjson.loads(self.verdict_json)  # type: ignore[no-any-return]

    def with_changes(self, changes: list[dict[str, Any]]) -> StoredCheck:
        """The same check with its verdict's ``changes`` ("what would change it") filled in."""
        verdict = self.verdict
        verdict["changes"] = changes
        return replace(self, verdict_json=orjson.dumps(verdict).decode())

    def document(self, decision: Mapping[str, Any] | None = None, texts: Mapping[str, Any] | None = None) -> bytes:
        """The check as the API returns it (verdict and proposal spliced in as stored); ``decision``: the
        assessor's final decision, if any (``reviews.outcomes``); ``texts``: put in the verdict (``slim.texts``)."""
        verdict = self.verdict_json.encode()
        if texts is not None:
            verdict = verdict[:-1] + b',"texts":' + orjson.dumps(texts) + b"}"
        head = orjson.dumps({
            "id": self.id,
            "case_number": self.case_number,
            "revision": self.revision,
            "reference": self.reference,
            "status": self.status,
            "final_verdict": decision["verdict"] if decision else None,
            "decision": dict(decision) if decision else None,
            "owner": self.owner,
            "created_at": self.created_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "lang": self.lang,
            "scenario": self.scenario,
            "ruleset_hash": self.ruleset_hash,
            "engine_version": self.engine_version,
            "proposal_media_type": self.proposal_media_type,
            "links": {"self": f"/v1/checks/{self.id}"},
        })
        return (head[:-1] + b',"proposal":' + self.proposal_json.encode()
                + b',"verdict":' + verdict + b"}")


def case_number(seq: int) -> str:
    return f"BT-{seq:06d}"


_INSERT = insert(Check)
_GET = select(Check.id, Check.owner, Check.status, Check.created_at, Check.as_of, Check.lang, Check.scenario,
              Check.ruleset_hash, Check.engine_version, Check.proposal_media_type, Check.proposal_json,
              Check.verdict_json, Check.title, Check.revision, Check.seq).where(Check.id == bindparam("check_id"))


@dataclass(frozen=True)
class Prepared:
    """A check ready to insert: the stored form, its row and its audit entry."""

    check: StoredCheck
    row: dict[str, Any]
    entry: audit.Entry


def prepare(new: NewCheck) -> Prepared:
    v = bases.stored_form(new.verdict)  # slim: the rule base's texts are its catalogue's
    rs = v["ruleset"]
    scenario = rs["scenario"]["id"] if rs.get("scenario") else None
    check = StoredCheck(
        id=new_check_id(), owner=new.owner.key_id, status=new.status, created_at=utcnow(),
        as_of=dt.date.fromisoformat(rs["as_of"]), lang=new.lang, scenario=scenario, ruleset_hash=rs["hash"],
        engine_version=rs["engine_version"], proposal_media_type=new.proposal_media_type,
        proposal_json=orjson.dumps(new.proposal).decode(), verdict_json=orjson.dumps(v).decode(),
        title=new.title[:500] if new.title else None, revision=1,
    )
    row = {
        "id": check.id, "owner": check.owner, "status": check.status, "created_at": check.created_at,
        "title": check.title,
        "verdict": v["verdict"], "complete": v["complete"], "could_become": v["could_become"],
        "could_fall_to": v["could_fall_to"], "as_of": check.as_of, "lang": check.lang, "scenario": scenario,
        "ruleset_hash": check.ruleset_hash, "engine_version": check.engine_version,
        "proposal_raw": new.proposal_raw, "proposal_media_type": check.proposal_media_type,
        "proposal_json": check.proposal_json, "verdict_json": check.verdict_json,
        "open_norms": len(v["open_norms"]),
        "idempotency_key": new.idempotency_key, "idempotency_hash": new.idempotency_hash,
    }
    entry = audit.Entry(actor=check.owner, action="check.created", subject=check.id, data={
        "check": check.id, "verdict": v["verdict"], "complete": v["complete"],
        "ruleset_hash": check.ruleset_hash, "engine_version": check.engine_version,
        "as_of": check.as_of.isoformat(), "scenario": scenario, "status": check.status,
    })
    return Prepared(check, row, entry)


def store(db: Database, batch: Sequence[Prepared]) -> list[StoredCheck]:
    """Insert checks and their audit records in one transaction (committed when this returns); the checks with
    the row numbers the database gave them (their case numbers)."""
    with db.write() as conn:
        seqs = conn.execute(_INSERT.returning(Check.seq, sort_by_parameter_order=True),
                            [p.row for p in batch]).scalars().all()
        audit.append_many(conn, [p.entry for p in batch])
    return [replace(p.check, seq=seq) for p, seq in zip(batch, seqs, strict=True)]


def create(db: Database, new: NewCheck) -> StoredCheck:
    """Store one check and its audit record; return it once committed."""
    return store(db, [prepare(new)])[0]


class CheckWriter:
    """The process's writer thread: checks that arrive together are committed in one transaction.

    Each caller waits until the transaction holding its check has committed (so a 201 is never sent for a
    check that is not stored). One writer per process keeps SQLite's write lock from being fought over by many
    threads; on PostgreSQL it turns many commits into one. After the first check of a transaction the writer
    waits up to ``linger`` seconds for more, and on SQLite takes in what arrives while it waits for its turn to
    write (still committing before any of their requests is answered): under load that fills transactions, when
    idle it costs one request at most ``linger``. ``committed(n)``: the checks of each committed transaction.
    """

    def __init__(self, db: Database, max_batch: int = 64, linger: float = 0.001,
                 committed: Callable[[int], None] | None = None) -> None:
        self.db = db
        self.max_batch = max_batch
        self.linger = linger
        self.committed = committed
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="biotoets-writer", daemon=True)
        self._thread.start()

    async def create(self, new: NewCheck) -> StoredCheck:
        prepared = prepare(new)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[StoredCheck] = loop.create_future()
        self._queue.put(_Job(prepared, loop, done))
        return await done

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stop = False
        while not stop:
            job = self._queue.get()
            if job is None:
                return
            batch, stop = self._gather([job], time.monotonic() + self.linger)
            with self.db.turn():  # (SQLite: other workers may be committing; what arrives meanwhile joins in)
                if not stop:
                    batch, stop = self._gather(batch, 0.0)
                self._write(batch)

    def _gather(self, batch: list[_Job], deadline: float) -> tuple[list[_Job], bool]:
        """``batch`` with the checks queued until ``deadline`` (at most ``max_batch``); True once told to stop."""
        while len(batch) < self.max_batch:
            left = deadline - time.monotonic()
            try:
                nxt = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                return batch, True
            batch.append(nxt)
        return batch, False

    def _write(self, batch: list[_Job]) -> None:
        try:
            stored = store(self.db, [j.prepared for j in batch])
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request
            if len(batch) > 1:  # one bad check must not sink the others: write them one by one
                for job in batch:
                    self._write([job])
                return
            batch[0].settle(exc)
            return
        if self.committed is not None:
            self.committed(len(batch))
        for job, check in zip(batch, stored, strict=True):
            job.settle(None, check)


@dataclass(frozen=True)
class _Job:
    prepared: Prepared
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[StoredCheck]

    def settle(self, error: BaseException | None, check: StoredCheck | None = None) -> None:
        def _set() -> None:
            if self.done.done():  # the request went away; the check is stored (or not) all the same
                return
            if error is None:
                self.done.set_result(check or self.prepared.check)
            else:
                self.done.set_exception(error)

        with contextlib.suppress(RuntimeError):  # the event loop has closed
            self.loop.call_soon_threadsafe(_set)


def _stored(row: Any) -> StoredCheck:  # a Row of _GET's columns
    return StoredCheck(
        id=row.id, owner=row.owner, status=row.status, created_at=as_utc(row.created_at), as_of=row.as_of,
        lang=row.lang, scenario=row.scenario, ruleset_hash=row.ruleset_hash, engine_version=row.engine_version,
        proposal_media_type=row.proposal_media_type, proposal_json=row.proposal_json,
        verdict_json=row.verdict_json, title=row.title, revision=row.revision, seq=row.seq,
    )


def by_idempotency_key(db: Database, owner: str, key: str) -> tuple[StoredCheck, str | None] | None:
    """The owner's check stored with this Idempotency-Key, with the hash of the request that made it."""
    with db.read() as conn:
        row = conn.execute(
            select(*_GET.selected_columns, Check.idempotency_hash)
            .where(Check.owner == owner, Check.idempotency_key == key)
        ).first()
    return None if row is None else (_stored(row), row.idempotency_hash)


def may_read(principal: Principal, owner: str, status: str = "submitted") -> bool:
    """The owner reads their checks; an assessor reads every check its owner has submitted (never a draft)."""
    return principal.key_id == owner or (principal.role == Role.assessor and status != "draft")


# -- reading a check for the review workflow, receipts and replay ------------------------------------------
def load_check(db: Database, check_id: str) -> StoredCheck | None:
    """The check, whoever owns it (``readable`` is the one that asks who may see it)."""
    if len(check_id) > 36:
        return None
    with db.read() as conn:
        row = conn.execute(_GET, {"check_id": check_id}).one_or_none()
    return None if row is None else _stored(row)


def readable(db: Database, check_id: str, principal: Principal) -> StoredCheck:
    """The check, if this principal may see it; CheckNotFound otherwise (someone else's check does not exist)."""
    check = load_check(db, check_id)
    if check is None or not may_read(principal, check.owner, check.status):
        raise CheckNotFound(check_id)
    return check


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"c1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, seq = text.partition(":")
        value = int(seq)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if tag == "c1" and 0 < value <= MAX_SEQ else None


def list_page(db: Database, principal: Principal, *, limit: int, before: int | None, verdict: str | None,
              status: str | None, where: Sequence[Any] = ()) -> tuple[list[dict[str, Any]], int | None]:
    """One page of checks, newest first: an applicant's own, or every check for an assessor.

    ``where``: further conditions on the checks table (the review queue's filters, api/reviews.py).
    """
    q = select(Check.seq, Check.id, Check.owner, Check.status, Check.created_at, Check.title, Check.verdict,
               Check.complete, Check.could_become, Check.could_fall_to, Check.as_of, Check.lang, Check.scenario,
               Check.ruleset_hash, Check.engine_version)
    if principal.role != Role.assessor:
        q = q.where(Check.owner == principal.key_id)
    else:
        q = q.where(Check.status != "draft")
    if verdict is not None:
        q = q.where(Check.verdict == verdict)
    if status is not None:
        q = q.where(Check.status == status)
    if before is not None:
        q = q.where(Check.seq < before)
    if where:
        q = q.where(*where)
    q = q.order_by(Check.seq.desc()).limit(limit + 1)
    with db.read() as conn:
        rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{
        "id": r.id,
        "status": r.status,
        "owner": r.owner,
        "created_at": as_utc(r.created_at).isoformat(),
        "title": r.title,
        "as_of": r.as_of.isoformat(),
        "lang": r.lang,
        "scenario": r.scenario,
        "ruleset_hash": r.ruleset_hash,
        "engine_version": r.engine_version,
        "verdict": {"verdict": r.verdict, "complete": r.complete, "could_become": r.could_become,
                    "could_fall_to": r.could_fall_to},
        "links": {"self": f"/v1/checks/{r.id}"},
    } for r in rows]
    return items, (rows[-1].seq if more and rows else None)
