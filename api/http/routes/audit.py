"""The audit log over HTTP, read-only."""

from __future__ import annotations

import asyncio
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ...store.audit import audit_page
from ...store.db import MAX_SEQ
from ..deps import Auditor, database, json_response, secured
from ..models.review import AuditPage
from ..openapi import problem_responses

router = APIRouter()


@router.get(
    "/v1/audit", tags=["review"], summary="The audit log, newest first (read-only)",
    response_model=None, responses={200: {"model": AuditPage, "description": "Audit records."},
                                    **problem_responses(400, 401, 403, 500, 503)},
    openapi_extra=secured(),
)
async def get_audit(
    request: Request, principal: Auditor,
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
                                         before=before, limit=limit, reader=principal.key_id)
    return json_response(orjson.dumps({"items": items, "next_before": nxt}))
