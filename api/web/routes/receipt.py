"""A check's receipt, the record of one evaluation: as a page to read and print, and as a PDF file.

The PDF is made on the server by WeasyPrint, a library that lays out HTML and CSS for print: the same template
as the page, so the two never say different things, in the server's own process (no browser to start per file).
It needs Pango from the operating system (the Makefile installs it on Debian)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from ...store import receipts, reviews
from ...store.keys import Role
from ...store.sessions import WebUser
from .. import form as webform
from ..pages import PageError, base_of, db_of, lang_of, need, render, render_text, route
from .checks import readable_check

router = APIRouter()


async def _receipt_context(request: Request, user: WebUser, check_id: str) -> dict[str, Any]:
    check = await readable_check(request, user, check_id)
    db = db_of(request)
    state = await asyncio.to_thread(reviews.state, db, check)
    receipt = await asyncio.to_thread(receipts.receipt, db, check, state["outcome"])
    rows = webform.answer_rows(lang_of(request), orjson.loads(check.proposal_json), [],
                               list(base_of(request).questions), editable=False)
    verdict = await asyncio.to_thread(receipts.full_verdict, db, check)
    return {"check": check, "verdict": verdict, "receipt": receipt, "state": state, "rows": rows}


@route(router, "/checks/{check_id}/receipt")
async def receipt_page(request: Request, check_id: str) -> Response:
    user = await need(request, Role.applicant, Role.assessor)
    return render(request, "receipt.html", user, **await _receipt_context(request, user, check_id))


def pdf_of(html: str) -> bytes:
    try:
        import weasyprint  # imported when first needed: it loads Pango, which a server without receipts lacks
    except (ImportError, OSError):
        raise PageError(503, "unavailable_title", "pdf_unavailable") from None
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


@route(router, "/checks/{check_id}/receipt.pdf")
async def receipt_pdf(request: Request, check_id: str) -> Response:
    user = await need(request, Role.applicant, Role.assessor)
    ctx = await _receipt_context(request, user, check_id)
    html = render_text(request, "receipt_pdf.html", user, **ctx)
    pdf = await asyncio.to_thread(pdf_of, html)
    name = (ctx["check"].reference or ctx["check"].id).replace("/", "-")
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}.pdf"', "Cache-Control": "no-store",
        "Content-Language": lang_of(request), "X-Content-Type-Options": "nosniff"})
