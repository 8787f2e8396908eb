"""The review workflow over HTTP: an assessor's decision, a check's review state, the applicant's answers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from ...documents.inputs import validate_proposal
from ...faults import CheckNotFound, InvalidInput, InvalidProposal
from ...services import answer_questions
from ...store.checks import readable
from ...store.reviews import decide, load_for_answers, state
from ...workflow import AnswersRequest, ReviewRequest, parse_answers, parse_review
from ..deps import JSON, AnyKey, Applicant, Assessor, database, evaluate, json_body, json_response, secured, state_of
from ..models.review import ReviewState
from ..openapi import body_schema, problem_responses
from ..receive import ReceivedProposal

router = APIRouter()
MAX_BODY = 64_000
BODY_CODES = (400, 401, 403, 404, 409, 413, 415, 422, 500, 503)


def questions_text(request: Request) -> Mapping[str, Any]:
    base = state_of(request).service.base
    return base.questions if base is not None else {}


@router.post(
    "/v1/checks/{check_id}/reviews", tags=["review"], summary="Review a check: start, confirm, override, or "
    "request information", response_model=None, status_code=201,
    responses={201: {"model": ReviewState, "description": "The decision is recorded (and in the audit log); "
                     "the check's review state."}, **problem_responses(*BODY_CODES)},
    openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": body_schema(ReviewRequest)}}},
                   **secured()},
)
async def post_review(request: Request, check_id: str, principal: Assessor) -> Response:
    """Assessors only. An override needs the new ``verdict`` and a non-empty ``reason``; the automated verdict
    is kept. ``request_information`` sends questions back (default: the verdict's open questions). A step
    the check's status does not allow is refused with 409."""
    req = parse_review(await json_body(request, MAX_BODY))
    db = database(request)
    if len(check_id) > 36:
        raise CheckNotFound(check_id)
    await asyncio.to_thread(decide, db, check_id, principal, req)
    check = await asyncio.to_thread(readable, db, check_id, principal)
    body = await asyncio.to_thread(state, db, check, questions_text(request))
    return json_response(orjson.dumps(body), 201, headers={"Location": f"/v1/checks/{check_id}/reviews"})


@router.get(
    "/v1/checks/{check_id}/reviews", tags=["review"], summary="A check's review state and history",
    response_model=None, responses={200: {"model": ReviewState, "description": "The review state."},
                                    **problem_responses(401, 404, 500, 503)},
    openapi_extra=secured(),
)
async def get_reviews(request: Request, check_id: str, principal: AnyKey) -> Response:
    """For the check's owner or an assessor: status, the outcome (confirmed or overridden, with the reason),
    the questions an assessor asked, every step, and earlier evaluations."""
    db = database(request)
    check = await asyncio.to_thread(readable, db, check_id, principal)
    return json_response(orjson.dumps(await asyncio.to_thread(state, db, check, questions_text(request))))


@router.post(
    "/v1/checks/{check_id}/answers", tags=["review"], summary="Answer an assessor's questions (re-evaluates)",
    response_model=None, status_code=200,
    responses={200: {"model": ReviewState, "description": "The check is re-evaluated and back in the queue."},
               **problem_responses(*BODY_CODES)},
    openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": body_schema(AnswersRequest)}}},
                   **secured()},
)
async def post_answers(request: Request, check_id: str, principal: Applicant) -> Response:
    """The check's owner answers, fact by fact (null: I don't know). The proposal is updated, evaluated again
    under today's law and goes back to the assessors as 'submitted'; the earlier evaluation is kept."""
    req = parse_answers(await json_body(request, MAX_BODY))
    db = database(request)
    check = await asyncio.to_thread(load_for_answers, db, check_id, principal)

    async def evaluate_answered(doc: dict[str, Any]) -> dict[str, Any]:
        try:
            proposal = validate_proposal(doc)
        except InvalidProposal as exc:
            raise InvalidInput([{"pointer": "/answers", "detail": f"{e['pointer']} {e['detail']}"}
                                for e in exc.errors]) from None
        received = ReceivedProposal(orjson.dumps(doc).decode(), JSON, doc, proposal)
        return await evaluate(request, received, None, check.lang)

    await answer_questions(db, check, principal, req.answers, (req.message or "").strip() or None,
                           evaluate_answered)
    fresh = await asyncio.to_thread(readable, db, check_id, principal)
    return json_response(orjson.dumps(await asyncio.to_thread(state, db, fresh, questions_text(request))))
