"""The assessors' pages: the review queue and the audit log (read-only)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...store import audit, reviews
from ...store.db import MAX_SEQ
from ...store.keys import Role
from ...vocab import EFFECTS
from ..pages import _age, db_of, lang_of, need, render, route

router = APIRouter()


@route(router, "/queue")
async def queue_page(request: Request) -> Response:
    user = await need(request, Role.assessor)
    lang = lang_of(request)
    q = request.query_params
    status = q.get("status") or "awaiting_review"
    if status not in ("awaiting_review", "all", "submitted", "in_review", "information_requested", "confirmed",
                      "overridden"):
        status = "awaiting_review"
    verdict = q.get("verdict") if q.get("verdict") in EFFECTS else None
    norms = {"yes": True, "no": False}.get(q.get("open_norms", ""))
    completeness = {"incomplete": False, "complete": True}.get(q.get("complete", ""))
    try:
        min_age = max(0, min(36500, int(q.get("min_age_days") or 0)))
    except ValueError:
        min_age = 0
    items = await asyncio.to_thread(
        reviews.queue, db_of(request), status=None if status == "all" else status, verdict=verdict,
        open_norms=norms, complete=completeness, min_age_days=min_age or None)
    for item in items:
        item["age"] = _age(item["created_at"], lang)
    filters = {"status": status, "verdict": verdict or "", "open_norms": q.get("open_norms", ""),
               "complete": q.get("complete", ""), "min_age_days": str(min_age) if min_age else ""}
    return render(request, "queue.html", user, items=items, filters=filters)


@route(router, "/audit")
async def audit_log_page(request: Request) -> Response:
    user = await need(request, Role.applicant, Role.assessor, Role.admin)  # an applicant: their own checks' records
    q = request.query_params
    subject = (q.get("subject") or "").strip()[:100] or None
    action = q.get("action") if q.get("action") in audit.ACTIONS else None
    try:
        before = int(q.get("before") or 0) or None
    except ValueError:
        before = None
    if before is not None and not 0 < before <= MAX_SEQ:
        before = None
    items, nxt = await asyncio.to_thread(audit.audit_page, db_of(request), subject=subject, action=action,
                                         before=before, limit=50, titles=True, reader=user.principal.key_id,
                                         own_only=user.principal.role == Role.applicant)
    older = None
    if nxt:
        older = "/audit?" + urlencode({k: v for k, v in (("subject", subject), ("action", action),
                                                         ("before", nxt)) if v})
    return render(request, "audit.html", user, items=items, subject=subject or "", action=action or "",
                  actions=audit.ACTIONS, older=older)
