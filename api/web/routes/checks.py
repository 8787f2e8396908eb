"""A stored check's pages: the applicant's checks and result, the assessor's review page and form, answers to
an assessor's questions, submitting a draft, replay (the receipt: receipt.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from ... import workflow
from ...documents import answers as ans
from ...documents.inputs import validate_proposal
from ...faults import InvalidInput, NotFound
from ...http.deps import evaluate
from ...http.receive import ReceivedProposal
from ...services import answer_questions, replay
from ...store import audit, checks, receipts, reviews
from ...store.checks import StoredCheck
from ...store.keys import Role, key_name
from ...store.sessions import WebUser, save_draft
from .. import form as webform
from .. import history
from ..pages import (
    PageError,
    _age,
    base_of,
    db_of,
    first,
    lang_of,
    need,
    posted,
    render,
    route,
    see_other,
)
from ..words import REVIEW_FIELDS, form_errors

router = APIRouter()


async def readable_check(request: Request, user: WebUser, check_id: str) -> StoredCheck:
    try:
        return await asyncio.to_thread(checks.readable, db_of(request), check_id, user.principal)
    except NotFound:
        raise PageError(404, "page_not_found", "not_found_text") from None


@route(router, "/checks")
async def my_checks(request: Request) -> Response:
    user = await need(request, Role.applicant, Role.assessor)
    if user.principal.role == Role.assessor:
        return see_other("/queue")
    lang = lang_of(request)
    items = await asyncio.to_thread(reviews.own_checks, db_of(request), user.principal.key_id)
    for item in items:
        item["age"] = _age(item["created_at"], lang)
    return render(request, "my_checks.html", user, items=items)


@route(router, "/checks/{check_id}")
async def check_page(request: Request, check_id: str) -> Response:
    user = await need(request, Role.applicant, Role.assessor)
    check = await readable_check(request, user, check_id)
    return await _check_page(request, user, check, errors=[], form={})


async def _check_page(request: Request, user: WebUser, check: StoredCheck, errors: list[dict[str, str]],
                      form: Mapping[str, Any], status: int = 200, notice: str | None = None,
                      replay: Mapping[str, Any] | None = None) -> Response:
    db = db_of(request)
    base = base_of(request)
    lang = lang_of(request)
    verdict = await asyncio.to_thread(receipts.full_verdict, db, check)
    changes = None
    if user.principal.role != Role.assessor:
        # "What would change it" on the applicant's result page: computed when the page is asked for (once per
        # check and revision, then kept), never stored; None when the check's rule files are not stored here.
        try:
            changes = [{"label": webform.fact_label(c["fact"], lang), "verdict": c["verdict"], "rules": c["rules"],
                        "from": webform.value_label(c["fact"], c["from"], lang),
                        "to": webform.value_label(c["fact"], c["to"], lang)}
                       for c in await receipts.changes_in_server(db, check)]
        except receipts.SnapshotError:
            changes = None
    state = await asyncio.to_thread(reviews.state, db, check, base.questions)
    receipt = await asyncio.to_thread(receipts.receipt, db, check, state["outcome"])
    order = list(base.questions)
    rows = webform.answer_rows(lang, orjson.loads(check.proposal_json), [], order, editable=False)
    open_facts = {ans.asked_as(q["fact"]) for q in verdict["questions"]}
    ctx: dict[str, Any] = {
        "check": check, "verdict": verdict, "state": state, "receipt": receipt, "rows": rows,
        "open_facts": open_facts, "errors": errors, "form": form, "notice": notice, "replay": replay,
        "status_code": status, "changes": changes,
    }
    if state["status"] == "information_requested":
        ctx["requested"] = [
            {"fact": q["fact"], "question": q["question"], "widget": webform.widget(q["fact"], lang),
             "raw": (form.get("answers") or {}).get(q["fact"]) or {}, "error": (form.get("answer_errors") or {})
             .get(q["fact"]), "name": f"{q['fact']}:", "help": None}
            for q in state["requested"] if ans.answerable(q["fact"])]
    if user.principal.role == Role.assessor:
        if state["revisions"]:
            earlier = await asyncio.to_thread(reviews.earlier_proposals, db, check.id)
            ctx["history"] = history.diffs(lang, state["revisions"], earlier, orjson.loads(check.proposal_json),
                                           check.revision, verdict["verdict"], order)
        trail, _ = await asyncio.to_thread(audit.audit_page, db, subject=check.id, limit=100,
                                           reader=user.principal.key_id)
        ctx["trail"] = trail
        ctx["owner_name"] = await asyncio.to_thread(key_name, db, check.owner)
        return render(request, "review.html", user, status=status, **ctx)
    return render(request, "result.html", user, status=status, **ctx)


@route(router, "/checks/{check_id}/review", methods=("POST",))
async def review_post(request: Request, check_id: str) -> Response:
    user = await need(request, Role.assessor)
    form = await posted(request, user)
    check = await readable_check(request, user, check_id)
    lang = lang_of(request)
    tx = webform.texts()
    decision = first(form, "decision")
    body: dict[str, Any] = {"decision": decision}
    if decision == "override" and first(form, "verdict"):
        body["verdict"] = first(form, "verdict")
    if first(form, "reason").strip():
        body["reason"] = first(form, "reason")
    if decision == "request_information":
        body["questions"] = [q for q in form.get("questions", []) if q]
    shown = {"decision": decision, "verdict": first(form, "verdict"), "reason": first(form, "reason"),
             "questions": form.get("questions", [])}
    if decision not in ("start_review", "confirm", "override", "request_information"):
        errors = [{"field": "f-decision", "text": str(tx.t("decision_missing", lang))}]
        return await _check_page(request, user, check, errors, shown, status=400)
    try:
        req = workflow.parse_review(body)
        await asyncio.to_thread(reviews.decide, db_of(request), check_id, user.principal, req)
    except (workflow.Conflict, InvalidInput) as exc:
        status, errors = form_errors(exc, "f-decision", lang, REVIEW_FIELDS, body, check.verdict["verdict"])
        return await _check_page(request, user, check, errors, shown, status=status)
    return see_other(f"/checks/{check_id}?done=review")


@route(router, "/checks/{check_id}/answers", methods=("POST",))
async def answers_post(request: Request, check_id: str) -> Response:
    user = await need(request, Role.applicant)
    form = await posted(request, user)
    db = db_of(request)
    lang = lang_of(request)
    try:
        check = await asyncio.to_thread(reviews.load_for_answers, db, check_id, user.principal)
    except NotFound:
        raise PageError(404, "page_not_found", "not_found_text") from None
    except workflow.Conflict as exc:
        check = await readable_check(request, user, check_id)
        status, errors = form_errors(exc, "answers", lang)
        return await _check_page(request, user, check, errors, {}, status=status)
    state = await asyncio.to_thread(reviews.state, db, check, base_of(request).questions)
    given: dict[str, Any] = {}
    raws: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for q in state["requested"]:
        fact = q["fact"]
        if not ans.answerable(fact):
            continue
        read = webform.read_answer(fact, form, lang, prefix=f"{fact}:")
        raws[fact] = read.raw
        if read.error:
            problems[fact] = read.error
        else:
            given[fact] = read.value if read.known else None
    if problems:
        errors = [{"field": webform.field_id(f), "text": f"{webform.fact_label(f, lang)}: {m}"}
                  for f, m in problems.items()]
        return await _check_page(request, user, check, errors, {"answers": raws, "answer_errors": problems},
                                 status=400)
    async def evaluate_answered(doc: dict[str, Any]) -> dict[str, Any]:
        received = ReceivedProposal(orjson.dumps(doc).decode(), "application/json", doc, validate_proposal(doc))
        return await evaluate(request, received, None, check.lang)

    message = first(form, "message").strip()[: workflow.MAX_REASON] or None
    try:
        await answer_questions(db, check, user.principal, given, message, evaluate_answered)
    except (workflow.Conflict, InvalidInput) as exc:
        status, errors = form_errors(exc, "answers", lang)
        return await _check_page(request, user, check, errors, {"answers": raws}, status=status)
    return see_other(f"/checks/{check_id}?done=answers")


@route(router, "/checks/{check_id}/submit", methods=("POST",))
async def submit_post(request: Request, check_id: str) -> Response:
    """The applicant sends their private result to the permit office: now assessors see it."""
    user = await need(request, Role.applicant)
    await posted(request, user)
    check = await readable_check(request, user, check_id)
    try:
        await asyncio.to_thread(reviews.submit, db_of(request), check.id, user.principal)
    except NotFound:
        raise PageError(404, "page_not_found", "not_found_text") from None
    except workflow.Conflict:
        errors = [{"field": "f-submit", "text": str(webform.texts().t("already_submitted", lang_of(request)))}]
        return await _check_page(request, user, check, errors, {}, status=409)
    if user.draft and user.draft.get("check") == check.id:  # the form is done with: a new check starts afresh
        await asyncio.to_thread(save_draft, db_of(request), user.session, None)
    return see_other(f"/checks/{check.id}?done=submitted")


@route(router, "/checks/{check_id}/edit", methods=("POST",))
async def edit_post(request: Request, check_id: str) -> Response:
    """Change the answers of a draft: the form opens on "check your answers" with the draft's answers."""
    user = await need(request, Role.applicant)
    await posted(request, user)
    check = await readable_check(request, user, check_id)
    if check.status != "draft":
        errors = [{"field": "f-submit", "text": str(webform.texts().t("already_submitted", lang_of(request)))}]
        return await _check_page(request, user, check, errors, {}, status=409)
    if not (user.draft and user.draft.get("check") == check.id):  # resumed from "My checks" in a new session
        draft = webform.new_draft()
        draft.update(started=True, check=check.id, proposal=orjson.loads(check.proposal_json))
        await asyncio.to_thread(save_draft, db_of(request), user.session, draft)
    return see_other("/apply/check")


@route(router, "/checks/{check_id}/replay", methods=("POST",))
async def replay_post(request: Request, check_id: str) -> Response:
    user = await need(request, Role.applicant, Role.assessor)
    await posted(request, user)
    check = await readable_check(request, user, check_id)
    db = db_of(request)
    try:
        report = await replay(db, check, user.principal)
    except receipts.SnapshotError:
        report = {"missing": True}
    return render(request, "replay.html", user, check=check, report=report)
