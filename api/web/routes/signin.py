"""Signing in with an API key (under the API's failed-authentication limit) and out."""

from __future__ import annotations

import asyncio
import secrets

from fastapi import APIRouter, Request
from starlette.responses import Response

from ...http.deps import resolve_limited
from ...store.keys import Role
from ...store.sessions import SESSION_HOURS, create_session, end_session
from .. import form as webform
from ..pages import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    PageError,
    db_of,
    first,
    lang_of,
    local_path,
    need,
    posted,
    read_form,
    render,
    route,
    same_token,
    see_other,
    user_of,
)

router = APIRouter()


@route(router, "/")
async def home(request: Request) -> Response:
    user = await user_of(request)
    if user is None:
        return see_other("/login")
    if user.principal.role == Role.assessor:
        return see_other("/queue")
    if user.principal.role == Role.admin:
        return see_other("/audit")
    return see_other("/apply")


@route(router, "/login")
async def login_page(request: Request) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", None, login_csrf=token, next=local_path(
        request.query_params.get("next"), ""), errors=[], signed_out=request.query_params.get("out") == "1")
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
    return response


@route(router, "/login", methods=("POST",))
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


@route(router, "/logout", methods=("POST",))
async def logout(request: Request) -> Response:
    user = await need(request)
    await posted(request, user)
    await asyncio.to_thread(end_session, db_of(request), user.session, user.principal)
    response = see_other("/login?out=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
