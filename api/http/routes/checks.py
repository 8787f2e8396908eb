"""Stored checks: create one (exactly once per idempotency key), read one, list them."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from ...documents import slim
from ...services import create_once
from ...store import checks, receipts
from ...store.keys import Principal
from ...store.reviews import outcomes, queue_conditions, status_condition
from ...vocab import FINAL, Effect, QueueStatus
from ..deps import (
    COMMON_PROBLEMS,
    AnyKey,
    Applicant,
    AsOf,
    IdempotencyKey,
    Include,
    LangQ,
    Reader,
    View,
    applicant,
    database,
    evaluate,
    json_response,
    plain_check_params,
    secured,
    state_of,
    writer,
)
from ..models.checks import Check, CheckPage
from ..openapi import problem_responses, proposal_body
from ..problems import Problem
from ..receive import choose_lang, receive_proposal

router = APIRouter()


async def post_check(request: Request, principal: Applicant, as_of: AsOf = None, lang: LangQ = None,
                     idempotency_key: IdempotencyKey = None, view: View = "slim") -> Response:
    """Evaluate a proposal and store it, with its verdict, ruleset hash, engine version and date.

    Only applicants create checks; the check belongs to the key that created it. The stored verdict's
    `changes` ("what would change it") is an empty list: ask `GET /v1/checks/{id}?include=changes` for it.
    The verdict is stored and answered slim; `?view=full` answers it with every text in both languages.
    With an Idempotency-Key,
    sending the same request again returns the check it stored instead of storing a second one.
    """
    st = state_of(request)
    received = await receive_proposal(request, st.settings.max_body_bytes)
    chosen = choose_lang(lang, request.headers.get("accept-language"))
    request_hash = None
    if idempotency_key is not None:
        request_hash = hashlib.sha256(orjson.dumps(
            {"proposal": received.document, "as_of": as_of, "lang": chosen}, option=orjson.OPT_SORT_KEYS,
        )).hexdigest()
        earlier = await stored_before(request, principal, idempotency_key, request_hash, view)
        if earlier is not None:
            return earlier
    verdict = await evaluate(request, received, as_of, chosen, view="slim")  # stored slim; ?view=full expands it
    new = checks.NewCheck(principal, received.raw, received.media_type, received.document,
                          received.proposal.title, verdict, chosen, idempotency_key, request_hash)
    # The same key in a request that was stored meanwhile (two retries at once): answer with that one.
    stored, stored_hash, replayed = await create_once(writer(request), database(request), new)
    if replayed:
        return await replay_of(request, stored, stored_hash, request_hash, view)
    texts = None
    if view == "full":
        stored = await in_full(request, stored)
    else:  # (a verdict the engine could not give slim, several activities combined, is stored slim if it can be)
        texts = slim.texts(verdict if slim.is_slim(verdict) else stored.verdict, st.service.base)
    return json_response(stored.document(texts=texts), 201, headers={
        "Location": f"/v1/checks/{stored.id}", "Content-Language": chosen})


class LeanRoute(APIRoute):
    """A route whose common requests skip FastAPI's dependency machinery (solving the dependencies, validating
    the parameters: ~7 % of a stored check's CPU under load). When every parameter is absent or plainly valid
    (``plain_check_params``) the caller's key is checked by the same dependency and the endpoint is called
    directly; any other request goes through FastAPI's handler, which answers it exactly as before."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        full = super().get_route_handler()

        async def handler(request: Request) -> Response:
            params = plain_check_params(request)
            if params is None:
                return await full(request)
            principal = await applicant(request)
            assert principal is not None  # (only roles with an open setting may be None)
            return await post_check(request, principal, *params)

        return handler


router.add_api_route(
    "/v1/checks", post_check, methods=["POST"], route_class_override=LeanRoute,
    tags=["checks"], summary="Evaluate a proposal and store it as a check",
    response_model=None, status_code=201,
    responses={201: {"model": Check, "description": "The stored check, committed before this response.",
                     "headers": {"Location": {"description": "The check's address.",
                                              "schema": {"type": "string"}},
                                 "Idempotent-Replayed": {
                                     "description": "'true' when this check was stored by an earlier request "
                                                    "with the same Idempotency-Key (nothing new was stored).",
                                     "schema": {"type": "string", "enum": ["true"]}, "required": False}}},
               **problem_responses(*COMMON_PROBLEMS)},
    openapi_extra={**proposal_body("The proposal, as JSON (or YAML)."), **secured()},
)


async def stored_before(request: Request, principal: Principal, key: str, request_hash: str,
                        view: str) -> Response | None:
    """The answer to a request sent again with its Idempotency-Key: the check it stored, or a 422 problem."""
    found = await asyncio.to_thread(checks.by_idempotency_key, database(request), principal.key_id, key)
    if found is None:
        return None
    return await replay_of(request, *found, request_hash, view)


async def in_full(request: Request, stored: checks.StoredCheck) -> checks.StoredCheck:
    """The check with its verdict in the full form, with the texts of the rule base it was evaluated under."""
    return await asyncio.to_thread(receipts.with_full_verdict, database(request), stored)


async def in_view(request: Request, stored: checks.StoredCheck,
                  view: str) -> tuple[checks.StoredCheck, dict[str, Any] | None]:
    """The check in the view asked for: full, or slim with the texts of what its verdict names beside it."""
    if view == "full":
        return await in_full(request, stored), None
    return stored, await asyncio.to_thread(receipts.texts, database(request), stored)


async def replay_of(request: Request, stored: checks.StoredCheck, stored_hash: str | None, request_hash: str | None,
                    view: str) -> Response:
    """The check an earlier request with the same Idempotency-Key stored, if that request was this one."""
    if stored_hash != request_hash:
        raise Problem("idempotency-key-reused", "A check was already stored with this Idempotency-Key for a "
                      "different request; send a new proposal with a new key.",
                      errors=[{"parameter": "Idempotency-Key", "detail": f"already used for check {stored.id}"}])
    stored, texts = await in_view(request, stored, view)
    return json_response(stored.document(texts=texts), 201, headers={
        "Location": f"/v1/checks/{stored.id}", "Content-Language": stored.lang, "Idempotent-Replayed": "true"})


@router.get(
    "/v1/checks/{check_id}", tags=["checks"], summary="Get a stored check",
    response_model=None, responses={200: {"model": Check, "description": "The check."},
                                    **problem_responses(401, 404, 409, 500, 503)},
    openapi_extra=secured(),
)
async def get_check(request: Request, check_id: str,
                    principal: AnyKey, include: Include = None, view: View = "slim") -> Response:
    """A check, for its owner or an assessor (a draft: its owner only). Anyone else is told it does not exist
    (404). Once an assessor has decided, the check carries the decision, its reason and the final verdict.

    With `?include=changes` the verdict's `changes` ("what would change it") is computed -- under the rules
    the check was made with -- and then kept for this check; without it, checks stored since explanations are
    on demand have an empty `changes` list.

    The verdict is slim; with `?view=full` it is expanded with the texts of the rule base the check was
    evaluated under (its stored snapshot), never today's: 409 when that rule base is not stored on this server.
    """
    db = database(request)
    stored = await asyncio.to_thread(checks.readable, db, check_id, principal)
    if include == "changes":
        stored = stored.with_changes(await receipts.changes_in_server(db, stored))
    stored, texts = await in_view(request, stored, view)
    decision = None
    if stored.status in FINAL:
        decision = (await asyncio.to_thread(outcomes, db, [stored.id])).get(stored.id)
    return json_response(stored.document(decision, texts), headers={"Content-Language": stored.lang})


@router.get(
    "/v1/checks", tags=["checks"], summary="List checks, newest first",
    response_model=None, responses={200: {"model": CheckPage, "description": "One page of checks."},
                                    **problem_responses(400, 401, 403, 500, 503)},
    openapi_extra=secured(),
)
async def list_checks(
    request: Request, principal: Reader,
    verdict: Annotated[Effect | None, Query(description="Only checks with this verdict.")] = None,
    status: Annotated[QueueStatus | None, Query(description="Only checks in this review status; "
                                               "awaiting_review: submitted or in review.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Checks per page.")] = 20,
    cursor: Annotated[str | None, Query(max_length=100, description="From a previous page's next_cursor.")] = None,
    open_norms: Annotated[bool | None, Query(description="true: only checks whose verdict flags open norms "
                                             "(human judgement needed); false: only checks without.")] = None,
    incomplete: Annotated[bool | None, Query(description="true: only checks with open questions; false: only "
                                             "complete ones.")] = None,
    min_age_days: Annotated[int | None, Query(ge=0, le=36500, description="Only checks stored at least this "
                                              "many days ago.")] = None,
) -> Response:
    """An applicant's own checks (an assessor sees every check), paginated, filterable by verdict."""
    before = None
    if cursor is not None:
        before = checks.decode_cursor(cursor)
        if before is None:
            raise Problem("malformed-request", "The cursor is not one this API gave out.",
                          errors=[{"parameter": "cursor", "detail": "use next_cursor of the previous page"}])
    where = status_condition(status) + queue_conditions(
        open_norms=open_norms, complete=None if incomplete is None else not incomplete, min_age_days=min_age_days)
    items, last = await asyncio.to_thread(checks.list_page, database(request), principal, limit=limit,
                                          before=before, verdict=verdict, status=None, where=where)
    next_cursor = checks.encode_cursor(last) if last is not None else None
    next_link = None
    if next_cursor is not None:
        params: dict[str, str] = {k: v for k, v in (("verdict", verdict), ("status", status)) if v}
        params.update({k: str(v).lower() for k, v in (("open_norms", open_norms), ("incomplete", incomplete),
                                                      ("min_age_days", min_age_days)) if v is not None})
        params.update(limit=str(limit), cursor=next_cursor)
        next_link = "/v1/checks?" + "&".join(f"{k}={v}" for k, v in params.items())
    return json_response(orjson.dumps({"items": items, "next_cursor": next_cursor,
                                       "links": {"next": next_link}}))
