"""Stored checks: saving a verdict with its proposal, reading one back, listing them page by page.

The verdict and the proposal are kept as the JSON text that was returned and
received, so a stored check is served byte for byte without re-encoding.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Row

from . import audit
from .auth import Principal, Role
from .db import Check, Database, as_utc, utcnow

STATUSES = ("submitted", "in_review", "confirmed", "overridden", "information_requested")
VERDICTS = ("allowed", "conditional", "prohibited")


def new_check_id() -> str:
    """A UUID whose first 48 bits are the time in milliseconds (UUIDv7 layout): ids sort by creation."""
    ms = time.time_ns() // 1_000_000
    raw = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
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


@dataclass(frozen=True)
class StoredCheck:
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

    def document(self) -> bytes:
        """The check as the API returns it (verdict and proposal spliced in as stored)."""
        head = orjson.dumps({
            "id": self.id,
            "status": self.status,
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
                + b',"verdict":' + self.verdict_json.encode() + b"}")


_INSERT = insert(Check)
_GET = select(Check.id, Check.owner, Check.status, Check.created_at, Check.as_of, Check.lang, Check.scenario,
              Check.ruleset_hash, Check.engine_version, Check.proposal_media_type, Check.proposal_json,
              Check.verdict_json).where(Check.id == bindparam("check_id"))


def create(db: Database, new: NewCheck) -> StoredCheck:
    """Store a check and its audit record in one transaction; return it once committed."""
    v = new.verdict
    rs = v["ruleset"]
    scenario = rs["scenario"]["id"] if rs.get("scenario") else None
    check = StoredCheck(
        id=new_check_id(), owner=new.owner.key_id, status="submitted", created_at=utcnow(),
        as_of=dt.date.fromisoformat(rs["as_of"]), lang=new.lang, scenario=scenario, ruleset_hash=rs["hash"],
        engine_version=rs["engine_version"], proposal_media_type=new.proposal_media_type,
        proposal_json=orjson.dumps(new.proposal).decode(), verdict_json=orjson.dumps(v).decode(),
    )
    with db.write() as conn:
        conn.execute(_INSERT, {
            "id": check.id, "owner": check.owner, "status": check.status, "created_at": check.created_at,
            "title": new.title[:500] if new.title else None,
            "verdict": v["verdict"], "complete": v["complete"], "could_become": v["could_become"],
            "could_fall_to": v["could_fall_to"], "as_of": check.as_of, "lang": check.lang, "scenario": scenario,
            "ruleset_hash": check.ruleset_hash, "engine_version": check.engine_version,
            "proposal_raw": new.proposal_raw, "proposal_media_type": check.proposal_media_type,
            "proposal_json": check.proposal_json, "verdict_json": check.verdict_json,
        })
        audit.append(conn, actor=new.owner.key_id, action="check.created", subject=check.id, data={
            "check": check.id, "verdict": v["verdict"], "complete": v["complete"],
            "ruleset_hash": check.ruleset_hash, "engine_version": check.engine_version,
            "as_of": check.as_of.isoformat(), "scenario": scenario,
        })
    return check


def _stored(row: Row[Any]) -> StoredCheck:
    return StoredCheck(
        id=row.id, owner=row.owner, status=row.status, created_at=as_utc(row.created_at), as_of=row.as_of,
        lang=row.lang, scenario=row.scenario, ruleset_hash=row.ruleset_hash, engine_version=row.engine_version,
        proposal_media_type=row.proposal_media_type, proposal_json=row.proposal_json,
        verdict_json=row.verdict_json,
    )


def may_read(principal: Principal, owner: str) -> bool:
    return principal.key_id == owner or principal.role == Role.assessor


def get(db: Database, check_id: str, principal: Principal) -> StoredCheck | None:
    """The check if it exists and the caller may see it (the owner, or an assessor); else None."""
    with db.read() as conn:
        row = conn.execute(_GET, {"check_id": check_id}).one_or_none()
    if row is None or not may_read(principal, row.owner):
        return None
    return _stored(row)


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"c1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, seq = text.partition(":")
        value = int(seq)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if tag == "c1" and value > 0 else None


def list_page(db: Database, principal: Principal, *, limit: int, before: int | None, verdict: str | None,
              status: str | None) -> tuple[list[dict[str, Any]], int | None]:
    """One page of checks, newest first: an applicant's own, or every check for an assessor."""
    q = select(Check.seq, Check.id, Check.owner, Check.status, Check.created_at, Check.title, Check.verdict,
               Check.complete, Check.could_become, Check.could_fall_to, Check.as_of, Check.lang, Check.scenario,
               Check.ruleset_hash, Check.engine_version)
    if principal.role != Role.assessor:
        q = q.where(Check.owner == principal.key_id)
    if verdict is not None:
        q = q.where(Check.verdict == verdict)
    if status is not None:
        q = q.where(Check.status == status)
    if before is not None:
        q = q.where(Check.seq < before)
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
