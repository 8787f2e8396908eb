"""The audit log against the tables it describes: every stored check, review and key change has its record, and
every record its row.

The chain proves the log is intact; it does not prove the tables agree with it. Someone with write access who
deletes a check, adds one without going through the server, changes a verdict or a status, or grants a key
another role leaves the log as it was -- and the log no longer describes the data. This module replays the log's
facts (who created which check with which verdict, which review moved it where, which key got which role, which
key was revoked) and compares them with the rows, naming each difference.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select

from ..workflow import AUDIT_ACTIONS
from .db import ApiKey, AuditRecord, Check, Database, Review

STEP_OF = {action: step for step, action in AUDIT_ACTIONS.items()}
ACTIONS = ("check.created", "check.reevaluated", *STEP_OF, "key.created", "key.role_changed", "key.revoked")


@dataclass
class _CheckFacts:
    owner: str
    verdict: str
    revision: int = 1
    status: str = "submitted"


@dataclass
class _KeyFacts:
    role: str
    revoked: bool = False


@dataclass
class _Log:
    checks: dict[str, _CheckFacts] = field(default_factory=dict)
    keys: dict[str, _KeyFacts] = field(default_factory=dict)
    reviews: Counter[tuple[Any, ...]] = field(default_factory=Counter)
    orphans: list[str] = field(default_factory=list)


def _review_key(check_id: str, decision: str, actor: str, to: str) -> tuple[str, str, str, str]:
    return (check_id, decision, actor, to)


def _read_log(db: Database, batch: int = 2000) -> _Log:
    log = _Log()
    last = 0
    with db.read() as conn:
        while True:
            rows = conn.execute(select(AuditRecord.seq, AuditRecord.action, AuditRecord.subject, AuditRecord.actor,
                                       AuditRecord.payload)
                                .where(AuditRecord.seq > last, AuditRecord.action.in_(ACTIONS))
                                .order_by(AuditRecord.seq).limit(batch)).all()
            if not rows:
                return log
            for r in rows:
                last = r.seq
                try:
                    data = orjson.loads(r.payload).get("data") or {}
                except (orjson.JSONDecodeError, AttributeError):
                    continue  # the chain check names a record whose content is not what was hashed
                _apply(log, r.seq, r.action, r.subject, r.actor, data)


def _apply(log: _Log, seq: int, action: str, subject: str, actor: str, data: dict[str, Any]) -> None:
    if action == "check.created":
        # A check starts as the web form's private draft or as submitted (records from before drafts say no status).
        log.checks[subject] = _CheckFacts(actor, str(data.get("verdict")), status=str(data.get("status", "submitted")))
        return
    if action.startswith("key."):
        if action == "key.created":
            log.keys[subject] = _KeyFacts(str(data.get("role")))
        elif subject not in log.keys:
            log.orphans.append(f"record {seq} ({action}) is about key {subject}, which no record created")
        elif action == "key.role_changed":
            log.keys[subject].role = str(data.get("to"))
        else:
            log.keys[subject].revoked = True
        return
    facts = log.checks.get(subject)
    if facts is None:
        log.orphans.append(f"record {seq} ({action}) is about check {subject}, which no record created")
        return
    if action == "check.reevaluated":
        facts.verdict, facts.revision = str(data.get("verdict")), facts.revision + 1
    else:
        facts.status = str(data.get("to"))
        decision = STEP_OF[action]  # the review step each action records (workflow.AUDIT_ACTIONS)
        log.reviews[_review_key(subject, decision, actor, facts.status)] += 1


def crosscheck(db: Database) -> list[str]:
    """Every difference between the audit log and the checks, reviews and keys it describes."""
    log = _read_log(db)
    problems = list(log.orphans)
    with db.read() as conn:
        stored = {r.id: r for r in conn.execute(select(Check.id, Check.owner, Check.verdict, Check.revision,
                                                       Check.status))}
        keys = {r.id: r for r in conn.execute(select(ApiKey.id, ApiKey.role, ApiKey.revoked_at))}
        reviews = Counter(_review_key(r.check_id, r.decision, r.actor, r.to_status) for r in conn.execute(
            select(Review.check_id, Review.decision, Review.actor, Review.to_status)))
    for cid in sorted(stored.keys() - log.checks.keys()):
        problems.append(f"check {cid} is stored, but no audit record says it was created")
    for cid in sorted(log.checks.keys() - stored.keys()):
        problems.append(f"check {cid} was created (audit log), but it is not stored: it was removed")
    for cid in sorted(stored.keys() & log.checks.keys()):
        row, facts = stored[cid], log.checks[cid]
        have = (row.owner, row.verdict, row.revision, row.status)
        want = (facts.owner, facts.verdict, facts.revision, facts.status)
        for name, h, w in zip(("owner", "verdict", "revision", "status"), have, want, strict=True):
            if h != w:
                problems.append(f"check {cid}: its {name} is {h!r}, the audit log says {w!r}")
    for kid in sorted(keys.keys() - log.keys.keys()):
        problems.append(f"key {kid} is stored, but no audit record says it was created")
    for kid in sorted(log.keys.keys() - keys.keys()):
        problems.append(f"key {kid} was created (audit log), but it is not stored: it was removed")
    for kid in sorted(keys.keys() & log.keys.keys()):
        key, kfacts = keys[kid], log.keys[kid]
        if key.role != kfacts.role:
            problems.append(f"key {kid}: its role is {key.role!r}, the audit log says {kfacts.role!r}")
        if (key.revoked_at is not None) != kfacts.revoked:
            said = "revoked" if kfacts.revoked else "not revoked"
            problems.append(f"key {kid}: it is {'revoked' if key.revoked_at else 'active'}, the audit log says {said}")
    for review, n in sorted((reviews - log.reviews).items()):
        problems.append(f"check {review[0]}: {n} stored review step(s) '{review[1]}' by {review[2]} have no "
                        "audit record")
    for review, n in sorted((log.reviews - reviews).items()):
        problems.append(f"check {review[0]}: {n} audited review step(s) '{review[1]}' by {review[2]} are not "
                        "stored: removed")
    return problems
