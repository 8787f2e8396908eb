"""The review workflow's storage: each step of ``workflow.TRANSITIONS`` as one transaction, and its reading.

Each step moves the check's status only if it is still what the step started from, adds a row to ``reviews``
(with the automated verdict it was about) and a record to the audit chain. An override never changes the
automated verdict: it is kept in the check, and the override stands beside it with its reason. Answers keep the
earlier evaluation in ``check_revisions`` and store the new one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.engine import Connection

from ..faults import CheckNotFound
from ..vocab import AWAITING_REVIEW, FINAL
from ..workflow import AUDIT_ACTIONS, Conflict, ReviewRequest, check_decision, next_status, possible_steps
from . import audit, bases
from .checks import StoredCheck, load_check
from .db import ApiKey, Check, CheckRevision, Database, Review, as_utc, dumps, utcnow
from .keys import Principal


# -- the steps ---------------------------------------------------------------------------------------
def _lock_check(conn: Connection, check_id: str) -> Any:
    q = select(Check.status, Check.verdict, Check.revision, Check.verdict_json, Check.owner).where(
        Check.id == check_id)
    if conn.dialect.name != "sqlite":  # SQLite: the write transaction (BEGIN IMMEDIATE) already excludes others
        q = q.with_for_update()
    return conn.execute(q).one_or_none()


def decide(db: Database, check_id: str, actor: Principal, req: ReviewRequest) -> dict[str, Any]:
    """Record an assessor's decision (one transaction); CheckNotFound, Conflict or InvalidInput otherwise."""
    with db.write() as conn:
        row = _lock_check(conn, check_id)
        if row is None:
            raise CheckNotFound(check_id)
        to = next_status(row.status, req.decision)
        decision = check_decision(req, orjson.loads(row.verdict_json))
        moved = conn.execute(update(Check).where(Check.id == check_id, Check.status == row.status)
                             .values(status=to)).rowcount
        if moved != 1:  # pragma: no cover - the row lock above makes this unreachable
            raise Conflict(row.status, req.decision)
        now = utcnow()
        conn.execute(insert(Review).values(
            check_id=check_id, revision=row.revision, actor=actor.key_id, created_at=now, decision=decision.step,
            from_status=row.status, to_status=to, automated_verdict=row.verdict, verdict=decision.verdict,
            reason=decision.reason, questions_json=dumps(decision.questions) if decision.questions is not None
            else None))
        audit.append(conn, actor=actor.key_id, action=AUDIT_ACTIONS[decision.step], subject=check_id, data={
            "check": check_id, "revision": row.revision, "decision": decision.step, "from": row.status, "to": to,
            "automated_verdict": row.verdict, "verdict": decision.verdict, "reason": decision.reason,
            "questions": decision.questions,
        })
    return {"status": to}


def load_for_answers(db: Database, check_id: str, principal: Principal) -> StoredCheck:
    """The check the applicant answers questions on; CheckNotFound (not theirs) or Conflict (nothing was asked)."""
    check = load_check(db, check_id)
    if check is None or check.owner != principal.key_id:
        raise CheckNotFound(check_id)
    if check.status != "information_requested":
        raise Conflict(check.status, "answer")
    return check


def submit(db: Database, check_id: str, actor: Principal) -> dict[str, Any]:
    """The applicant sends their draft to the permit office: from now on assessors see it (one transaction).
    CheckNotFound if it is not theirs, Conflict if it is no longer a draft."""
    with db.write() as conn:
        row = _lock_check(conn, check_id)
        if row is None or row.owner != actor.key_id:
            raise CheckNotFound(check_id)
        to = next_status(row.status, "submit")
        conn.execute(update(Check).where(Check.id == check_id).values(status=to))
        conn.execute(insert(Review).values(
            check_id=check_id, revision=row.revision, actor=actor.key_id, created_at=utcnow(), decision="submit",
            from_status=row.status, to_status=to, automated_verdict=row.verdict, verdict=None, reason=None,
            questions_json=None))
        audit.append(conn, actor=actor.key_id, action=AUDIT_ACTIONS["submit"], subject=check_id, data={
            "check": check_id, "revision": row.revision, "from": row.status, "to": to, "verdict": row.verdict})
    return {"status": to}


def _next_revision(conn: Connection, check: StoredCheck, proposal: Mapping[str, Any], verdict: Mapping[str, Any],
                   status: str, now: dt.datetime) -> int:
    """Keep the check's current evaluation in ``check_revisions`` and store this one as the next revision."""
    rs = verdict["ruleset"]
    conn.execute(insert(CheckRevision).from_select(
        ["check_id", "revision", "created_at", "replaced_at", "as_of", "lang", "ruleset_hash", "engine_version",
         "verdict", "proposal_json", "verdict_json"],
        select(Check.id, Check.revision, Check.created_at, _literal_time(now), Check.as_of, Check.lang,
               Check.ruleset_hash, Check.engine_version, Check.verdict, Check.proposal_json, Check.verdict_json)
        .where(Check.id == check.id)))
    proposal_json = dumps(proposal)
    revision = check.revision + 1
    conn.execute(update(Check).where(Check.id == check.id).values(
        status=status, revision=revision, proposal_raw=proposal_json, proposal_media_type="application/json",
        proposal_json=proposal_json, verdict_json=dumps(bases.stored_form(verdict)), verdict=verdict["verdict"],
        complete=verdict["complete"], could_become=verdict["could_become"],
        could_fall_to=verdict["could_fall_to"], as_of=dt.date.fromisoformat(rs["as_of"]), lang=verdict["lang"],
        ruleset_hash=rs["hash"], engine_version=rs["engine_version"], open_norms=len(verdict["open_norms"]),
        title=(proposal.get("title") or None) if status == "draft" else Check.title))
    return revision


def _reevaluated(actor: Principal, check: StoredCheck, revision: int, verdict: Mapping[str, Any]) -> audit.Entry:
    rs = verdict["ruleset"]
    return audit.Entry(actor.key_id, "check.reevaluated", check.id, {
        "check": check.id, "revision": revision, "verdict": verdict["verdict"], "complete": verdict["complete"],
        "previous_verdict": check.verdict["verdict"], "ruleset_hash": rs["hash"],
        "engine_version": rs["engine_version"], "as_of": rs["as_of"]})


def store_draft(db: Database, check: StoredCheck, actor: Principal, proposal: Mapping[str, Any],
                verdict: Mapping[str, Any]) -> int:
    """The applicant changed their answers on a draft: keep its evaluation as a revision and store the new one
    (one transaction). Conflict if it was submitted meanwhile. Returns the new revision."""
    with db.write() as conn:
        row = _lock_check(conn, check.id)
        if row is None or row.owner != actor.key_id:
            raise CheckNotFound(check.id)
        if row.status != "draft" or row.revision != check.revision:
            raise Conflict(row.status, "answer")
        revision = _next_revision(conn, check, proposal, verdict, "draft", utcnow())
        audit.append_many(conn, [_reevaluated(actor, check, revision, verdict)])
    return revision


def store_answers(db: Database, check: StoredCheck, actor: Principal, proposal: Mapping[str, Any],
                  verdict: Mapping[str, Any], answered: Sequence[str], message: str | None) -> None:
    """Keep the check's evaluation as a revision, store the new one, log both (one transaction)."""
    with db.write() as conn:
        row = _lock_check(conn, check.id)
        if row is None:  # pragma: no cover - checks are never deleted
            raise CheckNotFound(check.id)
        if row.status != "information_requested" or row.revision != check.revision:
            raise Conflict(row.status, "answer")
        now = utcnow()
        revision = _next_revision(conn, check, proposal, verdict, "submitted", now)
        conn.execute(insert(Review).values(
            check_id=check.id, revision=revision, actor=actor.key_id, created_at=now, decision="answer",
            from_status="information_requested", to_status="submitted", automated_verdict=verdict["verdict"],
            verdict=None, reason=message, questions_json=dumps(list(answered))))
        audit.append_many(conn, [
            audit.Entry(actor.key_id, AUDIT_ACTIONS["answer"], check.id, {
                "check": check.id, "facts": list(answered), "message": message, "from": "information_requested",
                "to": "submitted"}),
            _reevaluated(actor, check, revision, verdict),
        ])


def _literal_time(now: dt.datetime) -> Any:
    from sqlalchemy import literal
    from sqlalchemy.types import DateTime

    return literal(now, DateTime(timezone=True))


# -- reading the workflow -----------------------------------------------------------------------------
def _actor(key: str, name: str | None, role: str | None) -> dict[str, Any]:
    return {"key": key, "name": name, "role": role}


def state(db: Database, check: StoredCheck, questions: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The check's review state: status, outcome, the questions asked, every step, earlier evaluations."""
    with db.read() as conn:
        rows = conn.execute(
            select(Review.seq, Review.revision, Review.actor, Review.created_at, Review.decision, Review.from_status,
                   Review.to_status, Review.automated_verdict, Review.verdict, Review.reason,
                   Review.questions_json, ApiKey.name, ApiKey.role)
            .join(ApiKey, ApiKey.id == Review.actor, isouter=True)
            .where(Review.check_id == check.id).order_by(Review.seq)
        ).all()
        revisions = conn.execute(
            select(CheckRevision.revision, CheckRevision.created_at, CheckRevision.replaced_at, CheckRevision.as_of,
                   CheckRevision.verdict, CheckRevision.ruleset_hash)
            .where(CheckRevision.check_id == check.id).order_by(CheckRevision.revision)
        ).all()
    steps = [{
        "seq": r.seq, "revision": r.revision, "decision": r.decision, "from_status": r.from_status,
        "to_status": r.to_status, "automated_verdict": r.automated_verdict, "verdict": r.verdict,
        "reason": r.reason, "questions": orjson.loads(r.questions_json) if r.questions_json else None,
        "by": _actor(r.actor, r.name, r.role), "at": as_utc(r.created_at).isoformat(),
    } for r in rows]
    outcome = None
    if check.status in FINAL:
        last = next(s for s in reversed(steps) if s["decision"] in ("confirm", "override"))
        outcome = {"decision": last["decision"], "verdict": last["verdict"],
                   "automated_verdict": last["automated_verdict"], "reason": last["reason"], "by": last["by"],
                   "at": last["at"]}
    requested: list[dict[str, Any]] = []
    message = None
    if check.status == "information_requested":
        last = next(s for s in reversed(steps) if s["decision"] == "request_information")
        message = last["reason"]
        texts = questions or {}
        for fact in last["questions"] or []:
            text = texts.get(fact)
            requested.append({"fact": fact, "question": text.as_dict() if text is not None and hasattr(text, "as_dict")
                              else {"nl": fact, "en": fact}})
    verdict = check.verdict
    return {
        "check": check.id,
        "status": check.status,
        "revision": check.revision,
        "automated_verdict": verdict["verdict"],
        "final_verdict": outcome["verdict"] if outcome else None,
        "outcome": outcome,
        "requested": requested,
        "message": message,
        "possible_steps": possible_steps(check.status),
        "reviews": steps,
        "revisions": [{"revision": r.revision, "created_at": as_utc(r.created_at).isoformat(),
                       "replaced_at": as_utc(r.replaced_at).isoformat(), "as_of": r.as_of.isoformat(),
                       "verdict": r.verdict, "ruleset_hash": r.ruleset_hash} for r in revisions],
        "links": {"check": f"/v1/checks/{check.id}", "receipt": f"/v1/checks/{check.id}/receipt"},
    }


def earlier_proposals(db: Database, check_id: str) -> dict[int, dict[str, Any]]:
    """The proposal of each earlier evaluation of the check, by revision (the review page compares them)."""
    with db.read() as conn:
        rows = conn.execute(select(CheckRevision.revision, CheckRevision.proposal_json)
                            .where(CheckRevision.check_id == check_id)).all()
    return {r.revision: orjson.loads(r.proposal_json) for r in rows}


def outcomes(db: Database, check_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The latest confirm/override of each of these checks: decision, verdict, reason, when (for lists and the
    check's document)."""
    if not check_ids:
        return {}
    with db.read() as conn:
        rows = conn.execute(
            select(Review.check_id, Review.decision, Review.verdict, Review.reason, Review.created_at, Review.seq)
            .where(Review.check_id.in_(list(check_ids)), Review.decision.in_(("confirm", "override")))
            .order_by(Review.seq)
        ).all()
    return {r.check_id: {"decision": r.decision, "verdict": r.verdict, "reason": r.reason,
                         "at": as_utc(r.created_at).isoformat()} for r in rows}


# -- the queue ----------------------------------------------------------------------------------------
def queue_conditions(*, open_norms: bool | None = None, complete: bool | None = None,
                     min_age_days: int | None = None, now: dt.datetime | None = None) -> list[ColumnElement[bool]]:
    """Filters of the review queue, as conditions on the checks table."""
    out: list[ColumnElement[bool]] = []
    if open_norms is True:
        out.append(Check.open_norms > 0)
    elif open_norms is False:
        out.append(Check.open_norms == 0)
    if complete is not None:
        out.append(Check.complete.is_(complete))
    if min_age_days:
        out.append(Check.created_at <= (now or utcnow()) - dt.timedelta(days=min_age_days))
    return out


def status_condition(status: str | None) -> list[ColumnElement[bool]]:
    if status == "awaiting_review":
        return [Check.status.in_(AWAITING_REVIEW)]
    if status is not None:
        return [Check.status == status]
    return []


def queue(db: Database, *, status: str | None = "awaiting_review", verdict: str | None = None,
          open_norms: bool | None = None, complete: bool | None = None, min_age_days: int | None = None,
          limit: int = 200) -> list[dict[str, Any]]:
    """Checks for the assessors' queue page, longest waiting first."""
    q = (select(Check.id, Check.title, Check.status, Check.created_at, Check.verdict, Check.complete,
                Check.could_become, Check.open_norms, Check.owner, Check.revision, ApiKey.name)
         .join(ApiKey, ApiKey.id == Check.owner)
         .where(Check.status != "draft",  # a draft is its owner's alone until they submit it
                *status_condition(status), *queue_conditions(open_norms=open_norms, complete=complete,
                                                             min_age_days=min_age_days)))
    if verdict is not None:
        q = q.where(Check.verdict == verdict)
    q = q.order_by(Check.seq).limit(limit)
    with db.read() as conn:
        rows = conn.execute(q).all()
    return [{"id": r.id, "title": r.title, "status": r.status, "created_at": as_utc(r.created_at),
             "verdict": r.verdict, "complete": r.complete, "could_become": r.could_become,
             "open_norms": r.open_norms, "owner": r.owner, "owner_name": r.name, "revision": r.revision}
            for r in rows]


def own_checks(db: Database, owner: str, limit: int = 100) -> list[dict[str, Any]]:
    """An applicant's checks, newest first, with the review outcome."""
    with db.read() as conn:
        rows = conn.execute(
            select(Check.id, Check.title, Check.status, Check.created_at, Check.verdict, Check.complete)
            .where(Check.owner == owner).order_by(Check.seq.desc()).limit(limit)).all()
    found = outcomes(db, [r.id for r in rows])
    return [{"id": r.id, "title": r.title, "status": r.status, "created_at": as_utc(r.created_at),
             "verdict": r.verdict, "complete": r.complete, "outcome": found.get(r.id)} for r in rows]


