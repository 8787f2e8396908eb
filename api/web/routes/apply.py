"""The applicant's form: start, about the proposal, what it involves, one question at a time, check your
answers, submit."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from ... import workflow
from ...documents import answers as ans
from ...documents.inputs import validate_proposal
from ...faults import NotFound
from ...http.deps import evaluate, state_of
from ...http.receive import ReceivedProposal
from ...services import create_once
from ...store import checks, reviews
from ...store.keys import Role
from ...store.sessions import WebUser, save_draft
from .. import form as webform
from ..pages import (
    PageError,
    Redirect,
    base_of,
    db_of,
    first,
    help_of,
    lang_of,
    need,
    posted,
    questions_of,
    render,
    route,
    see_other,
)

router = APIRouter()


def _start() -> dict[str, Any]:
    return webform.texts().start


async def store_draft(request: Request, user: WebUser, draft: dict[str, Any] | None) -> None:
    if draft is not None and draft.get("started"):
        webform.drop_closed(draft, base_of(request).gates)  # answers whose gate closed leave the proposal
    await asyncio.to_thread(save_draft, db_of(request), user.session, draft)


async def evaluate_draft(request: Request, draft: Mapping[str, Any]) -> dict[str, Any]:
    doc = dict(draft["proposal"])
    proposal = validate_proposal(doc)
    received = ReceivedProposal(orjson.dumps(doc).decode(), "application/json", doc, proposal)
    return await evaluate(request, received, None, lang_of(request))


def draft_of(user: WebUser) -> dict[str, Any]:
    if user.draft is None or not user.draft.get("started"):
        raise Redirect("/apply")
    return user.draft


@route(router, "/apply")
async def apply_start(request: Request) -> Response:
    user = await need(request, Role.applicant)
    resumable = bool(user.draft and user.draft.get("started"))
    return render(request, "apply_start.html", user, resumable=resumable)


@route(router, "/apply", methods=("POST",))
async def apply_begin(request: Request) -> Response:
    user = await need(request, Role.applicant)
    await posted(request, user)
    draft = webform.new_draft()
    draft["started"] = True
    await store_draft(request, user, draft)
    return see_other("/apply/about")


def gate_rows(request: Request, lang: str, facts: Sequence[str], draft: Mapping[str, Any],
              form: Mapping[str, Any] | None, errors: Mapping[str, str]) -> list[dict[str, Any]]:
    known = webform.known(draft)
    base_questions = questions_of(request)
    rows = []
    for fact in facts:
        raw = (form or {}).get(fact) or webform.raw_of(fact, known, draft["unknown"])
        rows.append({"fact": fact, "name": fact, "widget": webform.widget(fact, lang), "raw": raw,
                     "question": base_questions.get(fact), "error": errors.get(fact),
                     "help": help_of(request).get(fact)})
    return rows


@route(router, "/apply/about")
async def about_page(request: Request) -> Response:
    user = await need(request, Role.applicant)
    draft = draft_of(user)
    lang = lang_of(request)
    return render(request, "apply_about.html", user, rows=gate_rows(request, lang, _start()["about"], draft, None, {}),
                  title_value=draft["proposal"].get("title", ""), errors=[])


@route(router, "/apply/about", methods=("POST",))
async def about_post(request: Request) -> Response:
    user = await need(request, Role.applicant)
    form = await posted(request, user)
    draft = draft_of(user)
    lang = lang_of(request)
    reads, errors = webform.read_answers(_start()["about"], form, lang)
    title = first(form, "title").strip()
    if len(title) > 500:
        errors["title"] = str(webform.texts().t("title_too_long", lang))
    if errors:
        raw = {r.fact: r.raw for r in reads}
        return render(request, "apply_about.html", user, status=400,
                      rows=gate_rows(request, lang, _start()["about"], draft, raw, errors), title_value=title,
                      errors=_summary(errors, lang))
    for read in reads:
        webform.set_answer(draft, read.fact, read)
    if title:
        draft["proposal"]["title"] = title
    else:
        draft["proposal"].pop("title", None)
    await store_draft(request, user, draft)
    return see_other("/apply/check" if first(form, "return") == "check" else "/apply/involves")


def screening_rows(lang: str, draft: Mapping[str, Any], form: Mapping[str, Any] | None,
                   errors: Mapping[str, str]) -> list[dict[str, Any]]:
    rows = []
    for name, spec in _start()["screening"].items():
        choice = (form or {}).get(name, {}).get("answer") if form else draft["screening"].get(name)
        rows.append({"name": name, "question": spec["question"], "choice": choice or "",
                     "error": errors.get(name)})
    return rows


@route(router, "/apply/involves")
async def involves_page(request: Request) -> Response:
    user = await need(request, Role.applicant)
    draft = draft_of(user)
    lang = lang_of(request)
    rows = gate_rows(request, lang, _start()["involves"], draft, None, {})
    return render(request, "apply_involves.html", user, rows=rows,
                  screening=screening_rows(lang, draft, None, {}), errors=[])


@route(router, "/apply/involves", methods=("POST",))
async def involves_post(request: Request) -> Response:
    user = await need(request, Role.applicant)
    form = await posted(request, user)
    draft = draft_of(user)
    lang = lang_of(request)
    reads, errors = webform.read_answers(_start()["involves"], form, lang)
    screening = {}
    for name in _start()["screening"]:
        choice = first(form, f"{name}:answer")
        if choice not in ("yes", "no", webform.UNKNOWN):
            errors[name] = str(webform.texts().t("select_answer", lang))
        screening[name] = choice
    if errors:
        raw = {r.fact: r.raw for r in reads}
        raw.update({n: {"answer": c} for n, c in screening.items()})
        return render(request, "apply_involves.html", user, status=400,
                      rows=gate_rows(request, lang, _start()["involves"], draft, raw, errors),
                      screening=screening_rows(lang, draft, raw, errors), errors=_summary(errors, lang))
    for read in reads:
        webform.set_answer(draft, read.fact, read)
    for name, choice in screening.items():
        webform.set_screening(draft, name, choice)
    await store_draft(request, user, draft)
    return see_other("/apply/check" if first(form, "return") == "check" else "/apply/next")


def _summary(errors: Mapping[str, str], lang: str) -> list[dict[str, str]]:
    out = []
    for key, text in errors.items():
        if key == "title":
            out.append({"field": "f-title", "text": text})
            continue
        label = (webform.fact_label(key, lang) if key in ans.facts()
                 else _start()["screening"].get(key, {}).get("label", {}).get(lang, key))
        out.append({"field": webform.field_id(key), "text": f"{label}: {text}"})
    return out


@route(router, "/apply/next")
async def apply_next(request: Request) -> Response:
    user = await need(request, Role.applicant)
    draft = draft_of(user)
    verdict = await evaluate_draft(request, draft)
    remaining = webform.open_questions(verdict, draft)
    if not remaining:
        return see_other("/apply/check")
    return see_other(f"/apply/q/{quote(remaining[0])}")


@route(router, "/apply/q/{fact}")
async def question_page(request: Request, fact: str) -> Response:
    user = await need(request, Role.applicant)
    draft = draft_of(user)
    if not ans.answerable(fact):
        raise PageError(404, "page_not_found", "not_found_text")
    return await _question(request, user, draft, fact, None, None)


async def _question(request: Request, user: WebUser, draft: dict[str, Any], fact: str,
                    raw: Mapping[str, str] | None, error: str | None) -> Response:
    lang = lang_of(request)
    verdict = await evaluate_draft(request, draft)
    remaining = webform.open_questions(verdict, draft)
    asked = draft.get("asked", [])
    position = asked.index(fact) + 1 if fact in asked else len(asked) + 1
    back = "/apply/involves"
    if fact in asked and asked.index(fact) > 0:
        back = f"/apply/q/{quote(asked[asked.index(fact) - 1])}"
    elif fact not in asked and asked:
        back = f"/apply/q/{quote(asked[-1])}"
    if request.query_params.get("return") == "check":
        back = "/apply/check"
    row = {"fact": fact, "name": "", "widget": webform.widget(fact, lang),
           "raw": raw if raw is not None else webform.raw_of(fact, webform.known(draft), draft["unknown"]),
           "question": questions_of(request).get(fact), "error": error, "help": help_of(request).get(fact)}
    left = len([f for f in remaining if f != fact])
    last = left == 0 and await _opens_none(request, draft, fact)
    errors = [{"field": webform.field_id(fact), "text": error}] if error else []
    return render(request, "apply_question.html", user, status=400 if error else 200, row=row,
                  why=webform.question_help(verdict, fact), position=position, left=left, last=last, back=back,
                  return_to=request.query_params.get("return", ""), errors=errors)


async def _opens_none(request: Request, draft: Mapping[str, Any], fact: str) -> bool:
    """Whether no answer to this question opens another one (then its page may say it is the last)."""
    for value in webform.sample_answers(fact):
        trial = copy.deepcopy(dict(draft))
        try:
            webform.set_answer(trial, fact, webform.Read(fact, True, value))
        except ans.AnswerError:
            continue
        webform.drop_closed(trial, base_of(request).gates)
        if webform.open_questions(await evaluate_draft(request, trial), trial):
            return False
    return True


@route(router, "/apply/q/{fact}", methods=("POST",))
async def question_post(request: Request, fact: str) -> Response:
    user = await need(request, Role.applicant)
    form = await posted(request, user)
    draft = draft_of(user)
    if not ans.answerable(fact):
        raise PageError(404, "page_not_found", "not_found_text")
    lang = lang_of(request)
    read = webform.read_answer(fact, form, lang)
    if read.error:
        return await _question(request, user, draft, fact, read.raw, read.error)
    webform.set_answer(draft, fact, read)
    if fact not in draft["asked"]:
        draft["asked"].append(fact)
    await store_draft(request, user, draft)
    return see_other("/apply/check" if first(form, "return") == "check" else "/apply/next")


@route(router, "/apply/rest-unknown", methods=("POST",))
async def rest_unknown(request: Request) -> Response:
    """'I don't know the rest': every question still open is answered 'I don't know'."""
    user = await need(request, Role.applicant)
    await posted(request, user)
    draft = draft_of(user)
    verdict = await evaluate_draft(request, draft)
    for fact in webform.open_questions(verdict, draft):
        draft["unknown"].append(fact)
    await store_draft(request, user, draft)
    return see_other("/apply/check")


@route(router, "/apply/check")
async def check_answers(request: Request) -> Response:
    user = await need(request, Role.applicant)
    draft = draft_of(user)
    lang = lang_of(request)
    order = list(base_of(request).questions)
    verdict = await evaluate_draft(request, draft)
    rows = webform.answer_rows(lang, draft["proposal"], draft["unknown"], order, editable=True,
                       hide_screened=draft["screening"])
    screening = [{"label": spec["label"][lang], "value": webform.value_label(
        "", {"yes": True, "no": False}.get(draft["screening"].get(name, "")), lang),
        "link": "/apply/involves?return=check"} for name, spec in _start()["screening"].items()]
    remaining = webform.open_questions(verdict, draft)
    asked = draft.get("asked") or []
    back = f"/apply/q/{quote(asked[-1])}" if asked else "/apply/involves"  # the page before this one
    dropped = [webform.fact_label(f, lang) for f in draft.get("dropped", [])]
    return render(request, "apply_check.html", user, rows=rows, screening=screening, back=back,
                  title_value=draft["proposal"].get("title"), remaining=remaining,
                  unknown=[r for r in rows if not r["known"]], dropped=dropped)


@route(router, "/apply/result", methods=("POST",))
async def apply_result(request: Request) -> Response:
    """The form's end: evaluate the answers and keep the result as a draft only the applicant sees. Sending it
    to the permit office is a separate step on the result page (``/checks/{id}/submit``)."""
    user = await need(request, Role.applicant)
    await posted(request, user)
    draft = draft_of(user)
    lang = lang_of(request)
    db = db_of(request)
    doc = dict(draft["proposal"])
    proposal = validate_proposal(doc)
    raw = orjson.dumps(doc).decode()
    verdict = await evaluate(request, ReceivedProposal(raw, "application/json", doc, proposal), None, lang)
    earlier = await _own_draft(request, user, draft.get("check"))
    if earlier is not None:
        if orjson.loads(earlier.proposal_json) != doc:  # changed answers: the draft's next revision
            try:
                await asyncio.to_thread(reviews.store_draft, db, earlier, user.principal, doc, verdict)
            except workflow.Conflict:  # submitted meanwhile (another tab): these answers become a new draft
                earlier = None
        if earlier is not None:
            return see_other(f"/checks/{earlier.id}")
    if draft.get("check"):  # the draft it came from was submitted: this is a new one, with its own key
        draft["id"] = webform.new_draft()["id"]
    writer = state_of(request).writer
    if writer is None:
        raise PageError(503, "unavailable_title", "unavailable_text")
    idem = f"web-form:{draft['id']}" if draft.get("id") else None  # (drafts from before ids: none)
    new = checks.NewCheck(user.principal, raw, "application/json", doc, proposal.title, verdict, lang, idem, None,
                          status="draft")
    # The same form sent twice at once: the other request stored it, and that check is the answer.
    stored, _, _ = await create_once(writer, db, new)
    draft["check"] = stored.id  # the answers stay in the session: "change your answers" goes on from here
    await store_draft(request, user, draft)
    return see_other(f"/checks/{stored.id}")


async def _own_draft(request: Request, user: WebUser, check_id: str | None) -> checks.StoredCheck | None:
    if not check_id:
        return None
    try:
        check = await asyncio.to_thread(checks.readable, db_of(request), check_id, user.principal)
    except NotFound:
        return None
    return check if check.status == "draft" and check.owner == user.principal.key_id else None
