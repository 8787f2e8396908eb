"""The review workflow: an assessor's decisions on a stored check, the applicant's answers, the state machine.

A check moves through these states (``TRANSITIONS`` is the whole machine)::

    submitted --start_review--> in_review
    submitted | in_review --confirm--> confirmed                  (final)
    submitted | in_review --override--> overridden                (final; new verdict + reason)
    submitted | in_review --request_information--> information_requested
    information_requested --answer (applicant; re-evaluated)--> submitted

Anything else is refused with 409. Each step is one transaction: the check's
status moves only if it is still what the step started from, a row is added
to ``reviews`` (with the automated verdict it was about) and a record to the
audit chain. An override never changes the automated verdict: it is kept in
the check, and the override stands beside it with its reason. Answers keep
the earlier evaluation in ``check_revisions`` and store the new one.
"""

# No ``from __future__ import annotations`` here: FastAPI has to resolve the route parameters'
# annotations, which refer to dependencies made inside ``add_routes``.
import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import Connection
from starlette.responses import Response

from . import answers as ans
from . import audit
from .auth import Principal, Role
from .db import MAX_SEQ, ApiKey, AuditRecord, Check, CheckRevision, Database, Review, as_utc, dumps, utcnow
from .inputs import pointer
from .models import Closed, Text
from .problems import Problem
from .receipts import CheckRow, load_check

Effect = Literal["allowed", "conditional", "prohibited"]
CheckStatus = Literal["submitted", "in_review", "confirmed", "overridden", "information_requested"]
DecisionName = Literal["start_review", "confirm", "override", "request_information"]
StepName = Literal["start_review", "confirm", "override", "request_information", "answer"]

AWAITING_REVIEW = ("submitted", "in_review")
FINAL = ("confirmed", "overridden")
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start_review": (("submitted",), "in_review"),
    "confirm": (AWAITING_REVIEW, "confirmed"),
    "override": (AWAITING_REVIEW, "overridden"),
    "request_information": (AWAITING_REVIEW, "information_requested"),
    "answer": (("information_requested",), "submitted"),
}
AUDIT_ACTIONS = {
    "start_review": "review.started",
    "confirm": "review.confirmed",
    "override": "review.overridden",
    "request_information": "review.information_requested",
    "answer": "check.answered",
}
MAX_REASON = 5000


class Conflict(Exception):
    """A step the check's current status does not allow."""

    def __init__(self, status: str, step: str) -> None:
        self.status = status
        self.step = step
        possible = possible_steps(status)
        if status in FINAL:
            then = "a reviewed check is final"
        elif possible:
            then = "possible now: " + ", ".join(possible)
        else:
            then = "nothing is possible now"
        super().__init__(f"The check is {status.replace('_', ' ')}; '{step}' is not possible from there ({then}).")


def possible_steps(status: str) -> list[str]:
    return [step for step, (froms, _) in TRANSITIONS.items() if status in froms]


def next_status(status: str, step: str) -> str:
    froms, to = TRANSITIONS[step]
    if status not in froms:
        raise Conflict(status, step)
    return to


# -- request bodies ---------------------------------------------------------------------------------
class ReviewRequest(BaseModel):
    """An assessor's decision on a check."""

    model_config = ConfigDict(extra="forbid", strict=True)

    decision: DecisionName = Field(description="start_review: take the check into review; confirm: the automated "
                                   "verdict stands; override: replace it (needs verdict and reason); "
                                   "request_information: send questions back to the applicant.")
    verdict: Effect | None = Field(None, description="For override: the verdict that replaces the automated one.")
    reason: str | None = Field(None, max_length=MAX_REASON, description="Why (required for override); for "
                               "request_information: the message to the applicant.")
    questions: list[str] | None = Field(None, max_length=100, description="For request_information: the facts to "
                                        "ask about; default: the verdict's open questions.")


class AnswersRequest(BaseModel):
    """The applicant's answers to the questions an assessor sent back."""

    model_config = ConfigDict(extra="forbid", strict=True)

    answers: dict[str, Any] = Field(description="Fact name -> value (true/false, an enum value, a number, or a "
                                    "list of codes); null means 'I don't know'.")
    message: str | None = Field(None, max_length=MAX_REASON, description="A note for the assessor.")


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    return schema


class InvalidInput(Problem):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        n = len(errors)
        super().__init__("invalid-input", f"The request has {n} invalid field{'s' if n != 1 else ''}: "
                         + "; ".join(f"{e['pointer'] or '/'} {e['detail']}" for e in errors[:5]) + ".",
                         errors=errors)


def _pydantic_errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        kind = e.get("type", "")
        ctx = e.get("ctx") or {}
        if kind == "extra_forbidden":
            detail = "is not a field of this request"
        elif kind == "missing":
            detail = "is required"
        elif kind == "literal_error":
            detail = f"must be one of {ctx.get('expected', '')}"
        elif kind == "string_too_long":
            detail = f"is too long: at most {ctx.get('max_length')} characters"
        elif kind == "too_long":
            detail = f"has too many entries: at most {ctx.get('max_length')}"
        elif kind in ("string_type", "list_type", "dict_type", "model_type"):
            detail = {"string_type": "must be text", "list_type": "must be a list",
                      "dict_type": "must be an object", "model_type": "must be an object"}[kind]
        else:
            detail = str(e.get("msg", "is invalid"))
        out.append({"pointer": pointer(tuple(e["loc"])), "detail": detail})
    return out


def parse_review(doc: Any) -> ReviewRequest:
    try:
        return ReviewRequest.model_validate(doc)
    except ValidationError as exc:
        raise InvalidInput(_pydantic_errors(exc)) from None


def parse_answers(doc: Any) -> AnswersRequest:
    try:
        return AnswersRequest.model_validate(doc)
    except ValidationError as exc:
        raise InvalidInput(_pydantic_errors(exc)) from None


@dataclass(frozen=True)
class Decision:
    """A decision checked against the check it is about."""

    step: str
    verdict: str | None
    reason: str | None
    questions: list[str] | None


def check_decision(req: ReviewRequest, automated: Mapping[str, Any]) -> Decision:
    """The decision with its defaults filled in; InvalidInput when it does not fit the check's verdict."""
    errors: list[dict[str, str]] = []
    reason = (req.reason or "").strip() or None
    verdict = req.verdict
    questions = None
    if req.decision == "override":
        if verdict is None:
            errors.append({"pointer": "/verdict", "detail": "an override needs the verdict that replaces the "
                           "automated one"})
        elif verdict == automated["verdict"]:
            errors.append({"pointer": "/verdict", "detail": f"is the automated verdict ({verdict}); to keep it, "
                           "use decision 'confirm'"})
        if reason is None:
            errors.append({"pointer": "/reason", "detail": "an override needs a reason (it is kept with the "
                           "decision and shown to the applicant)"})
    elif req.decision == "confirm":
        if verdict is not None and verdict != automated["verdict"]:
            errors.append({"pointer": "/verdict", "detail": f"differs from the automated verdict "
                           f"({automated['verdict']}); to change it, use decision 'override'"})
        verdict = automated["verdict"]
    elif verdict is not None:
        errors.append({"pointer": "/verdict", "detail": f"is only given with decision 'override' or 'confirm', "
                       f"not '{req.decision}'"})
    if req.decision == "request_information":
        open_facts = [q["fact"] for q in automated["questions"]]
        if req.questions is None:
            questions = [ans.asked_as(f) for f in open_facts]
        else:
            questions = []
            for i, fact in enumerate(req.questions):
                if fact not in ans.facts():
                    errors.append({"pointer": f"/questions/{i}", "detail": f"{fact!r} is not a fact of the "
                                   "proposal (see /v1/schemas/proposal)"})
                else:
                    questions.append(ans.asked_as(fact))
        questions = list(dict.fromkeys(questions))
        if not questions and reason is None:
            errors.append({"pointer": "/questions", "detail": "the verdict has no open questions: name the facts "
                           "to ask about, or write what you need in 'reason'"})
    elif req.questions is not None:
        errors.append({"pointer": "/questions", "detail": "is only given with decision 'request_information'"})
    if errors:
        raise InvalidInput(errors)
    return Decision(req.decision, verdict, reason, questions)


# -- storage ----------------------------------------------------------------------------------------
def _lock_check(conn: Connection, check_id: str) -> Any:
    q = select(Check.status, Check.verdict, Check.revision, Check.verdict_json, Check.owner).where(
        Check.id == check_id)
    if conn.dialect.name != "sqlite":  # SQLite: the write transaction (BEGIN IMMEDIATE) already excludes others
        q = q.with_for_update()
    return conn.execute(q).one_or_none()


class NotFound(Exception):
    pass


def decide(db: Database, check_id: str, actor: Principal, req: ReviewRequest) -> dict[str, Any]:
    """Record an assessor's decision (one transaction); NotFound, Conflict or InvalidInput otherwise."""
    with db.write() as conn:
        row = _lock_check(conn, check_id)
        if row is None:
            raise NotFound(check_id)
        to = next_status(row.status, req.decision)
        decision = check_decision(req, orjson.loads(row.verdict_json))
        moved = conn.execute(update(Check).where(Check.id == check_id, Check.status == row.status)
                             .values(status=to)).rowcount
        if moved != 1:  # pragma: no cover - the row lock above makes this unreachable
            raise Conflict(row.status, req.decision)
        now = utcnow()
        conn.execute(Review.__table__.insert().values(
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


def load_for_answers(db: Database, check_id: str, principal: Principal) -> CheckRow:
    """The check the applicant answers questions on; NotFound (not theirs) or Conflict (nothing was asked)."""
    check = load_check(db, check_id)
    if check is None or check.owner != principal.key_id:
        raise NotFound(check_id)
    if check.status != "information_requested":
        raise Conflict(check.status, "answer")
    return check


def store_answers(db: Database, check: CheckRow, actor: Principal, proposal: Mapping[str, Any],
                  verdict: Mapping[str, Any], answered: Sequence[str], message: str | None) -> None:
    """Keep the check's evaluation as a revision, store the new one, log both (one transaction)."""
    rs = verdict["ruleset"]
    with db.write() as conn:
        row = _lock_check(conn, check.id)
        if row is None:  # pragma: no cover - checks are never deleted
            raise NotFound(check.id)
        if row.status != "information_requested" or row.revision != check.revision:
            raise Conflict(row.status, "answer")
        now = utcnow()
        conn.execute(CheckRevision.__table__.insert().from_select(
            ["check_id", "revision", "created_at", "replaced_at", "as_of", "lang", "ruleset_hash", "engine_version",
             "verdict", "proposal_json", "verdict_json"],
            select(Check.id, Check.revision, Check.created_at, _literal_time(now), Check.as_of, Check.lang,
                   Check.ruleset_hash, Check.engine_version, Check.verdict, Check.proposal_json, Check.verdict_json)
            .where(Check.id == check.id)))
        proposal_json = dumps(proposal)
        revision = check.revision + 1
        conn.execute(update(Check).where(Check.id == check.id).values(
            status="submitted", revision=revision, proposal_raw=proposal_json, proposal_media_type="application/json",
            proposal_json=proposal_json, verdict_json=dumps(verdict), verdict=verdict["verdict"],
            complete=verdict["complete"], could_become=verdict["could_become"],
            could_fall_to=verdict["could_fall_to"], as_of=dt.date.fromisoformat(rs["as_of"]), lang=verdict["lang"],
            ruleset_hash=rs["hash"], engine_version=rs["engine_version"], open_norms=len(verdict["open_norms"])))
        conn.execute(Review.__table__.insert().values(
            check_id=check.id, revision=revision, actor=actor.key_id, created_at=now, decision="answer",
            from_status="information_requested", to_status="submitted", automated_verdict=verdict["verdict"],
            verdict=None, reason=message, questions_json=dumps(list(answered))))
        audit.append_many(conn, [
            audit.Entry(actor.key_id, AUDIT_ACTIONS["answer"], check.id, {
                "check": check.id, "facts": list(answered), "message": message, "from": "information_requested",
                "to": "submitted"}),
            audit.Entry(actor.key_id, "check.reevaluated", check.id, {
                "check": check.id, "revision": revision, "verdict": verdict["verdict"],
                "complete": verdict["complete"], "previous_verdict": check.verdict["verdict"],
                "ruleset_hash": rs["hash"], "engine_version": rs["engine_version"], "as_of": rs["as_of"]}),
        ])


def _literal_time(now: dt.datetime) -> Any:
    from sqlalchemy import literal
    from sqlalchemy.types import DateTime

    return literal(now, DateTime(timezone=True))


# -- reading the workflow -----------------------------------------------------------------------------
def _actor(key: str, name: str | None, role: str | None) -> dict[str, Any]:
    return {"key": key, "name": name, "role": role}


def state(db: Database, check: CheckRow, questions: Mapping[str, Any] | None = None) -> dict[str, Any]:
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
            requested.append({"fact": fact, "question": text.as_dict() if hasattr(text, "as_dict")
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


def outcomes(db: Database, check_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The latest confirm/override of each of these checks (for lists)."""
    if not check_ids:
        return {}
    with db.read() as conn:
        rows = conn.execute(
            select(Review.check_id, Review.decision, Review.verdict, Review.seq)
            .where(Review.check_id.in_(list(check_ids)), Review.decision.in_(("confirm", "override")))
            .order_by(Review.seq)
        ).all()
    return {r.check_id: {"decision": r.decision, "verdict": r.verdict} for r in rows}


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
         .where(*status_condition(status), *queue_conditions(open_norms=open_norms, complete=complete,
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


# -- the audit log, read-only -------------------------------------------------------------------------
def audit_page(db: Database, *, subject: str | None = None, action: str | None = None, before: int | None = None,
               limit: int = 50) -> tuple[list[dict[str, Any]], int | None]:
    """Audit records, newest first (reading only: nothing in the API or the pages changes the log)."""
    q = select(AuditRecord.seq, AuditRecord.at, AuditRecord.actor, AuditRecord.action, AuditRecord.subject,
               AuditRecord.payload, AuditRecord.prev_hash, AuditRecord.hash, ApiKey.name).join(
        ApiKey, ApiKey.id == AuditRecord.actor, isouter=True)
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
    items = [{"seq": r.seq, "at": as_utc(r.at).isoformat(), "actor": r.actor, "actor_name": r.name,
              "action": r.action, "subject": r.subject, "data": orjson.loads(r.payload).get("data", {}),
              "prev_hash": r.prev_hash, "hash": r.hash} for r in rows]
    return items, (rows[-1].seq if more and rows else None)


# -- response models (for the OpenAPI document) -------------------------------------------------------
class Actor(Closed):
    key: str = Field(description="Id of the API key.")
    name: str | None
    role: str | None


class ReviewStep(Closed):
    seq: int
    revision: int = Field(description="Which evaluation of the check the step was about.")
    decision: StepName
    from_status: CheckStatus
    to_status: CheckStatus
    automated_verdict: Effect = Field(description="The engine's verdict at that moment (never changed).")
    verdict: Effect | None = Field(description="confirm: the verdict confirmed; override: the new verdict.")
    reason: str | None = Field(description="The assessor's reason or message, or the applicant's note.")
    questions: list[str] | None = Field(description="request_information: the facts asked about; answer: the "
                                        "facts answered.")
    by: Actor
    at: str


class ReviewOutcome(Closed):
    decision: Literal["confirm", "override"]
    verdict: Effect
    automated_verdict: Effect
    reason: str | None
    by: Actor
    at: str


class RequestedQuestion(Closed):
    fact: str
    question: Text


class RevisionSummary(Closed):
    revision: int
    created_at: str
    replaced_at: str
    as_of: str
    verdict: Effect
    ruleset_hash: str


class ReviewLinks(Closed):
    check: str
    receipt: str


class ReviewState(Closed):
    """Where a check stands in its review, with every step taken."""

    check: str
    status: CheckStatus
    revision: int = Field(description="The current evaluation (1 = as created; +1 per re-evaluation).")
    automated_verdict: Effect = Field(description="The engine's verdict on the current evaluation.")
    final_verdict: Effect | None = Field(description="After confirm or override: the verdict that stands.")
    outcome: ReviewOutcome | None
    requested: list[RequestedQuestion] = Field(description="While information is requested: the questions.")
    message: str | None = Field(description="While information is requested: the assessor's message.")
    possible_steps: list[StepName] = Field(description="What the state machine allows next.")
    reviews: list[ReviewStep]
    revisions: list[RevisionSummary] = Field(description="Earlier evaluations, kept as they were.")
    links: ReviewLinks


class AuditEntry(Closed):
    seq: int
    at: str
    actor: str
    actor_name: str | None
    action: str
    subject: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(Closed):
    items: list[AuditEntry]
    next_before: int | None = Field(description="Pass as 'before' for older records; null at the start.")


class AuditAnchor(Closed):
    seq: int
    hash: str
    at: str


class Receipt(Closed):
    """What a stored verdict rests on; receipt_hash covers every field from check to audit_record."""

    check: str
    revision: int
    created_at: str
    title: str | None
    proposal_hash: str = Field(description="SHA-256 of the proposal as canonical JSON (sorted keys).")
    verdict: Effect
    complete: bool
    could_become: Effect
    could_fall_to: Effect
    grounds: list[str] = Field(description="The rules that apply (classification rules left out).")
    conditions: int
    open_questions: int
    open_norms: int
    as_of: str
    lang: Literal["en", "nl"]
    scenario: str | None
    ruleset_hash: str
    rules_in_force: int
    rule_files: dict[str, str] | None = Field(description="SHA-256 of each rule file (null if not stored).")
    engine_version: str
    audit_record: AuditAnchor | None = Field(description="The audit record that logged this evaluation.")
    receipt_hash: str
    reference: str = Field(description="A short reference made from receipt_hash.")
    status: CheckStatus
    review: ReviewOutcome | None
    replayable: bool = Field(description="The rule files are stored, so the check can be replayed.")
    disclaimer: Text


class VerdictSummary(Closed):
    verdict: Effect
    complete: bool
    could_become: Effect
    could_fall_to: Effect


class EngineVersions(Closed):
    stored: str
    replayed: str


class ReplayReport(Closed):
    """The stored proposal evaluated again under the stored rule files, date and language."""

    check: str
    revision: int
    ruleset_hash: str
    as_of: str
    engine_version: EngineVersions
    verdict_unchanged: bool = Field(description="verdict, complete, could_become and could_fall_to are the same.")
    identical: bool = Field(description="The whole verdict document is the same.")
    differences: list[str] = Field(description="Top-level parts of the verdict document that differ.")
    stored: VerdictSummary
    replayed: VerdictSummary
    audit_record: int = Field(description="The audit record that logged this replay.")


# -- HTTP routes ------------------------------------------------------------------------------------
def add_routes(app: FastAPI) -> None:
    from . import checks, quota
    from . import receipts as rc
    from .app import (
        JSON,
        ReceivedProposal,
        any_key,
        database,
        evaluate,
        json_response,
        requires,
        secured,
        state_of,
    )
    from .openapi import problem_responses
    from .receive import media_type, read_body, validate_proposal

    assessor = requires(Role.assessor)
    applicant = requires(Role.applicant)
    auditor = requires(Role.assessor, Role.admin)
    not_found = "There is no check with this id that your key may see."

    def readable(db: Database, check_id: str, principal: Principal) -> CheckRow:
        check = load_check(db, check_id)
        if check is None or not checks.may_read(principal, check.owner):
            raise Problem("not-found", not_found)
        return check

    async def json_body(request: Request) -> Any:
        kind = media_type(request)
        if kind != "application/json" and not kind.endswith("+json"):
            raise Problem("unsupported-media-type", f"Content-Type {kind!r} is not accepted here; send "
                          "application/json.", headers={"Accept": "application/json"})
        data = await read_body(request, 64_000)
        if not data.strip():
            raise Problem("malformed-request", "The body is empty; send a JSON object.")
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise Problem("malformed-request", f"The body is not valid JSON: {exc}.") from None

    def questions_text(request: Request) -> Mapping[str, Any]:
        base = state_of(request).service.base
        return base.questions if base is not None else {}

    body_codes = (400, 401, 403, 404, 409, 413, 415, 422, 500, 503)

    @app.post(
        "/v1/checks/{check_id}/reviews", tags=["review"], summary="Review a check: start, confirm, override, or "
        "request information", response_model=None, status_code=201,
        responses={201: {"model": ReviewState, "description": "The decision is recorded (and in the audit log); "
                         "the check's review state."}, **problem_responses(*body_codes)},
        openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": body_schema(ReviewRequest)}}},
                       **secured()},
    )
    async def post_review(request: Request, check_id: str,
                          principal: Annotated[Principal, Depends(assessor)]) -> Response:
        """Assessors only. An override needs the new ``verdict`` and a non-empty ``reason``; the automated verdict
        is kept. ``request_information`` sends questions back (default: the verdict's open questions). A step
        the check's status does not allow is refused with 409."""
        req = parse_review(await json_body(request))
        db = database(request)
        if len(check_id) > 36:
            raise Problem("not-found", not_found)
        try:
            await asyncio.to_thread(decide, db, check_id, principal, req)
        except NotFound:
            raise Problem("not-found", not_found) from None
        except Conflict as exc:
            raise Problem("conflict", str(exc)) from None
        check = await asyncio.to_thread(readable, db, check_id, principal)
        body = await asyncio.to_thread(state, db, check, questions_text(request))
        return json_response(orjson.dumps(body), 201, headers={"Location": f"/v1/checks/{check_id}/reviews"})

    @app.get(
        "/v1/checks/{check_id}/reviews", tags=["review"], summary="A check's review state and history",
        response_model=None, responses={200: {"model": ReviewState, "description": "The review state."},
                                        **problem_responses(401, 404, 500, 503)},
        openapi_extra=secured(),
    )
    async def get_reviews(request: Request, check_id: str,
                          principal: Annotated[Principal, Depends(any_key)]) -> Response:
        """For the check's owner or an assessor: status, the outcome (confirmed or overridden, with the reason),
        the questions an assessor asked, every step, and earlier evaluations."""
        db = database(request)
        check = await asyncio.to_thread(readable, db, check_id, principal)
        return json_response(orjson.dumps(await asyncio.to_thread(state, db, check, questions_text(request))))

    @app.post(
        "/v1/checks/{check_id}/answers", tags=["review"], summary="Answer an assessor's questions (re-evaluates)",
        response_model=None, status_code=200,
        responses={200: {"model": ReviewState, "description": "The check is re-evaluated and back in the queue."},
                   **problem_responses(*body_codes)},
        openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": body_schema(AnswersRequest)}}},
                       **secured()},
    )
    async def post_answers(request: Request, check_id: str,
                           principal: Annotated[Principal, Depends(applicant)]) -> Response:
        """The check's owner answers, fact by fact (null: I don't know). The proposal is updated, evaluated again
        under today's law and goes back to the assessors as 'submitted'; the earlier evaluation is kept."""
        req = parse_answers(await json_body(request))
        db = database(request)
        try:
            check = await asyncio.to_thread(load_for_answers, db, check_id, principal)
        except NotFound:
            raise Problem("not-found", not_found) from None
        except Conflict as exc:
            raise Problem("conflict", str(exc)) from None
        try:
            doc = ans.apply(orjson.loads(check.proposal_json), req.answers)
        except ans.AnswerError as exc:
            raise InvalidInput([{"pointer": "/answers/" + exc.fact.replace("~", "~0").replace("/", "~1"),
                                 "detail": str(exc)}]) from None
        try:
            proposal = validate_proposal(doc)
        except Problem as exc:
            raise InvalidInput([{"pointer": "/answers", "detail": f"{e['pointer']} {e['detail']}"}
                                for e in exc.errors]) from None
        verdict = await evaluate(request, ReceivedProposal(orjson.dumps(doc).decode(), JSON, doc, proposal), None,
                                 check.lang)
        try:
            await asyncio.to_thread(store_answers, db, check, principal, doc, verdict, list(req.answers),
                                    (req.message or "").strip() or None)
        except Conflict as exc:
            raise Problem("conflict", str(exc)) from None
        fresh = await asyncio.to_thread(readable, db, check_id, principal)
        return json_response(orjson.dumps(await asyncio.to_thread(state, db, fresh, questions_text(request))))

    @app.get(
        "/v1/checks/{check_id}/receipt", tags=["review"], summary="A check's receipt",
        response_model=None, responses={200: {"model": Receipt, "description": "The receipt."},
                                        **problem_responses(401, 404, 500, 503)},
        openapi_extra=secured(),
    )
    async def get_receipt(request: Request, check_id: str,
                          principal: Annotated[Principal, Depends(any_key)]) -> Response:
        """Proposal hash, verdict, ruleset hash and the hash of each rule file, engine version, date of the law
        applied and the audit record of the evaluation; for the owner or an assessor."""
        db = database(request)
        check = await asyncio.to_thread(readable, db, check_id, principal)
        st = await asyncio.to_thread(state, db, check)
        return json_response(orjson.dumps(await asyncio.to_thread(rc.receipt, db, check, st["outcome"])))

    @app.post(
        "/v1/checks/{check_id}/replay", tags=["review"], summary="Replay a check under its stored rule files",
        response_model=None, responses={200: {"model": ReplayReport, "description": "What the replay found."},
                                        **problem_responses(401, 404, 409, 429, 500, 503)},
        openapi_extra=secured(),
    )
    async def post_replay(request: Request, check_id: str,
                          principal: Annotated[Principal, Depends(any_key)]) -> Response:
        """Evaluate the stored proposal again with the rule files, date and language it was evaluated with, and
        report whether the verdict is unchanged. Logged in the audit chain. 409 if the rule files are not stored."""
        db = database(request)
        check = await asyncio.to_thread(readable, db, check_id, principal)
        settings = state_of(request).settings
        await asyncio.to_thread(quota.check_replays, db, principal.key_id, settings.key_quota,
                                settings.key_quota_window_seconds)
        try:
            report = await rc.replay_in_server(db, check)
        except rc.SnapshotError as exc:
            raise Problem("conflict", str(exc)) from None
        report["audit_record"] = await asyncio.to_thread(rc.record_replay, db, principal.key_id, report)
        return json_response(orjson.dumps(report))

    @app.get(
        "/v1/audit", tags=["review"], summary="The audit log, newest first (read-only)",
        response_model=None, responses={200: {"model": AuditPage, "description": "Audit records."},
                                        **problem_responses(400, 401, 403, 500, 503)},
        openapi_extra=secured(),
    )
    async def get_audit(
        request: Request, principal: Annotated[Principal, Depends(auditor)],
        subject: Annotated[str | None, Query(max_length=100, description="Only records about this subject "
                                             "(a check id or key id).")] = None,
        action: Annotated[str | None, Query(max_length=50, description="Only this action, e.g. "
                                            "review.overridden.")] = None,
        before: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="Records before this number.")] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="Records per page.")] = 50,
    ) -> Response:
        """Assessors and admins. The log is append-only: no API call or page changes or removes a record;
        ``biotoets audit verify`` checks its hash chain."""
        items, nxt = await asyncio.to_thread(audit_page, database(request), subject=subject, action=action,
                                             before=before, limit=limit)
        return json_response(orjson.dumps({"items": items, "next_before": nxt}))

