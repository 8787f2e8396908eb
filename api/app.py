"""The FastAPI application: routes under /v1, health, errors as problem+json.

``create_app()`` is the factory uvicorn calls in each worker process. Its
lifespan opens the database (migrating it if allowed), compiles the rules on
the process's engine thread and builds the catalogue; requests then only
parse, send the proposal to the engine thread, and store.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from biotoets.engine.evaluate import ENGINE_VERSION
from biotoets.engine.host import EngineError

from . import checks, impact_api, receipts, reviews, web
from . import db as dbm
from . import observability as obs
from .auth import KeyCache, Principal, Role
from .catalogue import Catalogue
from .engine_service import EngineBusy, EngineNotReady, EngineService
from .models import (
    Check,
    CheckPage,
    Health,
    ProblemTypeDoc,
    Ready,
    RuleDocument,
    RuleList,
    SourceList,
)
from .openapi import SECURITY_SCHEME, add_docs_routes, build_openapi, load_schema, problem_responses, proposal_body
from .problems import TYPES, Problem, problem_response
from .ratelimit import FailureLimiter
from .receive import ReceivedProposal, choose_lang, receive_proposal, today
from .settings import Settings

log = logging.getLogger("biotoets.api")

DESCRIPTION = """\
Pre-check a biotechnology proposal under Dutch and EU law: **allowed**, **conditional** or **prohibited**,
with the legal grounds cited article by article, the conditions to fulfil and the questions still open.

**Decision support, not legal advice.** Every verdict carries a disclaimer; ask the competent authority
for a decision.

Authenticate with `Authorization: Bearer <key>`; keys are made with `biotoets keys create --role ROLE --name NAME`.
Errors are RFC 9457 problem documents (`application/problem+json`).
"""

JSON = "application/json"
Lang = Literal["en", "nl"]
Effect = Literal["allowed", "conditional", "prohibited"]
CheckStatus = Literal["submitted", "in_review", "confirmed", "overridden", "information_requested"]
QueueStatus = Literal["awaiting_review", "submitted", "in_review", "confirmed", "overridden", "information_requested"]


@dataclass
class AppState:
    settings: Settings
    service: EngineService
    keys: KeyCache
    db: dbm.Database | None = None
    writer: checks.CheckWriter | None = None
    catalogue: Catalogue | None = None
    schemas: dict[str, bytes] = field(default_factory=dict)
    revision: str = ""
    # Failed authentications per client address (api/ratelimit.py).
    limiter: FailureLimiter = field(default_factory=lambda: FailureLimiter(0, 0))


def state_of(request: Request) -> AppState:
    return request.app.state.biotoets  # type: ignore[no-any-return]


def json_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=JSON, headers=headers)


# -- authentication ----------------------------------------------------------------------------
def bearer_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem("unauthenticated", "The Authorization header must be 'Bearer <key>'.",
                      headers={"WWW-Authenticate": 'Bearer realm="biotoets"'})
    return key.strip()


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _refuse_if_limited(st: AppState, client: str) -> None:
    retry = st.limiter.retry_after(client)
    if retry is not None:
        obs.AUTH_LIMITED.inc()
        raise Problem("rate-limited", f"Too many requests with an invalid API key came from your address; "
                      f"try again in {retry} s.", headers={"Retry-After": str(retry)})


def _auth_failed(st: AppState, client: str) -> None:
    obs.AUTH_FAILURES.inc()
    if st.limiter.failed(client):
        log.warning("failed authentication: %d invalid keys from %s within %d s; refusing keys from it for now",
                    st.limiter.limit, client, st.limiter.window)


async def resolve_limited(request: Request, key: str) -> Principal | None:
    """The key's principal, or None -- under the failed-authentication limit (a 429 problem for a refused
    address). The API and the web sign-in both verify keys through this."""
    st = state_of(request)
    assert st.db is not None
    found, known = st.keys.get(key)
    if not found or known is None:  # only a key this process has already verified passes a refused address
        _refuse_if_limited(st, _client(request))
    principal = await st.keys.resolve(key, st.db)
    if principal is None:
        _auth_failed(st, _client(request))
    return principal


async def principal_of(request: Request, optional: bool = False) -> Principal | None:
    st = state_of(request)
    try:
        key = bearer_key(request)
    except Problem:  # a malformed Authorization header is a failed authentication too
        _refuse_if_limited(st, _client(request))
        _auth_failed(st, _client(request))
        raise
    if key is None:
        if optional:
            return None
        raise Problem("unauthenticated", "This request needs an API key: send 'Authorization: Bearer <key>'.",
                      headers={"WWW-Authenticate": 'Bearer realm="biotoets"'})
    if st.db is None:
        raise Problem("unavailable", "The server is starting; try again shortly.", headers={"Retry-After": "1"})
    principal = await resolve_limited(request, key)
    if principal is None:
        raise Problem("unauthenticated", "The API key is not valid (mistyped, unknown, revoked or expired).",
                      headers={"WWW-Authenticate": 'Bearer realm="biotoets", error="invalid_token"'})
    return principal


def requires(*roles: Role, open_setting: str | None = None) -> Callable[[Request], Awaitable[Principal | None]]:
    """A dependency that admits the given roles (and, if the setting is on, callers without a key)."""

    async def dependency(request: Request) -> Principal | None:
        optional = bool(open_setting and getattr(state_of(request).settings, open_setting))
        principal = await principal_of(request, optional=optional)
        if principal is None:
            return None
        if principal.role not in roles:
            may = " or ".join(r.value for r in roles)
            raise Problem("forbidden", f"A key with role {principal.role.value!r} may not do this; "
                          f"it needs role {may}.")
        return principal

    return dependency


any_role = requires(Role.applicant, Role.assessor, Role.admin, open_setting="open_evaluations")
applicant = requires(Role.applicant)
reader = requires(Role.applicant, Role.assessor)
any_key = requires(Role.applicant, Role.assessor, Role.admin)


def secured(optional: bool = False) -> dict[str, Any]:
    return {"security": [{SECURITY_SCHEME: []}] + ([{}] if optional else [])}


# -- the service's pieces, from request state ---------------------------------------------------
def database(request: Request) -> dbm.Database:
    st = state_of(request)
    if st.db is None:
        raise Problem("unavailable", "The database is not open yet.", headers={"Retry-After": "1"})
    return st.db


def writer(request: Request) -> checks.CheckWriter:
    st = state_of(request)
    if st.writer is None:
        raise Problem("unavailable", "The database is not open yet.", headers={"Retry-After": "1"})
    return st.writer


def catalogue(request: Request) -> Catalogue:
    st = state_of(request)
    if st.catalogue is None:
        raise Problem("unavailable", "The rules are not loaded yet.", headers={"Retry-After": "1"})
    return st.catalogue


async def evaluate(request: Request, received: ReceivedProposal, as_of: dt.date | None,
                   lang: str) -> dict[str, Any]:
    try:
        return await state_of(request).service.evaluate(received.proposal, as_of or today(), lang)
    except EngineNotReady:
        raise Problem("unavailable", "The rules are still being compiled; try again shortly.",
                      headers={"Retry-After": "1"}) from None
    except EngineBusy as busy:
        raise Problem("unavailable", f"The server is busy: {busy.waiting} evaluations are already waiting. Nothing "
                      "was evaluated or stored; try again in a moment.", headers={"Retry-After": "1"}) from None
    except EngineError as exc:
        raise InternalFault("the engine gave no verdict", exc) from exc


class InternalFault(Exception):
    """A failure inside the server (logged with a correlation id; the caller gets a 500 problem)."""

    def __init__(self, what: str, cause: BaseException | None = None) -> None:
        super().__init__(what)
        self.cause = cause


AsOf = Annotated[dt.date | None, Query(description="Apply the law of this date (YYYY-MM-DD); default: today "
                                                   "in the Netherlands.")]
LangQ = Annotated[Lang | None, Query(description="Language of the verdict's texts; default: from "
                                                 "Accept-Language, else English.")]
COMMON_PROBLEMS = (400, 401, 403, 413, 415, 422, 500, 503)
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[!-~]+$",
    description="Any text of 1-200 visible ASCII characters, new for each new proposal (a UUID will do). "
                "Sent again with the same request -- after a lost answer, a dropped connection, a timeout -- "
                "it returns the check that request stored (with 'Idempotent-Replayed: true') instead of "
                "storing another; with a different request it is refused (422, idempotency-key-reused).")]


# -- routes ----------------------------------------------------------------------------------
def add_routes(app: FastAPI) -> None:
    @app.post(
        "/v1/evaluations", tags=["evaluate"], summary="Evaluate a proposal (nothing is stored)",
        response_model=None, status_code=200,
        responses={200: {"description": "The verdict.", "content": {JSON: {"schema": {
            "$ref": "#/components/schemas/Verdict"}}}}, **problem_responses(*COMMON_PROBLEMS)},
        openapi_extra={**proposal_body("The proposal, as JSON (or YAML)."), **secured(optional=True)},
    )
    async def post_evaluation(request: Request, principal: Annotated[Principal | None, Depends(any_role)],
                              as_of: AsOf = None, lang: LangQ = None) -> Response:
        """Evaluate a proposal against the law of a date and return the verdict. Nothing is stored.

        Every role may evaluate; the server can be configured to allow this without a key.
        """
        received = await receive_proposal(request, state_of(request).settings.max_body_bytes)
        chosen = choose_lang(lang, request.headers.get("accept-language"))
        verdict = await evaluate(request, received, as_of, chosen)
        return json_response(orjson.dumps(verdict), headers={"Content-Language": chosen})

    @app.post(
        "/v1/checks", tags=["checks"], summary="Evaluate a proposal and store it as a check",
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
    async def post_check(request: Request, principal: Annotated[Principal, Depends(applicant)],
                         as_of: AsOf = None, lang: LangQ = None,
                         idempotency_key: IdempotencyKey = None) -> Response:
        """Evaluate a proposal and store it, with its verdict, ruleset hash, engine version and date.

        Only applicants create checks; the check belongs to the key that created it. With an Idempotency-Key,
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
            earlier = await stored_before(request, principal, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        verdict = await evaluate(request, received, as_of, chosen)
        new = checks.NewCheck(principal, received.raw, received.media_type, received.document,
                              received.proposal.title, verdict, chosen, idempotency_key, request_hash)
        try:
            stored = await writer(request).create(new)
        except IntegrityError:
            # The same key in a request that was stored meanwhile (two retries at once): answer with that one.
            earlier = None
            if idempotency_key is not None and request_hash is not None:
                earlier = await stored_before(request, principal, idempotency_key, request_hash)
            if earlier is None:
                raise
            return earlier
        return json_response(stored.document(), 201, headers={
            "Location": f"/v1/checks/{stored.id}", "Content-Language": chosen})

    async def stored_before(request: Request, principal: Principal, key: str, request_hash: str) -> Response | None:
        """The answer to a request sent again with its Idempotency-Key: the check it stored, or a 422 problem."""
        found = await asyncio.to_thread(checks.by_idempotency_key, database(request), principal.key_id, key)
        if found is None:
            return None
        stored, stored_hash = found
        if stored_hash != request_hash:
            raise Problem("idempotency-key-reused", "A check was already stored with this Idempotency-Key for a "
                          "different request; send a new proposal with a new key.",
                          errors=[{"parameter": "Idempotency-Key", "detail": f"already used for check {stored.id}"}])
        return json_response(stored.document(), 201, headers={
            "Location": f"/v1/checks/{stored.id}", "Content-Language": stored.lang, "Idempotent-Replayed": "true"})

    @app.get(
        "/v1/checks/{check_id}", tags=["checks"], summary="Get a stored check",
        response_model=None, responses={200: {"model": Check, "description": "The check."},
                                        **problem_responses(401, 404, 500, 503)},
        openapi_extra=secured(),
    )
    async def get_check(request: Request, check_id: str,
                        principal: Annotated[Principal, Depends(any_key)]) -> Response:
        """A check, for its owner or an assessor. Anyone else is told it does not exist (404)."""
        if len(check_id) > 36:
            raise Problem("not-found", "There is no check with this id that your key may see.")
        stored = await asyncio.to_thread(checks.get, database(request), check_id, principal)
        if stored is None:
            raise Problem("not-found", "There is no check with this id that your key may see.")
        return json_response(stored.document(), headers={"Content-Language": stored.lang})

    @app.get(
        "/v1/checks", tags=["checks"], summary="List checks, newest first",
        response_model=None, responses={200: {"model": CheckPage, "description": "One page of checks."},
                                        **problem_responses(400, 401, 403, 500, 503)},
        openapi_extra=secured(),
    )
    async def list_checks(
        request: Request, principal: Annotated[Principal, Depends(reader)],
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
        where = reviews.status_condition(status) + reviews.queue_conditions(
            open_norms=open_norms, complete=None if incomplete is None else not incomplete, min_age_days=min_age_days)
        items, last = await asyncio.to_thread(checks.list_page, database(request), principal, limit=limit,
                                              before=before, verdict=verdict, status=None, where=where)
        next_cursor = checks.encode_cursor(last) if last is not None else None
        next_link = None
        if next_cursor is not None:
            params = {k: v for k, v in (("verdict", verdict), ("status", status)) if v}
            params.update({k: str(v).lower() for k, v in (("open_norms", open_norms), ("incomplete", incomplete),
                                                          ("min_age_days", min_age_days)) if v is not None})
            params.update(limit=str(limit), cursor=next_cursor)
            next_link = "/v1/checks?" + "&".join(f"{k}={v}" for k, v in params.items())
        return json_response(orjson.dumps({"items": items, "next_cursor": next_cursor,
                                           "links": {"next": next_link}}))

    @app.get("/v1/rules", tags=["catalogue"], summary="The rules, with their citations",
             response_model=None, responses={200: {"model": RuleList, "description": "Every rule."},
                                             **problem_responses(400, 503)})
    async def list_rules(
        request: Request,
        domain: Annotated[str | None, Query(max_length=100, description="Only rules of this domain.")] = None,
        effect: Annotated[Literal["allowed", "conditional", "prohibited", "advice", "derive"] | None,
                          Query(description="Only rules with this effect.")] = None,
    ) -> Response:
        """Every rule in the rule base: id, title, effect, validity and the articles it rests on. Public."""
        cat = catalogue(request)
        if domain is not None and domain not in cat.domains:
            raise Problem("malformed-request", f"There is no domain {domain!r}.",
                          errors=[{"parameter": "domain", "detail": "one of " + ", ".join(cat.domains)}])
        return json_response(cat.rules_document(domain, effect))

    @app.get("/v1/rules/{rule_id}", tags=["catalogue"], summary="One rule, as a lawyer reads it",
             response_model=None, responses={200: {"model": RuleDocument, "description": "The rule."},
                                             **problem_responses(404, 503)})
    async def get_rule(request: Request, rule_id: str) -> Response:
        """A rule with its condition, the facts it reads (with their questions), conditions, exceptions
        and citations. Public."""
        body = catalogue(request).rule_details.get(rule_id)
        if body is None:
            raise Problem("not-found", f"There is no rule {rule_id!r}; GET /v1/rules lists them.")
        return json_response(body)

    @app.get("/v1/sources", tags=["catalogue"], summary="The legal sources the rules cite",
             response_model=None, responses={200: {"model": SourceList, "description": "Every source."},
                                             **problem_responses(503)})
    async def list_sources(request: Request) -> Response:
        """Every law, regulation, treaty and policy document in the registry, with its articles. Public."""
        return json_response(catalogue(request).sources)

    schema_response = {"description": "A JSON Schema (draft 2020-12).",
                       "content": {"application/schema+json": {"schema": {"type": "object"}}}}

    @app.get("/v1/schemas/{name}", tags=["schemas"], summary="The JSON Schema of a proposal or a verdict",
             response_model=None, responses={200: schema_response, **problem_responses(404)})
    async def get_schema(request: Request, name: Literal["proposal", "verdict"]) -> Response:
        """``proposal``: what to send. ``verdict``: what comes back. Public."""
        body = state_of(request).schemas.get(name)
        if body is None:
            raise Problem("not-found", f"The {name} schema is not available on this server.")
        return Response(body, media_type="application/schema+json")

    @app.get("/healthz", tags=["health"], summary="The process is up", response_model=Health)
    async def healthz() -> Response:
        return json_response(b'{"status":"ok"}')

    @app.get("/readyz", tags=["health"], summary="Rules compiled and database reachable",
             response_model=None, responses={200: {"model": Ready, "description": "Ready."},
                                             **problem_responses(503)})
    async def readyz(request: Request) -> Response:
        st = state_of(request)
        if st.catalogue is None or not st.service.ready:
            raise Problem("unavailable", "The rules are not compiled yet.", headers={"Retry-After": "1"})
        db = database(request)
        try:
            await asyncio.to_thread(db.ping)
        except Exception as exc:  # noqa: BLE001 - any failure means: not ready
            log.warning("readiness: database unreachable: %s", exc)
            raise Problem("unavailable", "The database cannot be reached.", headers={"Retry-After": "5"}) from None
        return json_response(orjson.dumps({
            "status": "ready", "ruleset": st.catalogue.ruleset,
            "database": "sqlite" if db.is_sqlite else "postgresql", "schema_revision": st.revision,
        }))

    @app.get("/problems/{slug}", tags=["problems"], summary="What a problem type means",
             response_model=ProblemTypeDoc, responses=problem_responses(404))
    async def problem_type(slug: str) -> Response:
        kind = TYPES.get(slug)
        if kind is None:
            raise Problem("not-found", f"There is no problem type {slug!r}.")
        return json_response(orjson.dumps({"type": kind.uri, "title": kind.title, "status": kind.status,
                                           "explanation": kind.explanation}))


# -- errors --------------------------------------------------------------------------------------
def _instance(request: Request) -> str:
    return request.url.path


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> Response:
        return exc.response(_instance(request))

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ())]
            where = loc[0] if loc else ""
            name = loc[1] if len(loc) > 1 else where
            if where == "path":
                return Problem("not-found", "There is nothing at this address.").response(_instance(request))
            errors.append({"parameter": name, "detail": _param_message(e)})
        names = ", ".join(sorted({e["parameter"] for e in errors}))
        return Problem("malformed-request", f"Invalid query parameter(s): {names}.",
                       errors=errors).response(_instance(request))

    @app.exception_handler(DataError)
    async def on_unstorable_value(request: Request, exc: DataError) -> Response:
        # A value the database refuses (PostgreSQL: text with U+0000) came from the request: the caller's to fix.
        correlation = uuid.uuid4().hex
        log.warning("unstorable value %s on %s %s: %s", correlation, request.method, request.url.path,
                    str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__)
        return Problem("invalid-input", "The request has a value the database cannot store (such as the character "
                       "U+0000 in a text); nothing was stored.", correlation_id=correlation,
                       errors=[{"pointer": "", "detail": "contains a value that cannot be stored"}],
                       ).response(_instance(request))

    @app.exception_handler(OperationalError)
    async def on_database_down(request: Request, exc: OperationalError) -> Response:
        correlation = uuid.uuid4().hex
        log.error("database error %s on %s %s: %s", correlation, request.method, request.url.path, exc)
        return Problem("unavailable", "The database cannot be reached or is busy; nothing was stored. "
                       "Try again shortly.", headers={"Retry-After": "2", "X-Correlation-ID": correlation},
                       correlation_id=correlation).response(_instance(request))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and web.wants_page(request) and hasattr(request.app.state, "missing_page"):
            return await request.app.state.missing_page(request)  # type: ignore[no-any-return]
        slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated", 403: "forbidden",
                413: "body-too-large", 415: "unsupported-media-type", 406: "not-acceptable"}.get(exc.status_code)
        if slug is None:
            slug = "malformed-request" if exc.status_code < 500 else "internal-error"
        detail = {404: "There is nothing at this address.",
                  405: f"{request.method} is not allowed here."}.get(exc.status_code, str(exc.detail))
        return Problem(slug, detail, status=exc.status_code,
                       headers=dict(exc.headers or {})).response(_instance(request))


def _param_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact"):
        return "must be a date written YYYY-MM-DD"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind in ("int_parsing", "int_type"):
        return "must be a whole number"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    return str(err.get("msg", "is invalid"))


class CatchAll:
    """Outermost guard: any failure becomes a 500 problem with a correlation id that is also logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return
        except Exception as exc:  # noqa: BLE001 - the point of this guard
            correlation = uuid.uuid4().hex
            cause = exc.cause if isinstance(exc, InternalFault) and exc.cause else exc
            log.error("internal error %s on %s %s: %s", correlation, scope.get("method"), scope.get("path"),
                      exc, exc_info=cause)
            if started:
                return
            body = Problem("internal-error", "The server failed to handle this request; nothing was stored. "
                           f"Quote correlation id {correlation} when you report it.",
                           correlation_id=correlation).body(scope.get("path"))
            response = problem_response(body, 500, {"X-Correlation-ID": correlation})
            await response(scope, receive, send)


# -- the application -------------------------------------------------------------------------------
def _startup(settings: Settings) -> tuple[dbm.Database, str]:
    db = dbm.Database(settings.database_url)
    if settings.migrate_on_start:
        dbm.upgrade(db)
    revision = dbm.current_revision(db) or ""
    if revision != dbm.head_revision():
        db.dispose()
        raise RuntimeError(f"the database schema is at revision {revision or 'none'}, this server needs "
                           f"{dbm.head_revision()}: run 'biotoets db upgrade'")
    return db, revision


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app (uvicorn calls this in every worker process)."""
    settings = settings or Settings.from_env()
    st = AppState(settings=settings, service=EngineService(settings.rules_dir, settings.engine_queue_limit),
                  keys=KeyCache(settings.key_cache_seconds, settings.key_standing_seconds),
                  limiter=FailureLimiter(settings.auth_failure_limit, settings.auth_failure_window_seconds))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        st.db, st.revision = await asyncio.to_thread(_startup, settings)
        st.writer = checks.CheckWriter(st.db)
        try:
            await st.service.start()
            assert st.service.base is not None
            st.catalogue = Catalogue.build(st.service.base, ENGINE_VERSION)
            # Keep the rule files a stored check is evaluated with, before the first check is stored (replay).
            await asyncio.to_thread(receipts.keep_snapshot, st.db, st.service.base)
            for name in ("proposal", "verdict"):
                schema = load_schema(name)
                if schema is not None:
                    st.schemas[name] = orjson.dumps(schema, option=orjson.OPT_INDENT_2)
            log.info("biotoets API ready: ruleset %s, %s", st.catalogue.ruleset["hash"][:12],
                     "SQLite" if st.db.is_sqlite else "PostgreSQL")
            yield
        finally:
            await st.service.stop()
            await asyncio.to_thread(st.writer.close)
            st.writer = None
            st.db.dispose()
            st.db = None
            st.catalogue = None

    app = FastAPI(
        title="biotoets", version=ENGINE_VERSION, description=DESCRIPTION, lifespan=lifespan,
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",  # /docs: add_docs_routes, without a CDN
        openapi_tags=[
            {"name": "evaluate", "description": "Evaluate without storing."},
            {"name": "checks", "description": "Stored checks: create, read, list."},
            {"name": "review", "description": "Assessors' review of stored checks, receipts, replay, audit log."},
            {"name": "catalogue", "description": "The rules and the legal sources they cite (public)."},
            {"name": "schemas", "description": "JSON Schemas of proposals and verdicts (public)."},
            {"name": "health", "description": "Liveness and readiness."},
            {"name": "problems", "description": "Explanations of the error types."},
        ],
    )
    app.state.biotoets = st
    add_routes(app)
    reviews.add_routes(app)  # review workflow, receipts, replay, audit log (api/reviews.py)
    web.add_routes(app)  # the web pages (api/web.py)
    impact_api.add_routes(app)  # policy scenarios and impact analysis for admins (api/impact_api.py)
    add_docs_routes(app)
    obs.add_metrics_route(app, None if settings.metrics_public else requires(Role.admin))  # GET /metrics
    add_error_handlers(app)
    app.add_middleware(CatchAll)
    app.add_middleware(obs.Observe, access=settings.access_log)  # outermost: request id, metrics, access log

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
