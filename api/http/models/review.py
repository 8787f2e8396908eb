"""Response models of the review workflow: review state, receipts, replay reports, the audit log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...vocab import CheckStatus, Effect, Lang
from ...workflow import StepName
from .base import Closed, Text
from .checks import VerdictSummary


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
    case: str | None = Field(description="The check's case number with this evaluation's revision (BT-000123/2).")
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
    lang: Lang
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
