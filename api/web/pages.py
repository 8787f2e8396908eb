"""The web pages' shell: rendering, sign-in state, the error pages, and how domain errors become form errors.

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
import hmac
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
import yaml
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from biotoets.engine.verdict import DISCLAIMER

from ..http.deps import state_of
from ..http.problems import Problem
from ..http.receive import choose_lang, read_body
from ..store.db import Database, as_utc, utcnow
from ..store.keys import Role
from ..store.sessions import WebUser, load_session
from ..vocab import AMSTERDAM, EFFECTS, LANGS
from . import form as webform
from .citations import cite, quote_in
from .words import audit_details, summary_text

SESSION_COOKIE = "biotoets_session"
LOGIN_COOKIE = "biotoets_login"
LANG_COOKIE = "biotoets_lang"
MAX_FORM_BYTES = 100_000
MAX_FORM_FIELDS = 500
HERE = Path(str(resources.files("biotoets.api.web")))

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(HERE / "templates")),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- helpers --------------------------------------------------------------------------------------
class Redirect(Exception):
    def __init__(self, to: str) -> None:
        self.to = to


class PageError(Exception):
    """Answer with an error page (status, title key, text key)."""

    def __init__(self, status: int, title: str, text: str) -> None:
        self.status, self.title, self.text = status, title, text


def local_path(target: str | None, default: str = "/") -> str:
    """Only paths on this site (never '//host' or a scheme): no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def lang_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen in LANGS:
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
    local = as_utc(value).astimezone(AMSTERDAM)  # the time people here read on their clocks (CET/CEST)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


# -- what every page takes from the request ------------------------------------------------------------
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


def help_of(request: Request) -> dict[str, dict[str, str]]:
    """Help on the questions that need a legal distinction: ``help_nl``/``help_en`` of rules/questions.yaml, read
    from the rule base's own copy of the file (the engine keeps only the question texts), once per app."""
    cached: dict[str, dict[str, str]] | None = getattr(request.app.state, "web_help", None)
    if cached is None:
        doc = yaml.safe_load(base_of(request).files["questions.yaml"])
        cached = {fact: {"nl": q["help_nl"], "en": q["help_en"]} for fact, q in doc["questions"].items()
                  if "help_nl" in q and "help_en" in q}
        request.app.state.web_help = cached
    return cached


def questions_of(request: Request) -> dict[str, Any]:
    """The rule base's question texts as dictionaries, built once per app."""
    cached: dict[str, Any] | None = getattr(request.app.state, "web_questions", None)
    if cached is None:
        cached = {k: v.as_dict() for k, v in base_of(request).questions.items()}
        request.app.state.web_questions = cached
    return cached


# -- rendering -----------------------------------------------------------------------------------------
def render(request: Request, template: str, user: WebUser | None, status: int = 200,
           headers: Mapping[str, str] | None = None, **ctx: Any) -> HTMLResponse:
    lang = lang_of(request)
    page = render_text(request, template, user, **ctx)
    response = HTMLResponse(page, status_code=status, headers=dict(headers or {}))
    response.headers["Content-Language"] = lang
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; "
                                                   "frame-ancestors 'none'; form-action 'self'")
    response.headers["Referrer-Policy"] = "same-origin"
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True,
                            secure=request.url.scheme == "https")
    return response


def render_text(request: Request, template: str, user: WebUser | None, **ctx: Any) -> str:
    """A template rendered in the request's language, with the helpers every page uses."""
    lang = lang_of(request)
    tx = webform.texts()
    other = "en" if lang == "nl" else "nl"
    query = dict(request.query_params)
    query["lang"] = other
    return _env.get_template(template).render(
        lang=lang, other_lang=other, user=user, csrf=user.csrf if user else "",
        switch_url=f"{local_path(request.url.path)}?{urlencode(query)}", path=str(request.url.path),
        t=lambda key: tx.t(key, lang), fact_label=lambda f: webform.fact_label(f, lang),
        value_label=lambda f, v: webform.value_label(f, v, lang), field_id=webform.field_id,
        verdict_text=lambda e: tx.t(f"verdict_{e}", lang), status_text=lambda s: tx.t(f"status_{s}", lang),
        pick=lambda text: text.get(lang, next(iter(text.values()), "")) if isinstance(text, Mapping) else text,
        when=_when, cite=lambda text: cite(text, lang), quote=lambda c: quote_in(c, lang, _sources(request)),
        audit_details=lambda data, skip=("check",): audit_details(data, lang, skip),
        audit_action=lambda a: _audit_action(a, lang), summary_text=lambda v: summary_text(v, lang),
        domains=lambda ds: ", ".join(_domain(request, d, lang) for d in ds),
        shown_questions=_shown_questions, ground_title=lambda g: _ground_title(g, lang),
        disclaimer=DISCLAIMER.get(lang), request_return=request.query_params.get("return", ""),
        request_done=request.query_params.get("done", ""), **ctx)


def _sources(request: Request) -> Mapping[str, Any]:
    base = state_of(request).service.base
    return base.sources if base is not None else {}


def _domain(request: Request, domain: str, lang: str) -> str:
    base = state_of(request).service.base
    title = base.domains.get(domain) if base is not None else None
    return title.get(lang) if title is not None else domain


def _ground_title(ground: Mapping[str, Any], lang: str) -> str:
    """A ground's title; the engine's 'what was checked' line (its domains by id) in the page's own words."""
    if ground["rule"] == "_checked":
        return str(webform.texts().t("grounds_none", lang))
    return str(ground["title"][lang])


def _shown_questions(verdict: Mapping[str, Any]) -> list[Any]:
    """The verdict's open questions as the form asks them: a question the form asks in other words (the items'
    codes, asked as the items in words) once, not twice."""
    facts = {q["fact"] for q in verdict["questions"]}
    return [q for q in verdict["questions"]
            if q["fact"] not in webform.ASKED_IN_WORDS or webform.ASKED_IN_WORDS[q["fact"]] not in facts]


def _audit_action(action: str, lang: str) -> str:
    entry = webform.texts().audit["actions"].get(action)
    return entry[lang] if entry else action


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
            if p.status != 503:  # (a busy engine; anything else gets the error page from the error handlers)
                raise
            e = PageError(503, "unavailable_title", "busy_text")
        except PageError as pe:
            e = pe
        user = await user_of(request) if e.status != 503 else None
        return error_response(request, user, e.status, e.title, e.text,
                              headers={"Retry-After": "5"} if e.status == 503 else None)

    return wrapped


# What an error page says for each status (title, text); a status not listed says what its class (4xx/5xx) says.
ERROR_TEXTS = {
    400: ("form_error_title", "form_unreadable"),
    401: ("forbidden_title", "forbidden_text"),
    403: ("forbidden_title", "forbidden_text"),
    404: ("page_not_found", "not_found_text"),
    405: ("method_title", "method_text"),
    409: ("conflict_title", "conflict_page_text"),
    413: ("form_error_title", "form_too_large"),
    415: ("form_error_title", "form_unreadable"),
    422: ("form_error_title", "invalid_page_text"),
    429: ("too_many_title", "too_many_text"),
    500: ("internal_title", "internal_text"),
    503: ("unavailable_title", "unavailable_text"),
}
# The headers of an error that a page keeps (what a browser or a person can use); the rest is the API's.
ERROR_HEADERS = ("allow", "retry-after", "x-correlation-id")


def error_response(request: Request, user: WebUser | None, status: int, title: str, text: str, *,
                   correlation: str = "", headers: Mapping[str, str] | None = None) -> HTMLResponse:
    """The error page: the site's layout in the page's language, what happened, a way back to the start; for a
    failure of the server only a reference to quote (never its details)."""
    return render(request, "error.html", user, status=status, headers=headers, title_key=title, text_key=text,
                  code=status, correlation=correlation)


async def error_page(request: Request, status: int, correlation: str = "",
                     headers: Mapping[str, str] | None = None) -> Response:
    """The error page for a page request that failed outside its handler's own error pages: an address no route
    has, a method the address does not take, a domain error, a failure of the server (the API answers these with
    problem documents)."""
    user = None
    if status < 500:  # (after a failure the database may be the cause: the page is shown without the menu)
        try:
            user = await user_of(request)
        except Exception:  # noqa: BLE001 - the database may be down: the page is shown without the menu
            user = None
    title, text = ERROR_TEXTS.get(status) or ERROR_TEXTS[500 if status >= 500 else 400]
    kept = {k: v for k, v in (headers or {}).items() if k.lower() in ERROR_HEADERS}
    return error_response(request, user, status, title, text, correlation=correlation, headers=kept)


def route(router: APIRouter, path: str, methods: Sequence[str] = ("GET",)) -> Any:
    """Register a page handler on the area's router, wrapped by ``page`` and left out of the OpenAPI document."""
    def register(handler: Any) -> Any:
        router.add_api_route(path, page(handler), methods=list(methods), include_in_schema=False,
                             response_class=HTMLResponse)
        return handler
    return register


def see_other(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303)
