"""The review workflow, pure: the state machine, the requests that move a check through it, and the decisions.

A check moves through these states (``TRANSITIONS`` is the whole machine)::

    draft --submit (applicant)--> submitted                       (a draft is seen by its owner only)
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

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .documents import answers as ans
from .documents.inputs import pointer
from .faults import InvalidInput
from .vocab import AWAITING_REVIEW, FINAL, Effect
from .wording import words

DecisionName = Literal["start_review", "confirm", "override", "request_information"]
StepName = Literal["submit", "start_review", "confirm", "override", "request_information", "answer"]

TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft",), "submitted"),
    "start_review": (("submitted",), "in_review"),
    "confirm": (AWAITING_REVIEW, "confirmed"),
    "override": (AWAITING_REVIEW, "overridden"),
    "request_information": (AWAITING_REVIEW, "information_requested"),
    "answer": (("information_requested",), "submitted"),
}
AUDIT_ACTIONS = {
    "submit": "check.submitted",
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


def _pydantic_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [{"pointer": pointer(tuple(e["loc"])), "detail": words(e, "request")} for e in exc.errors()]


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
