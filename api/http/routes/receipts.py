"""A check's receipt (what its verdict rests on) and its replay under the stored rule files."""

from __future__ import annotations

import asyncio

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from ...services import replay
from ...store import receipts as rc
from ...store.checks import readable
from ...store.reviews import state
from .. import quota
from ..deps import AnyKey, database, json_response, secured, state_of
from ..models.review import Receipt, ReplayReport
from ..openapi import problem_responses

router = APIRouter()


@router.get(
    "/v1/checks/{check_id}/receipt", tags=["review"], summary="A check's receipt",
    response_model=None, responses={200: {"model": Receipt, "description": "The receipt."},
                                    **problem_responses(401, 404, 500, 503)},
    openapi_extra=secured(),
)
async def get_receipt(request: Request, check_id: str, principal: AnyKey) -> Response:
    """Proposal hash, verdict, ruleset hash and the hash of each rule file, engine version, date of the law
    applied and the audit record of the evaluation; for the owner or an assessor."""
    db = database(request)
    check = await asyncio.to_thread(readable, db, check_id, principal)
    st = await asyncio.to_thread(state, db, check)
    return json_response(orjson.dumps(await asyncio.to_thread(rc.receipt, db, check, st["outcome"])))


@router.post(
    "/v1/checks/{check_id}/replay", tags=["review"], summary="Replay a check under its stored rule files",
    response_model=None, responses={200: {"model": ReplayReport, "description": "What the replay found."},
                                    **problem_responses(401, 404, 409, 429, 500, 503)},
    openapi_extra=secured(),
)
async def post_replay(request: Request, check_id: str, principal: AnyKey) -> Response:
    """Evaluate the stored proposal again with the rule files, date and language it was evaluated with, and
    report whether the verdict is unchanged. Logged in the audit chain. 409 if the rule files are not stored."""
    db = database(request)
    check = await asyncio.to_thread(readable, db, check_id, principal)
    settings = state_of(request).settings
    await asyncio.to_thread(quota.check_replays, db, principal.key_id, settings.key_quota,
                            settings.key_quota_window_seconds)
    report = await replay(db, check, principal)
    return json_response(orjson.dumps(report))
