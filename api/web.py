"""The web pages: server-rendered HTML (Jinja2) for applicants and assessors, with sessions and CSRF tokens.

People sign in with their API key. The server keeps the session (``web_sessions``,
only a hash of its token) and the browser a cookie with the token: HttpOnly,
SameSite=Lax, Secure when the request came over HTTPS. A session ends when the
person signs out, after ``SESSION_HOURS``, or at once when the key is revoked.
Every form carries the session's CSRF token; a form without the right token
changes nothing. The sign-in form itself is protected by a double-submit token.

Applicants: a start page, the form (``webform``), check your answers, the result
with its conditions as a checklist, answering an assessor's questions, a
printable receipt. Assessors: the review queue, a check's page (answers beside
the verdict, grounds, citations, conditions, open norms and the rule trace)
with the review form, replay, and the audit log (read-only).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
import orjson
from fastapi import FastAPI, Request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from biotoets.engine.verdict import DISCLAIMER

from . import answers as ans
from . import audit, checks, receipts, reviews, webform
from .auth import Principal, Role, expired
from .db import MAX_SEQ, ApiKey, Database, WebSession, as_utc, dumps, utcnow
from .problems import Problem
from .receive import choose_lang, read_body, validate_proposal

SESSION_COOKIE = "biotoets_session"
LOGIN_COOKIE = "biotoets_login"
LANG_COOKIE = "biotoets_lang"
SESSION_HOURS = 12
MAX_FORM_BYTES = 100_000
MAX_FORM_FIELDS = 500
HERE = Path(str(resources.files("biotoets.api")))
EFFECTS = ("allowed", "conditional", "prohibited")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(HERE / "templates")),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- sessions -------------------------------------------------------------------------------------
@dataclass
class WebUser:
    principal: Principal
    session: str  # the hash of the token: the row's id
    csrf: str
    draft: dict[str, Any] | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_session(db: Database, principal: Principal) -> str:
    """A new session for a verified key; returns the token for the cookie (expired sessions are cleared)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.write() as conn:
        conn.execute(delete(WebSession).where(WebSession.expires_at < now))
        conn.execute(WebSession.__table__.insert().values(
            id=_digest(token), key_id=principal.key_id, created_at=now,
            expires_at=now + dt.timedelta(hours=SESSION_HOURS), csrf=secrets.token_urlsafe(32), draft_json=None))
        # Who signed in to the web pages, and when (never the token; failed attempts are counted, not chained).
        audit.append(conn, actor=principal.key_id, action="session.started", subject=principal.key_id,
                     data={"key": principal.key_id, "role": principal.role.value})
    return token


def load_session(db: Database, token: str) -> WebUser | None:
    """The signed-in person, if the token names a live session of a key that is not revoked."""
    if not token or len(token) > 200:
        return None
    with db.read() as conn:
        row = conn.execute(
            select(WebSession.id, WebSession.expires_at, WebSession.csrf, WebSession.draft_json, ApiKey.id.label("key"),
                   ApiKey.name, ApiKey.role, ApiKey.revoked_at, ApiKey.expires_at.label("key_expires_at"))
            .join(ApiKey, ApiKey.id == WebSession.key_id).where(WebSession.id == _digest(token))
        ).one_or_none()
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= utcnow() or expired(row.key_expires_at):
        return None
    draft = orjson.loads(row.draft_json) if row.draft_json else None
    return WebUser(Principal(row.key, row.name, Role(row.role)), row.id, row.csrf, draft)


def save_draft(db: Database, session: str, draft: Mapping[str, Any] | None) -> None:
    with db.write() as conn:
        conn.execute(update(WebSession).where(WebSession.id == session)
                     .values(draft_json=dumps(draft) if draft is not None else None))


def end_session(db: Database, session: str, principal: Principal) -> None:
    with db.write() as conn:
        gone = conn.execute(delete(WebSession).where(WebSession.id == session)).rowcount
        if gone:
            audit.append(conn, actor=principal.key_id, action="session.ended", subject=principal.key_id,
                         data={"key": principal.key_id})


# -- helpers --------------------------------------------------------------------------------------
class Redirect(Exception):
    def __init__(self, to: str) -> None:
        self.to = to


class PageError(Exception):
    """Answer with an error page (status, title key, text key)."""

    def __init__(self, status: int, title: str, text: str) -> None:
        self.status, self.title, self.text = status, title, text


def wants_page(request: Request) -> bool:
    """A browser's request for a page: it accepts HTML and the address is not one of the API's."""
    path = request.url.path
    api = path.startswith(("/v1/", "/problems/", "/docs", "/static/")) or path in (
        "/v1", "/metrics", "/healthz", "/readyz", "/openapi.json")
    return not api and request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", "")


def local_path(target: str | None, default: str = "/") -> str:
    """Only paths on this site (never '//host' or a scheme): no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def lang_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in ("nl", "en"):
        return chosen
    return choose_lang(None, request.headers.get("accept-language"))


async def read_form(request: Request) -> dict[str, list[str]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise PageError(415, "form_error_title", "form_unreadable")
    try:
        data = await read_body(request, MAX_FORM_BYTES)
    except Problem as exc:  # over the limit, or a Content-Length that is no number
        raise PageError(exc.status, "form_error_title",
                        "form_too_large" if exc.status == 413 else "form_unreadable") from None
    try:
        return parse_qs(data.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # not UTF-8 (UnicodeDecodeError), or more fields than any of our forms has
        raise PageError(400, "form_error_title", "form_unreadable") from None


def same_token(sent: str, expected: str) -> bool:
    """A constant-time comparison of a posted token with the real one; any text may be posted (hmac's str
    comparison refuses non-ASCII text with an exception, so compare the UTF-8 bytes)."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def first(form: Mapping[str, Sequence[str]], name: str) -> str:
    return (form.get(name) or [""])[0]


def effect_rank(effect: str) -> int:
    return EFFECTS.index(effect)


def _age(when: dt.datetime, lang: str) -> str:
    days = (utcnow() - when).days
    tx = webform.texts()
    if days <= 0:
        return str(tx.t("today", lang))
    return f"{days} {tx.t('day' if days == 1 else 'days', lang)}"


def _when(value: dt.datetime | str) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")


# -- the routes -----------------------------------------------------------------------------------
def add_routes(app: FastAPI) -> None:  # noqa: C901 - one place for every page
    from .app import ReceivedProposal, evaluate, resolve_limited, state_of

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def db_of(request: Request) -> Database:
        st = state_of(request)
        if st.db is None:
            raise PageError(503, "unavailable_title", "unavailable_text")
        return st.db

    def base_of(request: Request) -> Any:
        base = state_of(request).service.base
        if base is None:
            raise PageError(503, "unavailable_title", "unavailable_text")
        return base

    async def user_of(request: Request) -> WebUser | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        return await asyncio.to_thread(load_session, db_of(request), token)

    async def need(request: Request, *roles: Role) -> WebUser:
        user = await user_of(request)
        if user is None:
            raise Redirect("/login?" + urlencode({"next": str(request.url.path)}))
        if roles and user.principal.role not in roles:
            raise PageError(403, "forbidden_title", "forbidden_text")
        return user

    async def posted(request: Request, user: WebUser) -> dict[str, list[str]]:
        form = await read_form(request)
        if not same_token(first(form, "csrf"), user.csrf):
            raise PageError(403, "forbidden_title", "session_expired")
        return form

    def render(request: Request, template: str, user: WebUser | None, status: int = 200,
               headers: Mapping[str, str] | None = None, **ctx: Any) -> HTMLResponse:
        lang = lang_of(request)
        tx = webform.texts()
        other = "en" if lang == "nl" else "nl"
        query = dict(request.query_params)
        query["lang"] = other
        page = _env.get_template(template).render(
            lang=lang, other_lang=other, user=user, csrf=user.csrf if user else "",
            switch_url=f"{local_path(request.url.path)}?{urlencode(query)}", path=str(request.url.path),
            t=lambda key: tx.t(key, lang), fact_label=lambda f: webform.fact_label(f, lang),
            value_label=lambda f, v: webform.value_label(f, v, lang), field_id=webform.field_id,
            verdict_text=lambda e: tx.t(f"verdict_{e}", lang), status_text=lambda s: tx.t(f"status_{s}", lang),
            pick=lambda text: text[lang] if isinstance(text, Mapping) else text, when=_when,
            disclaimer=DISCLAIMER.get(lang), request_return=request.query_params.get("return", ""),
            request_done=request.query_params.get("done", ""), **ctx)
        response = HTMLResponse(page, status_code=status, headers=dict(headers or {}))
        response.headers["Content-Language"] = lang
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; "
                                                       "frame-ancestors 'none'; form-action 'self'")
        response.headers["Referrer-Policy"] = "same-origin"
        if request.query_params.get("lang") in ("nl", "en"):
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True,
                                secure=request.url.scheme == "https")
        return response

    def page(handler: Any) -> Any:
        """Turn Redirect, PageError and a 503 problem (engine busy or not ready) into responses, the same way for
        every page."""

        @functools.wraps(handler)  # FastAPI reads the handler's own parameters through __wrapped__
        async def wrapped(request: Request, *args: Any, **kwargs: Any) -> Response:
            try:
                return await handler(request, *args, **kwargs)  # type: ignore[no-any-return]
            except Redirect as r:
                return RedirectResponse(r.to, status_code=303)
            except Problem as p:
                if p.status != 503:  # (a busy engine; anything else is the API's to answer)
                    raise
                e = PageError(503, "unavailable_title", "busy_text")
            except PageError as pe:
                e = pe
            user = await user_of(request) if e.status != 503 else None
            return render(request, "error.html", user, status=e.status, title_key=e.title, text_key=e.text,
                          headers={"Retry-After": "5"} if e.status == 503 else None)

        return wrapped

    async def missing_page(request: Request) -> Response:
        """The 404 page for a browser that asked for an address no route has (API clients get a problem)."""
        try:
            user = await user_of(request)
        except Exception:  # noqa: BLE001 - the database may be down: the page is shown without the menu
            user = None
        return render(request, "error.html", user, status=404, title_key="page_not_found", text_key="not_found_text")

    app.state.missing_page = missing_page

    def route(path: str, methods: Sequence[str] = ("GET",)) -> Any:
        def register(handler: Any) -> Any:
            app.add_api_route(path, page(handler), methods=list(methods), include_in_schema=False,
                              response_class=HTMLResponse)
            return handler
        return register

    def see_other(to: str) -> RedirectResponse:
        return RedirectResponse(to, status_code=303)

    # -- signing in and out ---------------------------------------------------------------------------
    @route("/")
    async def home(request: Request) -> Response:
        user = await user_of(request)
        if user is None:
            return see_other("/login")
        if user.principal.role == Role.assessor:
            return see_other("/queue")
        if user.principal.role == Role.admin:
            return see_other("/audit")
        return see_other("/apply")

    @route("/login")
    async def login_page(request: Request) -> Response:
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        response = render(request, "login.html", None, login_csrf=token, next=local_path(
            request.query_params.get("next"), ""), errors=[], signed_out=request.query_params.get("out") == "1")
        response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
        return response

    @route("/login", methods=("POST",))
    async def login(request: Request) -> Response:
        form = await read_form(request)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or not same_token(first(form, "csrf"), cookie):
            raise PageError(403, "forbidden_title", "session_expired")
        key = first(form, "key").strip()
        next_path = local_path(first(form, "next"), "/")
        principal = None
        if key:  # (under the failed-authentication limit of the API: api/ratelimit.py)
            db_of(request)  # the database is open
            principal = await resolve_limited(request, key)
        if principal is None:
            tx = webform.texts()
            lang = lang_of(request)
            message = tx.t("login_missing" if not key else "login_wrong", lang)
            return render(request, "login.html", None, status=400 if not key else 401, login_csrf=cookie,
                          next=next_path if next_path != "/" else "",
                          errors=[{"field": "key", "text": message}], signed_out=False)
        token = await asyncio.to_thread(create_session, db_of(request), principal)
        response = see_other(next_path)
        response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", path="/")
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @route("/logout", methods=("POST",))
    async def logout(request: Request) -> Response:
        user = await need(request)
        await posted(request, user)
        await asyncio.to_thread(end_session, db_of(request), user.session, user.principal)
        response = see_other("/login?out=1")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- the applicant's form -------------------------------------------------------------------------
    async def store_draft(request: Request, user: WebUser, draft: dict[str, Any] | None) -> None:
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

    @route("/apply")
    async def apply_start(request: Request) -> Response:
        user = await need(request, Role.applicant)
        resumable = bool(user.draft and user.draft.get("started"))
        return render(request, "apply_start.html", user, resumable=resumable)

    @route("/apply", methods=("POST",))
    async def apply_begin(request: Request) -> Response:
        user = await need(request, Role.applicant)
        await posted(request, user)
        draft = webform.new_draft()
        draft["started"] = True
        await store_draft(request, user, draft)
        return see_other("/apply/about")

    start = webform.texts().start

    def gate_rows(lang: str, facts: Sequence[str], draft: Mapping[str, Any], form: Mapping[str, Any] | None,
                  errors: Mapping[str, str]) -> list[dict[str, Any]]:
        known = webform.known(draft)
        base_questions = questions_text
        rows = []
        for fact in facts:
            raw = (form or {}).get(fact) or webform.raw_of(fact, known, draft["unknown"])
            rows.append({"fact": fact, "name": fact, "widget": webform.widget(fact, lang), "raw": raw,
                         "question": base_questions.get(fact), "error": errors.get(fact),
                         "help": start["help"].get(fact)})
        return rows

    questions_text: dict[str, Any] = {}

    def load_questions(request: Request) -> None:
        if not questions_text:
            questions_text.update({k: v.as_dict() for k, v in base_of(request).questions.items()})

    @route("/apply/about")
    async def about_page(request: Request) -> Response:
        user = await need(request, Role.applicant)
        draft = draft_of(user)
        load_questions(request)
        lang = lang_of(request)
        return render(request, "apply_about.html", user, rows=gate_rows(lang, start["about"], draft, None, {}),
                      title_value=draft["proposal"].get("title", ""), errors=[])

    @route("/apply/about", methods=("POST",))
    async def about_post(request: Request) -> Response:
        user = await need(request, Role.applicant)
        form = await posted(request, user)
        draft = draft_of(user)
        load_questions(request)
        lang = lang_of(request)
        reads, errors = webform.read_answers(start["about"], form, lang)
        title = first(form, "title").strip()
        if len(title) > 500:
            errors["title"] = str(webform.texts().t("title_too_long", lang))
        if errors:
            raw = {r.fact: r.raw for r in reads}
            return render(request, "apply_about.html", user, status=400,
                          rows=gate_rows(lang, start["about"], draft, raw, errors), title_value=title,
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
        for name, spec in start["screening"].items():
            choice = (form or {}).get(name, {}).get("answer") if form else draft["screening"].get(name)
            rows.append({"name": name, "question": spec["question"], "choice": choice or "",
                         "error": errors.get(name)})
        return rows

    @route("/apply/involves")
    async def involves_page(request: Request) -> Response:
        user = await need(request, Role.applicant)
        draft = draft_of(user)
        load_questions(request)
        lang = lang_of(request)
        return render(request, "apply_involves.html", user, rows=gate_rows(lang, start["involves"], draft, None, {}),
                      screening=screening_rows(lang, draft, None, {}), errors=[])

    @route("/apply/involves", methods=("POST",))
    async def involves_post(request: Request) -> Response:
        user = await need(request, Role.applicant)
        form = await posted(request, user)
        draft = draft_of(user)
        load_questions(request)
        lang = lang_of(request)
        reads, errors = webform.read_answers(start["involves"], form, lang)
        screening = {}
        for name in start["screening"]:
            choice = first(form, f"{name}:answer")
            if choice not in ("yes", "no", webform.UNKNOWN):
                errors[name] = str(webform.texts().t("select_answer", lang))
            screening[name] = choice
        if errors:
            raw = {r.fact: r.raw for r in reads}
            raw.update({n: {"answer": c} for n, c in screening.items()})
            return render(request, "apply_involves.html", user, status=400,
                          rows=gate_rows(lang, start["involves"], draft, raw, errors),
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
                     else start["screening"].get(key, {}).get("label", {}).get(lang, key))
            out.append({"field": webform.field_id(key), "text": f"{label}: {text}"})
        return out

    @route("/apply/next")
    async def apply_next(request: Request) -> Response:
        user = await need(request, Role.applicant)
        draft = draft_of(user)
        verdict = await evaluate_draft(request, draft)
        remaining = webform.open_questions(verdict, draft, list(base_of(request).questions))
        if not remaining:
            return see_other("/apply/check")
        return see_other(f"/apply/q/{quote(remaining[0])}")

    @route("/apply/q/{fact}")
    async def question_page(request: Request, fact: str) -> Response:
        user = await need(request, Role.applicant)
        draft = draft_of(user)
        if not ans.answerable(fact):
            raise PageError(404, "page_not_found", "not_found_text")
        return await _question(request, user, draft, fact, None, None)

    async def _question(request: Request, user: WebUser, draft: dict[str, Any], fact: str,
                        raw: Mapping[str, str] | None, error: str | None) -> Response:
        load_questions(request)
        lang = lang_of(request)
        verdict = await evaluate_draft(request, draft)
        remaining = webform.open_questions(verdict, draft, list(base_of(request).questions))
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
               "question": questions_text.get(fact), "error": error, "help": None}
        left = len([f for f in remaining if f != fact])
        errors = [{"field": webform.field_id(fact), "text": error}] if error else []
        return render(request, "apply_question.html", user, status=400 if error else 200, row=row,
                      why=webform.question_help(verdict, fact), position=position, left=left, back=back,
                      return_to=request.query_params.get("return", ""), errors=errors)

    @route("/apply/q/{fact}", methods=("POST",))
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

    @route("/apply/rest-unknown", methods=("POST",))
    async def rest_unknown(request: Request) -> Response:
        """'I don't know the rest': every question still open is answered 'I don't know'."""
        user = await need(request, Role.applicant)
        await posted(request, user)
        draft = draft_of(user)
        verdict = await evaluate_draft(request, draft)
        for fact in webform.open_questions(verdict, draft, list(base_of(request).questions)):
            draft["unknown"].append(fact)
        await store_draft(request, user, draft)
        return see_other("/apply/check")

    def answer_rows(lang: str, proposal: Mapping[str, Any], unknown: Sequence[str], order: Sequence[str],
                    editable: bool, hide_screened: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every stated fact (and every 'I don't know'), in the questions' order, with a Change link."""
        known = ans.known_facts(proposal)
        rank = {f: i for i, f in enumerate(order)}
        implied: set[str] = set()  # what "no partners" / "nothing abroad" already says, not shown twice
        if proposal.get("partners") == []:
            implied |= {"partners.countries", *ans.PARTNER_FLAGS}
        if hide_screened:
            implied |= {f for name, spec in start["screening"].items() if hide_screened.get(name) == "no"
                        for f in spec["no"]}
        facts = [f for f in known if ans.answerable(f) and f not in implied] + [f for f in unknown if f not in known]
        rows = []
        for fact in sorted(dict.fromkeys(facts), key=lambda f: rank.get(f, len(rank))):
            if fact in start["about"]:
                link = "/apply/about?return=check"
            elif fact in start["involves"]:
                link = "/apply/involves?return=check"
            else:
                link = f"/apply/q/{quote(fact)}?return=check"
            rows.append({"fact": fact, "label": webform.fact_label(fact, lang),
                         "value": webform.value_label(fact, known.get(fact), lang), "known": fact in known,
                         "link": link if editable else None, "id": webform.field_id(fact)})
        return rows

    @route("/apply/check")
    async def check_answers(request: Request) -> Response:
        user = await need(request, Role.applicant)
        draft = draft_of(user)
        lang = lang_of(request)
        order = list(base_of(request).questions)
        verdict = await evaluate_draft(request, draft)
        rows = answer_rows(lang, draft["proposal"], draft["unknown"], order, editable=True,
                           hide_screened=draft["screening"])
        screening = [{"label": spec["label"][lang], "value": webform.value_label(
            "", {"yes": True, "no": False}.get(draft["screening"].get(name, "")), lang),
            "link": "/apply/involves?return=check"} for name, spec in start["screening"].items()]
        remaining = webform.open_questions(verdict, draft, order)
        return render(request, "apply_check.html", user, rows=rows, screening=screening,
                      title_value=draft["proposal"].get("title"), remaining=remaining,
                      unknown=[r for r in rows if not r["known"]])

    @route("/apply/submit", methods=("POST",))
    async def apply_submit(request: Request) -> Response:
        user = await need(request, Role.applicant)
        await posted(request, user)
        draft = draft_of(user)
        lang = lang_of(request)
        doc = dict(draft["proposal"])
        proposal = validate_proposal(doc)
        raw = orjson.dumps(doc).decode()
        verdict = await evaluate(request, ReceivedProposal(raw, "application/json", doc, proposal), None, lang)
        writer = state_of(request).writer
        if writer is None:
            raise PageError(503, "unavailable_title", "unavailable_text")
        idem = f"web-form:{draft['id']}" if draft.get("id") else None  # (drafts from before ids: none)
        try:
            stored = await writer.create(checks.NewCheck(user.principal, raw, "application/json", doc,
                                                         proposal.title, verdict, lang, idem, None))
            check_id = stored.id
        except IntegrityError:  # the same form sent twice at once: the other request stored it
            found = idem and await asyncio.to_thread(checks.by_idempotency_key, db_of(request),
                                                     user.principal.key_id, idem)
            if not found:
                raise
            check_id = found[0].id
        await store_draft(request, user, None)
        return see_other(f"/checks/{check_id}")

    # -- checks: the applicant's result, the assessor's review page --------------------------------------
    async def readable_check(request: Request, user: WebUser, check_id: str) -> receipts.CheckRow:
        check = await asyncio.to_thread(receipts.load_check, db_of(request), check_id)
        if check is None or not checks.may_read(user.principal, check.owner):
            raise PageError(404, "page_not_found", "not_found_text")
        return check

    @route("/checks")
    async def my_checks(request: Request) -> Response:
        user = await need(request, Role.applicant, Role.assessor)
        if user.principal.role == Role.assessor:
            return see_other("/queue")
        lang = lang_of(request)
        items = await asyncio.to_thread(reviews.own_checks, db_of(request), user.principal.key_id)
        for item in items:
            item["age"] = _age(item["created_at"], lang)
        return render(request, "my_checks.html", user, items=items)

    @route("/checks/{check_id}")
    async def check_page(request: Request, check_id: str) -> Response:
        user = await need(request, Role.applicant, Role.assessor)
        check = await readable_check(request, user, check_id)
        return await _check_page(request, user, check, errors=[], form={})

    async def _check_page(request: Request, user: WebUser, check: receipts.CheckRow, errors: list[dict[str, str]],
                          form: Mapping[str, Any], status: int = 200, notice: str | None = None,
                          replay: Mapping[str, Any] | None = None) -> Response:
        db = db_of(request)
        base = base_of(request)
        load_questions(request)
        lang = lang_of(request)
        verdict = check.verdict
        state = await asyncio.to_thread(reviews.state, db, check, base.questions)
        receipt = await asyncio.to_thread(receipts.receipt, db, check, state["outcome"])
        order = list(base.questions)
        rows = answer_rows(lang, orjson.loads(check.proposal_json), [], order, editable=False)
        open_facts = {ans.asked_as(q["fact"]) for q in verdict["questions"]}
        ctx: dict[str, Any] = {
            "check": check, "verdict": verdict, "state": state, "receipt": receipt, "rows": rows,
            "open_facts": open_facts, "errors": errors, "form": form, "notice": notice, "replay": replay,
            "status_code": status,
        }
        if state["status"] == "information_requested":
            ctx["requested"] = [
                {"fact": q["fact"], "question": q["question"], "widget": webform.widget(q["fact"], lang),
                 "raw": (form.get("answers") or {}).get(q["fact"]) or {}, "error": (form.get("answer_errors") or {})
                 .get(q["fact"]), "name": f"{q['fact']}:", "help": None}
                for q in state["requested"] if ans.answerable(q["fact"])]
        if user.principal.role == Role.assessor:
            trail, _ = await asyncio.to_thread(reviews.audit_page, db, subject=check.id, limit=100)
            ctx["trail"] = trail
            ctx["owner_name"] = await asyncio.to_thread(_key_name, db, check.owner)
            return render(request, "review.html", user, status=status, **ctx)
        return render(request, "result.html", user, status=status, **ctx)

    @route("/checks/{check_id}/review", methods=("POST",))
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
            req = reviews.parse_review(body)
            await asyncio.to_thread(reviews.decide, db_of(request), check_id, user.principal, req)
        except reviews.Conflict as exc:
            return await _check_page(request, user, check, [{"field": "f-decision", "text": str(exc)}], shown,
                                     status=409)
        except Problem as exc:
            ids = {"/verdict": "f-verdict", "/reason": "f-reason", "/questions": "f-questions"}
            errors = [{"field": ids.get(e.get("pointer", "").split("/questions/")[0] if "/questions/" not in
                                        e.get("pointer", "") else "/questions", "f-decision"),
                       "text": e["detail"]} for e in exc.errors]
            return await _check_page(request, user, check, errors, shown, status=422)
        return see_other(f"/checks/{check_id}?done=review")

    @route("/checks/{check_id}/answers", methods=("POST",))
    async def answers_post(request: Request, check_id: str) -> Response:
        user = await need(request, Role.applicant)
        form = await posted(request, user)
        db = db_of(request)
        lang = lang_of(request)
        try:
            check = await asyncio.to_thread(reviews.load_for_answers, db, check_id, user.principal)
        except reviews.NotFound:
            raise PageError(404, "page_not_found", "not_found_text") from None
        except reviews.Conflict as exc:
            check = await readable_check(request, user, check_id)
            return await _check_page(request, user, check, [{"field": "answers", "text": str(exc)}], {},
                                     status=409)
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
        doc = ans.apply(orjson.loads(check.proposal_json), given)
        proposal = validate_proposal(doc)
        raw = orjson.dumps(doc).decode()
        verdict = await evaluate(request, ReceivedProposal(raw, "application/json", doc, proposal), None, check.lang)
        message = first(form, "message").strip()[: reviews.MAX_REASON] or None
        try:
            await asyncio.to_thread(reviews.store_answers, db, check, user.principal, doc, verdict, list(given),
                                    message)
        except reviews.Conflict as exc:
            return await _check_page(request, user, check, [{"field": "answers", "text": str(exc)}], {}, status=409)
        return see_other(f"/checks/{check_id}?done=answers")

    @route("/checks/{check_id}/replay", methods=("POST",))
    async def replay_post(request: Request, check_id: str) -> Response:
        user = await need(request, Role.applicant, Role.assessor)
        await posted(request, user)
        check = await readable_check(request, user, check_id)
        db = db_of(request)
        try:
            report = await receipts.replay_in_server(db, check)
            report["audit_record"] = await asyncio.to_thread(receipts.record_replay, db, user.principal.key_id,
                                                             report)
        except receipts.SnapshotError:
            report = {"missing": True}
        return render(request, "replay.html", user, check=check, report=report)

    @route("/checks/{check_id}/receipt")
    async def receipt_page(request: Request, check_id: str) -> Response:
        user = await need(request, Role.applicant, Role.assessor)
        check = await readable_check(request, user, check_id)
        db = db_of(request)
        state = await asyncio.to_thread(reviews.state, db, check)
        receipt = await asyncio.to_thread(receipts.receipt, db, check, state["outcome"])
        return render(request, "receipt.html", user, check=check, verdict=check.verdict, receipt=receipt,
                      state=state)

    # -- assessors: the queue and the audit log --------------------------------------------------------
    @route("/queue")
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

    @route("/audit")
    async def audit_log_page(request: Request) -> Response:
        user = await need(request, Role.assessor, Role.admin)
        q = request.query_params
        subject = (q.get("subject") or "").strip()[:100] or None
        action = (q.get("action") or "").strip()[:50] or None
        try:
            before = int(q.get("before") or 0) or None
        except ValueError:
            before = None
        if before is not None and not 0 < before <= MAX_SEQ:
            before = None
        items, nxt = await asyncio.to_thread(reviews.audit_page, db_of(request), subject=subject, action=action,
                                             before=before, limit=50)
        older = None
        if nxt:
            older = "/audit?" + urlencode({k: v for k, v in (("subject", subject), ("action", action),
                                                             ("before", nxt)) if v})
        return render(request, "audit.html", user, items=items, subject=subject or "", action=action or "",
                      older=older)


def _key_name(db: Database, key_id: str) -> str | None:
    with db.read() as conn:
        row = conn.execute(select(ApiKey.name).where(ApiKey.id == key_id)).first()
    return row.name if row else None
