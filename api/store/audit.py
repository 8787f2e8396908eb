"""The append-only, hash-chained audit log.

Each record holds the hash of the record before it, so changing, removing or
reordering any record breaks every hash after it: ``verify`` finds where.
Appending happens inside the caller's write transaction (the check and its
audit record commit together) and takes the chain head's row lock, so
concurrent writers -- threads or processes -- append one after another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from .db import GENESIS_HASH, ApiKey, AuditHead, AuditRecord, Check, Database, as_utc, utcnow


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def record_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + payload.encode()).hexdigest()


# Built once: SQLAlchemy then compiles each statement once and only binds values per call.
_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_INSERT = insert(AuditRecord)
_MOVE_HEAD = update(AuditHead).where(AuditHead.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))


@dataclass(frozen=True)
class Entry:
    """One thing to record: who did what to which subject, with a few facts about it."""

    actor: str
    action: str
    subject: str
    data: Mapping[str, Any]


def append_many(conn: Connection, entries: Sequence[Entry]) -> int:
    """Add records at the end of the chain, in order, in the caller's transaction; return the last number."""
    # SQLite: the write transaction (BEGIN IMMEDIATE) already keeps other writers out.
    head_q = _HEAD if conn.dialect.name == "sqlite" else _HEAD_FOR_UPDATE
    seq, prev = conn.execute(head_q).one()
    rows = []
    for e in entries:
        seq += 1
        at = utcnow()
        payload = _canonical({
            "seq": seq, "at": at.isoformat(), "actor": e.actor, "action": e.action, "subject": e.subject,
            "data": dict(e.data),
        }).decode()
        digest = record_hash(prev, payload)
        rows.append({"seq": seq, "at": at, "actor": e.actor, "action": e.action, "subject": e.subject,
                     "payload": payload, "prev_hash": prev, "hash": digest})
        prev = digest
    if rows:
        conn.execute(_INSERT, rows)
        conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})
    return seq


def append(conn: Connection, *, actor: str, action: str, subject: str, data: Mapping[str, Any]) -> int:
    """Add one record at the end of the chain (in the caller's transaction); return its number."""
    return append_many(conn, [Entry(actor, action, subject, data)])


@dataclass(frozen=True)
class ChainReport:
    records: int
    head: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Database, batch: int = 1000) -> ChainReport:
    """Walk the whole chain and report every broken link or altered record."""
    problems: list[str] = []
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    with db.read() as conn:
        last = 0
        while True:
            rows = conn.execute(
                select(AuditRecord.seq, AuditRecord.at, AuditRecord.actor, AuditRecord.action, AuditRecord.subject,
                       AuditRecord.payload, AuditRecord.prev_hash, AuditRecord.hash)
                .where(AuditRecord.seq > last).order_by(AuditRecord.seq).limit(batch)
            ).all()
            if not rows:
                break
            for r in rows:
                count += 1
                if r.seq != expected_seq:
                    problems.append(f"record {r.seq}: expected record {expected_seq} (a record is missing)")
                if r.prev_hash != prev:
                    problems.append(f"record {r.seq}: does not follow the record before it")
                if record_hash(r.prev_hash, r.payload) != r.hash:
                    problems.append(f"record {r.seq}: its content does not match its hash")
                try:
                    body = orjson.loads(r.payload)
                    same = (body.get("seq") == r.seq and body.get("actor") == r.actor
                            and body.get("action") == r.action and body.get("subject") == r.subject
                            and body.get("at") == as_utc(r.at).isoformat())
                except orjson.JSONDecodeError:
                    same = False
                if not same:
                    problems.append(f"record {r.seq}: its columns differ from its hashed content")
                prev = r.hash
                expected_seq = r.seq + 1
                last = r.seq
        head_seq, head_hash = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if head_seq != last or head_hash != prev:
        problems.append(f"the chain head points at record {head_seq}, but the last record is {last}")
    return ChainReport(count, prev, problems)


# -- the audit log, read-only -------------------------------------------------------------------------
# Every action the log records (the audit page filters by them).
ACTIONS = ("check.created", "check.submitted", "check.reevaluated", "check.answered", "check.replayed",
           "review.started", "review.confirmed", "review.overridden", "review.information_requested",
           "key.created", "key.rotated", "key.role_changed", "key.revoked", "session.started", "session.ended")


def audit_page(db: Database, *, subject: str | None = None, action: str | None = None, before: int | None = None,
               limit: int = 50, titles: bool = False, reader: str | None = None,
               own_only: bool = False) -> tuple[list[dict[str, Any]], int | None]:
    """Audit records, newest first (reading only: nothing in the API or the pages changes the log).

    ``reader`` (a key id): the records about a check are read under the rule of ``checks.may_read`` -- a draft
    is its owner's alone, so the records about someone else's draft (its creation, its evaluations) are left
    out until it is submitted; from then on its whole history shows, its creation as a draft included.
    ``own_only``: only the records about the reader's own checks (an applicant's view). ``titles``: each record
    about a check the reader may read also carries the check's title."""
    q = select(AuditRecord.seq, AuditRecord.at, AuditRecord.actor, AuditRecord.action, AuditRecord.subject,
               AuditRecord.payload, AuditRecord.prev_hash, AuditRecord.hash, ApiKey.name,
               Check.title.label("check_title"), Check.status.label("check_status"),
               Check.owner.label("check_owner")).join(
        ApiKey, ApiKey.id == AuditRecord.actor, isouter=True).join(
        Check, Check.id == AuditRecord.subject, isouter=True)
    if own_only:
        q = q.where(Check.owner == reader)
    elif reader is not None:
        q = q.where(or_(Check.id.is_(None), Check.status != "draft", Check.owner == reader))
    if subject:
        q = q.where(AuditRecord.subject == subject)
    if action:
        q = q.where(AuditRecord.action == action)
    if before:
        q = q.where(AuditRecord.seq < before)
    with db.read() as conn:
        rows = conn.execute(q.order_by(AuditRecord.seq.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]

    def title(r: Any) -> str | None:
        return r.check_title if r.check_status != "draft" or (reader and r.check_owner == reader) else None

    items = [{"seq": r.seq, "at": as_utc(r.at).isoformat(), "actor": r.actor, "actor_name": r.name,
              "action": r.action, "subject": r.subject, "data": orjson.loads(r.payload).get("data", {}),
              "prev_hash": r.prev_hash, "hash": r.hash, **({"title": title(r)} if titles else {})}
             for r in rows]
    return items, (rows[-1].seq if more and rows else None)


def recent_actions(db: Database, actor: str, action: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    """How many records of ``action`` by ``actor`` are newer than ``since``, and the oldest one's time."""
    with db.read() as conn:
        n, oldest = conn.execute(
            select(func.count(), func.min(AuditRecord.at))
            .where(AuditRecord.actor == actor, AuditRecord.action == action, AuditRecord.at > since)
        ).one()
    return int(n), oldest
